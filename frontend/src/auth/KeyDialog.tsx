import Visibility from '@mui/icons-material/Visibility';
import VisibilityOff from '@mui/icons-material/VisibilityOff';
import Alert from '@mui/material/Alert';
import Button from '@mui/material/Button';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogContentText from '@mui/material/DialogContentText';
import DialogTitle from '@mui/material/DialogTitle';
import IconButton from '@mui/material/IconButton';
import InputAdornment from '@mui/material/InputAdornment';
import Stack from '@mui/material/Stack';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useState, type FormEvent } from 'react';

import { createGatewayClient, unwrap } from '../api/client';
import { errorMessage } from '../api/errors';
import type { Me } from '../api/types';
import { authStore, useAuthState } from './authStore';

interface KeyDialogProps {
  open: boolean;
  onClose: () => void;
  /** Who the current key is, when known. */
  me: Me | undefined;
}

/**
 * Sign in with an API key: the key is checked with `GET /api/auth/me` before it is kept, so a wrong
 * key shows the server's message here and replaces nothing.
 */
export function KeyDialog({ open, onClose, me }: KeyDialogProps) {
  const auth = useAuthState();
  const [candidate, setCandidate] = useState('');
  const [reveal, setReveal] = useState(false);
  const [checking, setChecking] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  const close = () => {
    setCandidate('');
    setProblem(null);
    setReveal(false);
    onClose();
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const key = candidate.trim();
    if (!key) return;
    setChecking(true);
    setProblem(null);
    try {
      const probe = createGatewayClient({ key, promptOnUnauthorized: false });
      unwrap(await probe.GET('/api/auth/me'));
      authStore.setKey(key);
      setCandidate('');
      setReveal(false);
      onClose();
    } catch (error) {
      setProblem(errorMessage(error));
    } finally {
      setChecking(false);
    }
  };

  const clear = () => {
    authStore.clearKey();
    setCandidate('');
    setProblem(null);
  };

  const serverMessage = problem ?? auth.prompt.message;
  return (
    <Dialog open={open} onClose={close} fullWidth maxWidth="xs" aria-labelledby="key-dialog-title">
      <form onSubmit={(event) => void submit(event)} noValidate>
        <DialogTitle id="key-dialog-title">API key</DialogTitle>
        <DialogContent>
          <Stack spacing={2}>
            {serverMessage && (
              <Alert severity="error" role="alert">
                {serverMessage}
              </Alert>
            )}
            {auth.key && me && !me.open_mode && (
              <Typography variant="body2">
                Signed in as <strong>{me.name}</strong> ({me.role}).
              </Typography>
            )}
            {auth.key && (
              <DialogContentText variant="body2">
                {auth.persistence === 'local'
                  ? "The key is kept in this browser's local storage until you clear it."
                  : 'This browser refuses storage: the key is kept in memory only and forgotten on reload.'}
              </DialogContentText>
            )}
            {!auth.key && (
              <DialogContentText variant="body2">
                Paste an admin key to operate the gateway, or a client key to try the models. It stays in this
                browser and is sent only to this gateway.
              </DialogContentText>
            )}
            <TextField
              label={auth.key ? 'Another key' : 'Key'}
              type={reveal ? 'text' : 'password'}
              value={candidate}
              onChange={(event) => setCandidate(event.target.value)}
              autoComplete="off"
              autoFocus
              fullWidth
              slotProps={{
                htmlInput: { spellCheck: false, 'data-testid': 'api-key-input' },
                input: {
                  endAdornment: (
                    <InputAdornment position="end">
                      <IconButton
                        aria-label={reveal ? 'Hide the key' : 'Show the key'}
                        onClick={() => setReveal((value) => !value)}
                        edge="end"
                      >
                        {reveal ? <VisibilityOff /> : <Visibility />}
                      </IconButton>
                    </InputAdornment>
                  ),
                },
              }}
            />
          </Stack>
        </DialogContent>
        <DialogActions>
          {auth.key && (
            <Button color="warning" onClick={clear} sx={{ mr: 'auto' }}>
              Clear key
            </Button>
          )}
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="contained" disabled={!candidate.trim() || checking}>
            {checking ? 'Checking…' : 'Sign in'}
          </Button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
