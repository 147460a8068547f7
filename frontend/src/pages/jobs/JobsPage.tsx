import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Skeleton from '@mui/material/Skeleton';
import Typography from '@mui/material/Typography';

import { errorMessage } from '../../api/errors';
import { useMe } from '../../api/queries';
import { PageHeader } from '../../components/PageHeader';
import { isFinished, useJobs } from './jobsApi';
import { JobList } from './JobList';
import { SubmitJobForm } from './SubmitJobForm';

export default function JobsPage() {
  const me = useMe();
  const jobs = useJobs();
  const everyone = me.data?.role === 'admin';
  const busy = jobs.data?.filter((job) => !isFinished(job.state)).length ?? 0;

  return (
    <>
      <PageHeader
        title="Jobs"
        subtitle="Long audio in the background: transcribe it, find who spoke when, or both, then download the result."
      />
      <SubmitJobForm />
      <Box sx={{ display: 'flex', flexWrap: 'wrap', alignItems: 'baseline', gap: 2, mb: 1.5 }}>
        <Typography variant="h2">{everyone ? 'All jobs' : 'Your jobs'}</Typography>
        {jobs.data && (
          <Typography variant="body2" color="text.secondary" aria-live="polite">
            {jobs.data.length} job{jobs.data.length === 1 ? '' : 's'}
            {busy ? ` · ${busy} in progress` : ''}
          </Typography>
        )}
      </Box>
      {jobs.error && (
        <Alert severity="error" sx={{ mb: 2 }}>
          {errorMessage(jobs.error)}
        </Alert>
      )}
      {!jobs.data ? (
        !jobs.error && <Skeleton variant="rectangular" height={160} />
      ) : jobs.data.length === 0 ? (
        <Typography color="text.secondary">No job yet: submit a file above.</Typography>
      ) : (
        <JobList jobs={jobs.data} showOwner={everyone} />
      )}
    </>
  );
}
