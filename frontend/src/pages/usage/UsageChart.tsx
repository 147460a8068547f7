import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import ToggleButton from '@mui/material/ToggleButton';
import ToggleButtonGroup from '@mui/material/ToggleButtonGroup';
import Typography from '@mui/material/Typography';
import { BarChart } from '@mui/x-charts/BarChart';
import { useState } from 'react';

import { formatAudioSeconds, formatCount } from './format';
import { periodStarts, type UsageReport } from './usageApi';

export type ChartMetric = 'tokens' | 'audio';

interface UsageChartProps {
  report: UsageReport;
  /** One stacked series per client (admin) or per model (a client's own view). */
  stackBy: 'client' | 'model';
  testId: string;
}

/** A period's label: the hour in local time, or the UTC day (buckets are UTC days). */
function periodLabel(start: number, granularity: UsageReport['granularity']): string {
  const date = new Date(start * 1000);
  if (granularity === 'hour') {
    return date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  }
  return date.toLocaleDateString(undefined, { day: 'numeric', month: 'short', timeZone: 'UTC' });
}

/** Total tokens or audio seconds per hour or day, stacked by client (or model), with the range's sums. */
export function UsageChart({ report, stackBy, testId }: UsageChartProps) {
  const [metric, setMetric] = useState<ChartMetric>('tokens');
  const starts = periodStarts(report);
  const index = new Map(starts.map((start, i) => [start, i]));
  const groups = new Map<string, number[]>();
  for (const bucket of report.buckets) {
    const name = (stackBy === 'client' ? bucket.client : bucket.model) ?? '(no model)';
    const values = groups.get(name) ?? starts.map(() => 0);
    const at = index.get(bucket.start);
    if (at !== undefined) values[at]! += metric === 'tokens' ? bucket.total_tokens : bucket.audio_seconds;
    groups.set(name, values);
  }
  const names = [...groups.keys()].sort();
  const tokens = report.totals.reduce((sum, t) => sum + t.total_tokens, 0);
  const audio = report.totals.reduce((sum, t) => sum + t.audio_seconds, 0);
  const requests = report.totals.reduce((sum, t) => sum + t.requests, 0);
  const per = report.granularity === 'hour' ? 'hour' : 'UTC day';
  const what = metric === 'tokens' ? 'Total tokens' : 'Audio seconds';
  const format = metric === 'tokens' ? formatCount : formatAudioSeconds;

  return (
    <Card data-testid={testId}>
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
          <Box>
            <Typography variant="h3" component="h2">
              {what} per {per}
            </Typography>
            <Typography variant="body2" color="text.secondary" data-testid="usage-sums">
              {formatCount(requests)} request{requests === 1 ? '' : 's'} · {formatCount(tokens)} tokens ·{' '}
              {formatAudioSeconds(audio)} of audio
            </Typography>
          </Box>
          <ToggleButtonGroup
            size="small"
            exclusive
            value={metric}
            onChange={(_, value: ChartMetric | null) => value && setMetric(value)}
            aria-label="What to plot"
          >
            <ToggleButton value="tokens">Tokens</ToggleButton>
            <ToggleButton value="audio">Audio seconds</ToggleButton>
          </ToggleButtonGroup>
        </Box>
        {names.length === 0 ? (
          <Typography color="text.secondary" sx={{ py: 4, textAlign: 'center' }}>
            No use in this range.
          </Typography>
        ) : (
          <Box role="figure" aria-label={`${what} per ${per}, stacked by ${stackBy}: ${names.join(', ')}`}>
            <BarChart
              height={280}
              skipAnimation
              xAxis={[
                {
                  scaleType: 'band',
                  data: starts.map((start) => periodLabel(start, report.granularity)),
                },
              ]}
              yAxis={[{ valueFormatter: (value: number) => format(value), width: 64 }]}
              series={names.map((name) => ({
                label: name,
                data: groups.get(name)!,
                stack: 'total',
                valueFormatter: (value: number | null) => (value === null ? '–' : format(value)),
              }))}
              margin={{ left: 8, right: 16 }}
            />
          </Box>
        )}
      </CardContent>
    </Card>
  );
}
