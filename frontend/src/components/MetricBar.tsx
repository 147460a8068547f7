import Box from '@mui/material/Box';
import LinearProgress from '@mui/material/LinearProgress';
import Typography from '@mui/material/Typography';

import type { Level } from './levels';

interface MetricBarProps {
  label: string;
  /** 0-100 */
  percent: number;
  /** What the bar measures, e.g. "38.2 of 80.0 GiB". */
  detail: string;
  level: Level;
  /** What the percentage counts: "used" (default), "busy"... */
  measure?: string;
}

/** A labelled bar: what, how much (%), of what. */
export function MetricBar({ label, percent, detail, level, measure = 'used' }: MetricBarProps) {
  const clamped = Math.max(0, Math.min(100, percent));
  return (
    <Box>
      <Box sx={{ display: 'flex', justifyContent: 'space-between', gap: 1, mb: 0.5 }}>
        <Typography variant="body2">{label}</Typography>
        <Typography variant="body2" color="text.secondary" sx={{ textAlign: 'right' }}>
          {detail} · <strong>{Math.round(clamped)} %</strong> {measure}
        </Typography>
      </Box>
      <LinearProgress
        variant="determinate"
        value={clamped}
        color={level}
        aria-label={`${label}: ${Math.round(clamped)} % ${measure}, ${detail}`}
        sx={{ height: 8, borderRadius: 4 }}
      />
    </Box>
  );
}
