import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Stack from '@mui/material/Stack';
import Tooltip from '@mui/material/Tooltip';
import Typography from '@mui/material/Typography';

import type { GpuBudget } from '../../api/types';
import { formatMib } from '../../components/format';

const MODEL_COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2', '#edc948'];

interface Segment {
  label: string;
  mib: number;
  color: string;
  pattern?: boolean;
}

/** Per GPU, what each loaded model holds (vLLM's reserved share vs measured use), other use, and headroom. */
export function GpuBudgetView({ budget }: { budget: GpuBudget[] }) {
  if (!budget.length) {
    return (
      <Typography variant="body2" color="text.secondary">
        No GPU visible: models run on the CPU and hold system memory instead.
      </Typography>
    );
  }
  // One colour per model on every GPU.
  const keys = [...new Set(budget.flatMap((gpu) => gpu.models.map((m) => m.key)))];
  const colorOf = (key: string) => MODEL_COLORS[keys.indexOf(key) % MODEL_COLORS.length] ?? '#4e79a7';
  return (
    <Stack spacing={2}>
      {budget.map((gpu) => {
        const held = gpu.models.reduce((sum, m) => sum + m.mib, 0);
        const segments: Segment[] = [
          ...gpu.models.map((m) => ({
            label: `${m.key}: ${formatMib(m.mib)} ${m.basis === 'reserved' ? 'reserved' : 'measured'}`,
            mib: m.mib,
            color: colorOf(m.key),
            pattern: m.basis === 'reserved',
          })),
          {
            label: `other use: ${formatMib(Math.max(0, gpu.used_mib - held))}`,
            mib: Math.max(0, gpu.used_mib - held),
            color: '#9e9e9e',
          },
        ];
        return (
          <Box key={gpu.index}>
            <Box sx={{ display: 'flex', justifyContent: 'space-between', gap: 1, flexWrap: 'wrap' }}>
              <Typography variant="body2">
                GPU {gpu.index} · {gpu.name}
              </Typography>
              <Typography variant="body2" color="text.secondary">
                <strong>{formatMib(gpu.headroom_mib)}</strong> headroom of {formatMib(gpu.total_mib)}
              </Typography>
            </Box>
            <Box
              role="img"
              aria-label={`GPU ${gpu.index}: ${segments.map((s) => s.label).join(', ')}, headroom ${formatMib(gpu.headroom_mib)}`}
              sx={{
                display: 'flex',
                height: 18,
                borderRadius: 1,
                overflow: 'hidden',
                bgcolor: 'action.hover',
                mt: 0.5,
              }}
            >
              {segments
                .filter((s) => s.mib > 0)
                .map((s) => (
                  <Tooltip key={s.label} title={s.label}>
                    <Box
                      sx={{
                        width: `${(100 * s.mib) / gpu.total_mib}%`,
                        bgcolor: s.color,
                        backgroundImage: s.pattern
                          ? 'repeating-linear-gradient(45deg, rgba(255,255,255,.25) 0 4px, transparent 4px 8px)'
                          : undefined,
                      }}
                    />
                  </Tooltip>
                ))}
            </Box>
            <Box sx={{ display: 'flex', gap: 2, flexWrap: 'wrap', mt: 0.5 }}>
              {segments.map((s) => (
                <Box key={s.label} sx={{ display: 'flex', alignItems: 'center', gap: 0.5 }}>
                  <Box sx={{ width: 10, height: 10, borderRadius: '2px', bgcolor: s.color }} />
                  <Typography variant="caption">{s.label}</Typography>
                </Box>
              ))}
            </Box>
          </Box>
        );
      })}
      <Typography variant="caption" color="text.secondary">
        Reserved: vLLM takes its share (gpu_memory_utilization × total) up front. Measured: what the model
        used when it loaded.
      </Typography>
    </Stack>
  );
}

export function GpuBudgetCard({ budget }: { budget: GpuBudget[] }) {
  return (
    <Card>
      <CardContent>
        <Typography variant="h3" component="h2" sx={{ mb: 1.5 }}>
          GPU memory budget
        </Typography>
        <GpuBudgetView budget={budget} />
      </CardContent>
    </Card>
  );
}
