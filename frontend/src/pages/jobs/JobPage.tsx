import ArrowBackIcon from '@mui/icons-material/ArrowBack';
import Alert from '@mui/material/Alert';
import AlertTitle from '@mui/material/AlertTitle';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Chip from '@mui/material/Chip';
import Link from '@mui/material/Link';
import Skeleton from '@mui/material/Skeleton';
import Typography from '@mui/material/Typography';
import type { ReactNode } from 'react';
import { Link as RouterLink, useParams } from 'react-router';

import { ApiError, errorMessage } from '../../api/errors';
import { PageHeader } from '../../components/PageHeader';
import { useNow } from '../../components/useNow';
import { CancelJobButton } from './CancelJobButton';
import { JobDownloads } from './JobDownloads';
import { JobOptionsList } from './JobOptionsList';
import { JobProgress } from './JobProgress';
import { JobResultPreview } from './JobResultPreview';
import { isFinished, JOB_POLL_MS, type Job } from './jobsApi';
import { JobStateChip } from './JobStateChip';
import { JobStateHistory } from './JobStateHistory';
import { useLiveJob, type FollowMode } from './useLiveJob';

const FOLLOW_WORDS: Record<FollowMode, string> = {
  off: '',
  connecting: 'connecting…',
  live: 'live',
  polling: `updated every ${JOB_POLL_MS / 1000} s`,
};

function Section({ title, children }: { title: string; children: ReactNode }) {
  const id = `job-section-${title.toLowerCase().replace(/\W+/g, '-')}`;
  return (
    <Card component="section" aria-labelledby={id}>
      <CardContent>
        <Typography variant="h2" id={id} sx={{ mb: 1.5 }}>
          {title}
        </Typography>
        {children}
      </CardContent>
    </Card>
  );
}

const BackToJobs = () => (
  <Button component={RouterLink} to="/jobs" startIcon={<ArrowBackIcon />}>
    All jobs
  </Button>
);

function JobDetail({ job, follow }: { job: Job; follow: FollowMode }) {
  const finished = isFinished(job.state);
  const now = useNow(!finished, 1000) / 1000; // seconds, for the history's "so far"
  return (
    <>
      <PageHeader
        title={job.filename}
        subtitle={
          <Box
            component="span"
            sx={{ display: 'inline-flex', flexWrap: 'wrap', gap: 1, alignItems: 'center' }}
          >
            <JobStateChip state={job.state} />
            <span>
              {job.task} · {job.id}
            </span>
            {follow !== 'off' && (
              <Chip
                component="span"
                size="small"
                variant="outlined"
                label={FOLLOW_WORDS[follow]}
                aria-label={`Updates: ${FOLLOW_WORDS[follow]}`}
              />
            )}
          </Box>
        }
        actions={
          <>
            <BackToJobs />
            {!finished && <CancelJobButton job={job} />}
          </>
        }
      />
      {job.error && (
        <Alert severity="error" sx={{ mb: 2 }} data-testid="job-error">
          <AlertTitle>
            The job {job.state} ({job.error.code})
          </AlertTitle>
          {job.error.message}
        </Alert>
      )}
      <Box
        sx={{
          display: 'grid',
          gap: 2,
          gridTemplateColumns: { xs: '1fr', md: 'minmax(0, 3fr) minmax(0, 2fr)' },
          alignItems: 'start',
        }}
      >
        <Box sx={{ display: 'grid', gap: 2, minWidth: 0 }}>
          <Section title="Progress">
            <JobProgress job={job} />
          </Section>
          <Section title="Result">
            <JobDownloads job={job} />
            <Box sx={{ mt: 2 }}>
              {job.state === 'succeeded' ? (
                <JobResultPreview job={job} />
              ) : (
                <Typography variant="body2" color="text.secondary">
                  {finished
                    ? 'This job has no result.'
                    : 'The result can be downloaded once the job has succeeded.'}
                </Typography>
              )}
            </Box>
          </Section>
        </Box>
        <Box sx={{ display: 'grid', gap: 2, minWidth: 0 }}>
          <Section title="History">
            <JobStateHistory job={job} now={now} />
          </Section>
          <Section title="Options">
            <JobOptionsList job={job} />
          </Section>
        </Box>
      </Box>
    </>
  );
}

function JobNotFound({ jobId }: { jobId: string }) {
  return (
    <>
      <PageHeader title="Job not found" actions={<BackToJobs />} />
      <Alert severity="info" data-testid="job-not-found">
        There is no job <strong>{jobId}</strong> for this key: it does not exist, or another key submitted it.{' '}
        <Link component={RouterLink} to="/jobs">
          See your jobs
        </Link>
        .
      </Alert>
    </>
  );
}

export default function JobPage() {
  const { jobId = '' } = useParams();
  const { job, follow } = useLiveJob(jobId);

  if (job.error instanceof ApiError && job.error.status === 404) return <JobNotFound jobId={jobId} />;
  if (!job.data) {
    return (
      <>
        <PageHeader title="Job" actions={<BackToJobs />} />
        {job.error ? (
          <Alert severity="error">{errorMessage(job.error)}</Alert>
        ) : (
          <Skeleton variant="rectangular" height={240} />
        )}
      </>
    );
  }
  return <JobDetail job={job.data} follow={follow} />;
}
