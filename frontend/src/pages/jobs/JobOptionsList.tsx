import Box from '@mui/material/Box';

import { Fact } from '../../components/Fact';
import { formatDuration, formatTime } from '../../components/format';
import type { Job } from './jobsApi';

function speakers(job: Job): string {
  const { num_speakers: exactly, min_speakers: min, max_speakers: max } = job.options;
  if (exactly !== null) return `exactly ${exactly}`;
  if (min !== null && max !== null) return `${min} to ${max}`;
  if (min !== null) return `at least ${min}`;
  if (max !== null) return `at most ${max}`;
  return 'found in the audio';
}

/** What the job was asked to do, and about what. */
export function JobOptionsList({ job }: { job: Job }) {
  const transcribes = job.task !== 'diarize';
  return (
    <Box
      component="dl"
      sx={{ m: 0, display: 'grid', gap: 1.5, gridTemplateColumns: 'repeat(auto-fill, minmax(150px, 1fr))' }}
    >
      <Fact label="Task">{job.task}</Fact>
      <Fact label="File">{job.filename}</Fact>
      <Fact label="Audio">{formatDuration(job.duration)}</Fact>
      <Fact label="Owner">{job.owner}</Fact>
      <Fact label="Created">{formatTime(job.created_at)}</Fact>
      {transcribes && <Fact label="Model">{job.options.model}</Fact>}
      {transcribes && <Fact label="Language">{job.options.language ?? 'detected'}</Fact>}
      {transcribes && <Fact label="Translate into">{job.options.target_language ?? 'no translation'}</Fact>}
      {job.task !== 'transcribe' && <Fact label="Speakers">{speakers(job)}</Fact>}
    </Box>
  );
}
