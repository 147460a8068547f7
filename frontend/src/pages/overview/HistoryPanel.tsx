import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Skeleton from '@mui/material/Skeleton';
import Tab from '@mui/material/Tab';
import Tabs from '@mui/material/Tabs';
import ToggleButton from '@mui/material/ToggleButton';
import ToggleButtonGroup from '@mui/material/ToggleButtonGroup';
import Typography from '@mui/material/Typography';
import { LineChart } from '@mui/x-charts/LineChart';
import { useState } from 'react';

import { errorMessage } from '../../api/errors';
import type { HistoryRange } from '../../api/queryKeys';
import type { MonitorHistory } from '../../api/types';

export type Metric = 'memory' | 'utilization' | 'temperature' | 'cpu' | 'ram';

const METRICS: { id: Metric; label: string; unit: string; gpu: boolean }[] = [
  { id: 'memory', label: 'GPU memory', unit: '%', gpu: true },
  { id: 'utilization', label: 'GPU busy', unit: '%', gpu: true },
  { id: 'temperature', label: 'Temperature', unit: '°C', gpu: true },
  { id: 'cpu', label: 'CPU', unit: '%', gpu: false },
  { id: 'ram', label: 'RAM', unit: '%', gpu: false },
];

interface HistoryPanelProps {
  range: HistoryRange;
  onRangeChange: (range: HistoryRange) => void;
  history: MonitorHistory | undefined;
  error: unknown;
  /** System memory size, to show RAM as a share. */
  memoryTotalMib: number;
}

interface Series {
  label: string;
  points: { t: number; value: number | null }[];
}

function seriesFor(metric: Metric, history: MonitorHistory, memoryTotalMib: number): Series[] {
  if (metric === 'cpu')
    return [{ label: 'CPU %', points: history.system.map((p) => ({ t: p.t, value: p.cpu_percent })) }];
  if (metric === 'ram') {
    return [
      {
        label: 'RAM %',
        points: history.system.map((p) => ({
          t: p.t,
          value:
            memoryTotalMib && p.memory_used_mib !== null ? (100 * p.memory_used_mib) / memoryTotalMib : null,
        })),
      },
    ];
  }
  return history.gpus.map((gpu) => ({
    label: `GPU ${gpu.index}`,
    points: gpu.points.map((p) => ({
      t: p.t,
      value:
        metric === 'memory'
          ? p.memory_total_mib && p.memory_used_mib !== null
            ? (100 * p.memory_used_mib) / p.memory_total_mib
            : null
          : metric === 'utilization'
            ? p.utilization_percent
            : p.temperature_c,
    })),
  }));
}

/** GPU and system history over 1 h / 6 h / 24 h, from the gateway's own monitor (no Grafana needed). */
export function HistoryPanel({ range, onRangeChange, history, error, memoryTotalMib }: HistoryPanelProps) {
  const hasGpus = (history?.gpus.length ?? 0) > 0;
  const [chosen, setChosen] = useState<Metric>('memory');
  const metric = hasGpus || !METRICS.find((m) => m.id === chosen)?.gpu ? chosen : 'cpu';
  const info = METRICS.find((m) => m.id === metric)!;
  const series = history ? seriesFor(metric, history, memoryTotalMib) : [];
  // One time axis: the union of the series' times (GPU samples are taken together).
  const times = [...new Set(series.flatMap((s) => s.points.map((p) => p.t)))].sort((a, b) => a - b);
  const byTime = series.map((s) => new Map(s.points.map((p) => [p.t, p.value])));

  return (
    <Card>
      <CardContent>
        <Box
          sx={{
            display: 'flex',
            flexWrap: 'wrap',
            gap: 1,
            alignItems: 'center',
            justifyContent: 'space-between',
            mb: 1,
          }}
        >
          <Typography variant="h3" component="h2">
            History
          </Typography>
          <ToggleButtonGroup
            size="small"
            exclusive
            value={range}
            onChange={(_, value: HistoryRange | null) => value && onRangeChange(value)}
            aria-label="Time range"
          >
            <ToggleButton value="1h">1 h</ToggleButton>
            <ToggleButton value="6h">6 h</ToggleButton>
            <ToggleButton value="24h">24 h</ToggleButton>
          </ToggleButtonGroup>
        </Box>
        <Tabs
          value={metric}
          onChange={(_, value: Metric) => setChosen(value)}
          variant="scrollable"
          scrollButtons="auto"
          allowScrollButtonsMobile
          aria-label="What to plot"
          sx={{ mb: 1, minHeight: 40, '& .MuiTab-root': { minHeight: 40, py: 0 } }}
        >
          {METRICS.filter((m) => hasGpus || !m.gpu).map((m) => (
            <Tab key={m.id} value={m.id} label={m.label} />
          ))}
        </Tabs>
        {error ? (
          <Alert severity="error">{errorMessage(error)}</Alert>
        ) : !history ? (
          <Skeleton variant="rectangular" height={240} />
        ) : times.length < 2 ? (
          <Typography color="text.secondary" sx={{ py: 4, textAlign: 'center' }}>
            Not enough samples yet: the monitor samples every few seconds.
          </Typography>
        ) : (
          <LineChart
            height={260}
            skipAnimation
            xAxis={[
              {
                data: times.map((t) => new Date(t * 1000)),
                scaleType: 'time',
                valueFormatter: (value: Date) =>
                  value.toLocaleTimeString(undefined, {
                    hour: '2-digit',
                    minute: '2-digit',
                    hourCycle: 'h23',
                  }),
              },
            ]}
            yAxis={[{ min: 0, max: info.unit === '%' ? 100 : undefined, label: info.unit }]}
            series={series.map((s, i) => ({
              label: s.label,
              data: times.map((t) => byTime[i]?.get(t) ?? null),
              showMark: false,
              curve: 'linear',
              connectNulls: false,
              valueFormatter: (value: number | null) =>
                value === null ? '–' : `${value.toFixed(0)} ${info.unit}`,
            }))}
            margin={{ left: 8, right: 16 }}
          />
        )}
        {history && (
          <Typography variant="caption" color="text.secondary">
            One point per {history.step_s} s.
          </Typography>
        )}
      </CardContent>
    </Card>
  );
}
