import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';

import { percentLevel } from '../../components/levels';
import { MetricBar } from '../../components/MetricBar';
import { formatAudioSeconds, formatCount, formatResetTime } from './format';
import type { QuotaUse } from './usageApi';

function QuotaBar({
  label,
  used,
  limit,
  format,
}: {
  label: string;
  used: number;
  limit: number | null;
  format: (value: number) => string;
}) {
  if (limit === null) {
    return (
      <Typography variant="body2">
        {label}: <strong>no quota</strong>
        <Typography component="span" variant="body2" color="text.secondary">
          {' '}
          · {format(used)} used today
        </Typography>
      </Typography>
    );
  }
  const percent = limit > 0 ? (100 * used) / limit : 100;
  return (
    <MetricBar
      label={label}
      percent={percent}
      detail={`${format(used)} of ${format(limit)}`}
      level={percentLevel(percent)}
    />
  );
}

/** One client's daily quotas: today's use against each, or "no quota", and when the day resets. */
export function QuotaCard({
  quota,
  title,
  testId,
  heading = 'h3',
}: {
  quota: QuotaUse;
  title: string;
  testId: string;
  /** The title's level in the page's outline. */
  heading?: 'h2' | 'h3';
}) {
  return (
    <Card data-testid={testId} sx={{ height: '100%' }}>
      <CardContent>
        <Typography variant="h3" component={heading} sx={{ mb: 1.5, overflowWrap: 'anywhere' }}>
          {title}
        </Typography>
        <Stack spacing={1.5}>
          <QuotaBar
            label="Tokens"
            used={quota.tokens_used}
            limit={quota.tokens_per_day}
            format={formatCount}
          />
          <QuotaBar
            label="Audio"
            used={quota.audio_seconds_used}
            limit={quota.audio_seconds_per_day}
            format={formatAudioSeconds}
          />
        </Stack>
        <Typography variant="caption" color="text.secondary" component="p" sx={{ mt: 1.5 }}>
          Resets {formatResetTime(quota.resets_at)} (your time)
        </Typography>
      </CardContent>
    </Card>
  );
}
