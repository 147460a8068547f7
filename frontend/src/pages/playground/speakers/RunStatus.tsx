import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import LinearProgress from '@mui/material/LinearProgress';
import Link from '@mui/material/Link';
import Typography from '@mui/material/Typography';
import { Link as RouterLink } from 'react-router';

import { ApiError, errorMessage } from '../../../api/errors';
import { formatDuration } from '../../../components/format';

export type RunState =
  | { kind: 'idle' }
  | { kind: 'busy'; elapsedS: number; attempt: number }
  | { kind: 'waiting'; error: ApiError; retryInS: number }
  | { kind: 'failed'; error: unknown };

/** 503 codes that mean "the model cannot serve yet", and what to do about each. */
function remedy(error: unknown, isAdmin: boolean): string | null {
  if (!(error instanceof ApiError)) return null;
  const where = isAdmin ? 'the Models page' : 'an admin (Models page)';
  switch (error.code) {
    case 'model_not_loaded':
      return `The model is not loaded and this gateway does not load models on demand: load it on ${where}, then try again.`;
    case 'model_error':
    case 'load_failed':
    case 'download_failed':
      return `The model could not be made ready; ${where} shows the reason.`;
    case 'model_loading':
      return 'The model is still loading; try again in a moment.';
    case 'queue_full':
    case 'rate_limit_exceeded':
      return error.retryAfterS ? `Try again in ${error.retryAfterS} s.` : 'Try again in a moment.';
    default:
      return null;
  }
}

/** What the run is doing: busy with the elapsed time, waiting for a model to load, or the server's error. */
export function RunStatus({
  state,
  isAdmin,
  onRetry,
  onCancel,
}: {
  state: RunState;
  isAdmin: boolean;
  onRetry: () => void;
  onCancel: () => void;
}) {
  return (
    <Box data-testid="speakers-status" role="status" aria-live="polite" sx={{ my: 2 }}>
      {state.kind === 'busy' && (
        <Box>
          <Typography variant="body2" sx={{ mb: 0.5 }}>
            Finding the speakers and their words…{' '}
            {state.elapsedS < 60 ? `${state.elapsedS.toFixed(1)} s` : formatDuration(state.elapsedS)}
            {state.attempt > 1 ? ` (try ${state.attempt})` : ''}
          </Typography>
          <LinearProgress aria-label="Diarizing and transcribing" />
        </Box>
      )}
      {state.kind === 'waiting' && (
        <Alert
          severity="info"
          action={
            <Box sx={{ display: 'flex', gap: 1 }}>
              <Button color="inherit" size="small" onClick={onRetry}>
                Retry now
              </Button>
              <Button color="inherit" size="small" onClick={onCancel}>
                Cancel
              </Button>
            </Box>
          }
        >
          {state.error.message}
          <Typography variant="body2" component="span" sx={{ display: 'block', mt: 0.5 }}>
            A model loads on its first request, which takes a while. Trying again in{' '}
            {Math.max(0, Math.ceil(state.retryInS))} s.
          </Typography>
        </Alert>
      )}
      {state.kind === 'failed' && (
        <Alert
          severity="error"
          action={
            state.error instanceof ApiError && (state.error.status === 503 || state.error.status === 429) ? (
              <Button color="inherit" size="small" onClick={onRetry}>
                Try again
              </Button>
            ) : undefined
          }
        >
          {errorMessage(state.error)}
          {remedy(state.error, isAdmin) && (
            <Typography variant="body2" component="span" sx={{ display: 'block', mt: 0.5 }}>
              {remedy(state.error, isAdmin)}{' '}
              {isAdmin && state.error instanceof ApiError && state.error.status === 503 && (
                <Link component={RouterLink} to="/models" color="inherit">
                  Open Models
                </Link>
              )}
            </Typography>
          )}
        </Alert>
      )}
    </Box>
  );
}
