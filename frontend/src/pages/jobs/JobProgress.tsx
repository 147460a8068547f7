import Box from '@mui/material/Box';
import LinearProgress from '@mui/material/LinearProgress';
import Typography from '@mui/material/Typography';

import type { Job, StageState } from './jobsApi';

const STAGE_LABELS: Record<string, string> = {
  decode: 'Decode',
  asr: 'Transcription',
  diarization: 'Diarization',
  merge: 'Merge',
};

const STAGE_COLORS: Record<StageState, 'primary' | 'success' | 'error' | 'warning' | 'inherit'> = {
  pending: 'inherit',
  running: 'primary',
  succeeded: 'success',
  failed: 'error',
  cancelled: 'warning',
};

function stageLabel(name: string): string {
  return STAGE_LABELS[name] ?? name;
}

/**
 * One bar per stage, in the gateway's order (decode, then transcription and/or diarization, then merge).
 * A running stage that reports no fraction (diarization is one call) shows a moving bar. `dense`: the list's
 * compact form, stages side by side.
 */
export function JobProgress({ job, dense = false }: { job: Job; dense?: boolean }) {
  const stages = Object.entries(job.progress);
  return (
    <Box
      data-testid="job-progress"
      sx={{
        display: 'grid',
        gap: dense ? 1 : 1.5,
        gridTemplateColumns: dense ? `repeat(${stages.length}, minmax(48px, 1fr))` : '1fr',
      }}
    >
      {stages.map(([name, stage]) => {
        const percent = Math.round(stage.progress * 100);
        const moving = stage.state === 'running' && stage.progress === 0;
        const label = stageLabel(name);
        return (
          <Box
            key={name}
            data-testid={`job-stage-${name}`}
            data-state={stage.state}
            data-progress={stage.progress}
            sx={{ minWidth: 0 }}
          >
            <Box sx={{ display: 'flex', justifyContent: 'space-between', gap: 1 }}>
              <Typography
                variant={dense ? 'caption' : 'body2'}
                noWrap
                color={stage.state === 'pending' ? 'text.secondary' : 'text.primary'}
              >
                {label}
              </Typography>
              {!dense && (
                <Typography variant="body2" color="text.secondary">
                  {stage.state}
                  {stage.state === 'running' && !moving ? ` · ${percent} %` : ''}
                </Typography>
              )}
            </Box>
            <LinearProgress
              variant={moving ? 'indeterminate' : 'determinate'}
              value={percent}
              color={STAGE_COLORS[stage.state]}
              aria-label={`${label}: ${stage.state}${moving ? '' : `, ${percent} %`}`}
              sx={{
                height: dense ? 4 : 8,
                borderRadius: 4,
                ...(stage.state === 'pending' && { color: 'action.disabled' }),
              }}
            />
          </Box>
        );
      })}
    </Box>
  );
}
