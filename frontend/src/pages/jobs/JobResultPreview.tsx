import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Skeleton from '@mui/material/Skeleton';
import Typography from '@mui/material/Typography';

import { errorMessage } from '../../api/errors';
import { monospace } from '../../theme/theme';
import { usePreview, type Job } from './jobsApi';

/** The transcript (by speaker for `both`), or the speaker turns of a diarization. */
export function JobResultPreview({ job }: { job: Job }) {
  const preview = usePreview(job);
  if (preview.error) return <Alert severity="error">{errorMessage(preview.error)}</Alert>;
  if (preview.data === undefined) return <Skeleton variant="rectangular" height={80} />;
  if (!preview.data.trim()) {
    return (
      <Typography color="text.secondary" data-testid="job-result-text">
        The result is empty (no speech found).
      </Typography>
    );
  }
  return (
    <Box
      component="pre"
      data-testid="job-result-text"
      tabIndex={0}
      aria-label="Result"
      sx={{
        m: 0,
        p: 1.5,
        maxHeight: 360,
        overflow: 'auto',
        whiteSpace: 'pre-wrap',
        overflowWrap: 'anywhere',
        fontFamily: job.task === 'transcribe' ? 'inherit' : monospace,
        fontSize: 14,
        bgcolor: 'action.hover',
        borderRadius: 1,
      }}
    >
      {preview.data}
    </Box>
  );
}
