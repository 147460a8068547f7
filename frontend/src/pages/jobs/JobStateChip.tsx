import Chip from '@mui/material/Chip';

import type { JobState } from './jobsApi';

const STATE_COLORS: Record<JobState, 'default' | 'info' | 'success' | 'error' | 'warning'> = {
  queued: 'default',
  running: 'info',
  succeeded: 'success',
  failed: 'error',
  cancelled: 'warning',
};

/** The job's state, in the gateway's word for it. */
export function JobStateChip({ state }: { state: JobState }) {
  return (
    <Chip
      component="span" // phrasing content: it sits inside headers' <p> too
      data-testid="job-state"
      label={state}
      color={STATE_COLORS[state]}
      size="small"
      variant={state === 'queued' ? 'outlined' : 'filled'}
    />
  );
}
