import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogContentText from '@mui/material/DialogContentText';
import DialogTitle from '@mui/material/DialogTitle';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useState, type FormEvent } from 'react';

import { errorMessage } from '../../api/errors';
import { useSetHuggingfaceToken } from '../../api/queries';
import type { HuggingFaceToken } from '../../api/types';
import { monospace } from '../../theme/theme';

function TokenDialog({ onClose }: { onClose: () => void }) {
  const [token, setToken] = useState('');
  const mutation = useSetHuggingfaceToken();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    mutation.mutate(token.trim(), { onSuccess: onClose });
  };
  return (
    <Dialog open onClose={onClose} aria-labelledby="hf-token-title" maxWidth="xs" fullWidth>
      <form onSubmit={submit} noValidate>
        <DialogTitle id="hf-token-title">Hugging Face token</DialogTitle>
        <DialogContent>
          <DialogContentText variant="body2" sx={{ mb: 2 }}>
            Gated models (pyannote, some Qwen and Canary repos) need a token with access to them. The gateway
            keeps it on the server; this page only ever shows its last four characters.
          </DialogContentText>
          {mutation.isError && (
            <Alert severity="error" sx={{ mb: 2 }}>
              {errorMessage(mutation.error)}
            </Alert>
          )}
          <TextField
            label="Token"
            type="password"
            value={token}
            onChange={(event) => setToken(event.target.value)}
            autoComplete="off"
            autoFocus
            fullWidth
            placeholder="hf_…"
            slotProps={{ htmlInput: { spellCheck: false } }}
          />
        </DialogContent>
        <DialogActions>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="contained" disabled={!token.trim() || mutation.isPending}>
            Save
          </Button>
        </DialogActions>
      </form>
    </Dialog>
  );
}

/** The token's masked form and where it is kept; set or remove it. Never shows the token. */
export function HuggingFaceTokenCard({ token, cacheDir }: { token: HuggingFaceToken; cacheDir: string }) {
  const [editing, setEditing] = useState(false);
  const remove = useSetHuggingfaceToken();
  return (
    <Card>
      <CardContent
        sx={{
          display: 'flex',
          flexWrap: 'wrap',
          gap: 2,
          alignItems: 'center',
          justifyContent: 'space-between',
        }}
      >
        <Box sx={{ minWidth: 0 }}>
          <Typography variant="h3" component="h2">
            Hugging Face token
          </Typography>
          <Typography variant="body2" sx={{ mt: 0.5 }} data-testid="hf-token-state">
            {token.configured ? (
              <>
                Set: <span style={{ fontFamily: monospace }}>hf_••••••••{token.last4}</span>
              </>
            ) : (
              'Not set: public models download without one.'
            )}
          </Typography>
          <Typography variant="caption" color="text.secondary" sx={{ overflowWrap: 'anywhere' }}>
            Stored on the server in {cacheDir}/.hf_token, readable by the gateway only (HUGGINGFACE_TOKEN sets
            it at start).
          </Typography>
          {remove.isError && <Alert severity="error">{errorMessage(remove.error)}</Alert>}
        </Box>
        <Box sx={{ display: 'flex', gap: 1 }}>
          {token.configured && (
            <Button color="warning" onClick={() => remove.mutate(null)} disabled={remove.isPending}>
              Remove
            </Button>
          )}
          <Button variant="outlined" onClick={() => setEditing(true)}>
            {token.configured ? 'Replace' : 'Set token'}
          </Button>
        </Box>
      </CardContent>
      {editing && <TokenDialog onClose={() => setEditing(false)} />}
    </Card>
  );
}
