import Box from '@mui/material/Box';
import Typography from '@mui/material/Typography';

import { formatDuration, formatTime } from '../../components/format';
import { isFinished, type Job, type JobState } from './jobsApi';

interface HistoryItem {
  state: JobState;
  at: number;
  /** Seconds until the next step, or until now for the current one. */
  lasted: number | null;
}

const WORDS: Record<JobState, string> = {
  queued: 'Queued',
  running: 'Started',
  succeeded: 'Succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

/** The steps the job went through, from its times (which its events keep current). */
function historyOf(job: Job, now: number): HistoryItem[] {
  const steps: { state: JobState; at: number }[] = [{ state: 'queued', at: job.created_at }];
  if (job.started_at !== null) steps.push({ state: 'running', at: job.started_at });
  if (isFinished(job.state)) steps.push({ state: job.state, at: job.finished_at ?? now });
  return steps.map((step, index) => {
    const next = steps[index + 1];
    const lasted = next ? next.at - step.at : isFinished(step.state) ? null : Math.max(0, now - step.at);
    return { ...step, lasted };
  });
}

export function JobStateHistory({ job, now }: { job: Job; now: number }) {
  const items = historyOf(job, now);
  return (
    <Box component="ol" data-testid="job-state-history" sx={{ listStyle: 'none', m: 0, p: 0 }}>
      {items.map((item, index) => {
        const current = index === items.length - 1;
        return (
          <Box
            component="li"
            key={item.state}
            data-testid="job-history-item"
            data-state={item.state}
            sx={{ display: 'flex', gap: 1.5, pb: current ? 0 : 1.5, position: 'relative' }}
          >
            <Box
              aria-hidden
              sx={{
                mt: 0.75,
                width: 10,
                height: 10,
                borderRadius: '50%',
                flexShrink: 0,
                bgcolor: current ? 'primary.main' : 'text.disabled',
              }}
            />
            <Box sx={{ minWidth: 0 }}>
              <Typography variant="body2">
                <strong>{WORDS[item.state]}</strong> at {formatTime(item.at)}
              </Typography>
              {item.lasted !== null && (
                <Typography variant="caption" color="text.secondary">
                  {item.state === 'queued' ? 'waited' : 'ran'}{' '}
                  {item.lasted < 1 ? 'less than a second' : formatDuration(item.lasted)}
                  {current ? ' so far' : ''}
                </Typography>
              )}
            </Box>
          </Box>
        );
      })}
    </Box>
  );
}
