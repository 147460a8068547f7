import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableContainer from '@mui/material/TableContainer';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import Typography from '@mui/material/Typography';
import useMediaQuery from '@mui/material/useMediaQuery';
import type { Theme } from '@mui/material/styles';
import type { KeyboardEvent } from 'react';
import { useNavigate } from 'react-router';

import { formatDuration, formatTime } from '../../components/format';
import { visuallyHidden } from '../../components/visuallyHidden';
import { CancelJobButton } from './CancelJobButton';
import { isFinished, type Job } from './jobsApi';
import { JobProgress } from './JobProgress';
import { JobStateChip } from './JobStateChip';

interface JobListProps {
  jobs: Job[];
  /** Admins see every client's jobs: show whose each is. */
  showOwner: boolean;
}

/** Props that make a row open its job on click and on Enter (the row is a tab stop). */
function useOpenJob() {
  const navigate = useNavigate();
  return (job: Job) => ({
    'data-testid': 'job-row',
    'data-job-id': job.id,
    tabIndex: 0,
    'aria-label': `${job.filename}, ${job.task}, ${job.state}: open the job`,
    onClick: () => void navigate(`/jobs/${encodeURIComponent(job.id)}`),
    onKeyDown: (event: KeyboardEvent) => {
      if (event.key === 'Enter' && event.target === event.currentTarget) {
        void navigate(`/jobs/${encodeURIComponent(job.id)}`);
      }
    },
  });
}

const rowFocus = {
  cursor: 'pointer',
  '&:focus-visible': { outline: 2, outlineStyle: 'solid', outlineColor: 'primary.main', outlineOffset: -2 },
} as const;

function JobTable({ jobs, showOwner }: JobListProps) {
  const open = useOpenJob();
  return (
    <TableContainer component={Card}>
      <Table size="small" aria-label="Jobs">
        <TableHead>
          <TableRow>
            <TableCell>State</TableCell>
            <TableCell>File</TableCell>
            <TableCell>Task</TableCell>
            {showOwner && <TableCell>Owner</TableCell>}
            <TableCell sx={{ minWidth: 200 }}>Progress</TableCell>
            <TableCell align="right">Audio</TableCell>
            <TableCell>Created</TableCell>
            <TableCell>
              <Box component="span" sx={visuallyHidden}>
                Actions
              </Box>
            </TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {jobs.map((job) => (
            <TableRow key={job.id} hover {...open(job)} sx={rowFocus}>
              <TableCell>
                <JobStateChip state={job.state} />
              </TableCell>
              <TableCell sx={{ maxWidth: 260, overflowWrap: 'anywhere' }}>{job.filename}</TableCell>
              <TableCell>{job.task}</TableCell>
              {showOwner && <TableCell>{job.owner}</TableCell>}
              <TableCell>
                <JobProgress job={job} dense />
              </TableCell>
              <TableCell align="right">{formatDuration(job.duration)}</TableCell>
              <TableCell sx={{ whiteSpace: 'nowrap' }}>{formatTime(job.created_at)}</TableCell>
              <TableCell align="right">
                {!isFinished(job.state) && <CancelJobButton job={job} size="small" />}
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </TableContainer>
  );
}

/** The phone form: one card per job. */
function JobCards({ jobs, showOwner }: JobListProps) {
  const open = useOpenJob();
  return (
    <Box component="ul" aria-label="Jobs" sx={{ listStyle: 'none', m: 0, p: 0, display: 'grid', gap: 1.5 }}>
      {jobs.map((job) => (
        <Card component="li" key={job.id} {...open(job)} sx={{ p: 1.5, ...rowFocus }}>
          <Box sx={{ display: 'flex', alignItems: 'center', gap: 1, mb: 1 }}>
            <JobStateChip state={job.state} />
            <Typography variant="body2" sx={{ fontWeight: 600, minWidth: 0, overflowWrap: 'anywhere' }}>
              {job.filename}
            </Typography>
          </Box>
          <JobProgress job={job} dense />
          <Typography variant="caption" color="text.secondary" component="p" sx={{ mt: 1 }}>
            {[
              job.task,
              formatDuration(job.duration),
              formatTime(job.created_at),
              showOwner ? job.owner : null,
            ]
              .filter(Boolean)
              .join(' · ')}
          </Typography>
          {!isFinished(job.state) && (
            <Box sx={{ mt: 1 }}>
              <CancelJobButton job={job} size="small" />
            </Box>
          )}
        </Card>
      ))}
    </Box>
  );
}

/** The jobs, newest first: a table, or cards on a phone. A row opens its job on click or Enter. */
export function JobList(props: JobListProps) {
  const phone = useMediaQuery((theme: Theme) => theme.breakpoints.down('sm'));
  return phone ? <JobCards {...props} /> : <JobTable {...props} />;
}
