import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Chip from '@mui/material/Chip';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import { SparkLineChart } from '@mui/x-charts/SparkLineChart';

import type { GpuSample, HistoryPoint } from '../../api/types';
import { formatMib } from '../../components/format';
import { percentLevel, temperatureLevel } from '../../components/levels';
import { MetricBar } from '../../components/MetricBar';

interface GpuCardProps {
  gpu: GpuSample;
  /** The last 15 minutes of this GPU's history (oldest first). */
  recent: HistoryPoint[];
}

function Spark({ label, data, max }: { label: string; data: number[]; max: number }) {
  return (
    <Box sx={{ flex: 1, minWidth: 0 }}>
      <Typography variant="caption" color="text.secondary">
        {label}, last 15 min
      </Typography>
      {data.length > 1 ? (
        <SparkLineChart
          data={data}
          height={40}
          area
          yAxis={{ min: 0, max }}
          curve="linear"
          aria-label={`${label}, last 15 minutes`}
        />
      ) : (
        <Typography variant="caption" component="p" color="text.disabled" sx={{ height: 40 }}>
          collecting…
        </Typography>
      )}
    </Box>
  );
}

export function GpuCard({ gpu, recent }: GpuCardProps) {
  const memoryPercent = gpu.memory_total_mib ? (100 * gpu.memory_used_mib) / gpu.memory_total_mib : 0;
  return (
    <Card data-testid={`gpu-${gpu.index}`}>
      <CardContent>
        <Stack spacing={1.5}>
          <Box sx={{ display: 'flex', justifyContent: 'space-between', gap: 1, flexWrap: 'wrap' }}>
            <Typography variant="h3" component="h2">
              GPU {gpu.index} · {gpu.name}
            </Typography>
            <Stack direction="row" spacing={1}>
              {gpu.utilization_percent !== null && (
                <Chip
                  size="small"
                  color="info"
                  variant="outlined"
                  label={`${gpu.utilization_percent} % busy`}
                />
              )}
              {gpu.temperature_c !== null && (
                <Chip
                  size="small"
                  color={temperatureLevel(gpu.temperature_c)}
                  label={`${gpu.temperature_c} °C`}
                  aria-label={`temperature ${gpu.temperature_c} degrees Celsius`}
                />
              )}
            </Stack>
          </Box>
          <MetricBar
            label="Memory"
            percent={memoryPercent}
            detail={`${formatMib(gpu.memory_used_mib)} of ${formatMib(gpu.memory_total_mib)}`}
            level={percentLevel(memoryPercent)}
          />
          <Stack direction="row" spacing={2}>
            <Spark
              label="Memory %"
              max={100}
              data={recent.map((p) =>
                p.memory_total_mib && p.memory_used_mib !== null
                  ? (100 * p.memory_used_mib) / p.memory_total_mib
                  : 0,
              )}
            />
            <Spark label="Utilisation %" max={100} data={recent.map((p) => p.utilization_percent ?? 0)} />
          </Stack>
          {gpu.processes.length > 0 && (
            <Typography variant="caption" color="text.secondary">
              {gpu.processes.length} process{gpu.processes.length > 1 ? 'es' : ''}:{' '}
              {gpu.processes.map((p) => `pid ${p.pid} ${formatMib(p.memory_used_mib)}`).join(', ')}
            </Typography>
          )}
        </Stack>
      </CardContent>
    </Card>
  );
}
