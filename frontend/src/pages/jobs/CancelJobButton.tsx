import Alert from '@mui/material/Alert';
import Button from '@mui/material/Button';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogContentText from '@mui/material/DialogContentText';
import DialogTitle from '@mui/material/DialogTitle';
import { useId, useState, type SyntheticEvent } from 'react';

import { errorMessage } from '../../api/errors';
import { useCancelJob, type Job } from './jobsApi';

/** Cancel, after a confirmation that names the job. Events stop here: in a list row, no click opens the row. */
export function CancelJobButton({ job, size = 'medium' }: { job: Job; size?: 'small' | 'medium' }) {
  const [open, setOpen] = useState(false);
  const cancel = useCancelJob();
  const titleId = useId();
  const stop = (event: SyntheticEvent) => event.stopPropagation();

  return (
    <span onClick={stop} onKeyDown={stop}>
      <Button
        data-testid="job-cancel"
        color="warning"
        variant="outlined"
        size={size}
        disabled={cancel.isPending}
        onClick={() => setOpen(true)}
        aria-label={`Cancel the job of ${job.filename}`}
      >
        {cancel.isPending ? 'Cancelling…' : 'Cancel'}
      </Button>
      {cancel.error && (
        <Alert severity="error" sx={{ mt: 1 }}>
          {errorMessage(cancel.error)}
        </Alert>
      )}
      <Dialog open={open} onClose={() => setOpen(false)} aria-labelledby={titleId} maxWidth="xs" fullWidth>
        <DialogTitle id={titleId}>Cancel this job?</DialogTitle>
        <DialogContent>
          <DialogContentText>
            {job.filename} ({job.state}): the work done so far is dropped and no result is kept.
          </DialogContentText>
        </DialogContent>
        <DialogActions>
          <Button onClick={() => setOpen(false)}>Keep it</Button>
          <Button
            variant="contained"
            color="warning"
            onClick={() => {
              setOpen(false);
              cancel.mutate(job.id);
            }}
          >
            Cancel job
          </Button>
        </DialogActions>
      </Dialog>
    </span>
  );
}
