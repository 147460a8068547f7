import Alert from '@mui/material/Alert';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Chip from '@mui/material/Chip';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';

import type { AdminStatus } from '../../api/types';
import { formatTime } from '../../components/format';

type Limits = AdminStatus['limits'];

/**
 * Where the rate limits and quota counters of several gateways are shared (REDIS_URL), and whether that Redis
 * answers: while it does not, each gateway enforces its own limits (failure mode `open`) or refuses (`closed`).
 * Nothing to show when the limits live in this process.
 */
export function SharedLimitsCard({ limits }: { limits: Limits }) {
  if (limits.backend !== 'redis') return null;
  const since = limits.unreachable_since ? formatTime(limits.unreachable_since) : null;
  return (
    <Card data-testid="shared-limits">
      <CardContent>
        <Stack spacing={1}>
          <Stack direction="row" spacing={1} sx={{ alignItems: 'center', flexWrap: 'wrap' }}>
            <Typography variant="h3" component="h2">
              Shared limits
            </Typography>
            <Chip
              size="small"
              color={limits.reachable ? 'success' : 'error'}
              label={limits.reachable ? 'Redis answers' : 'Redis unreachable'}
            />
          </Stack>
          <Typography variant="body2" sx={{ wordBreak: 'break-all' }}>
            Rate limits and quota counters are shared with the other gateways in {limits.url}.
          </Typography>
          <Typography variant="body2" color="text.secondary">
            {limits.outages === 0
              ? 'No outage since the gateway started.'
              : `${limits.outages} outage${limits.outages === 1 ? '' : 's'} since the gateway started.`}
          </Typography>
          {!limits.reachable && (
            <Alert severity={limits.failure_mode === 'closed' ? 'error' : 'warning'}>
              {since ? `Unreachable since ${since}. ` : ''}
              {limits.failure_mode === 'closed'
                ? 'Requests a limit applies to are refused (503) until it answers again.'
                : 'Each gateway enforces its own limits until it answers again; what it counts meanwhile is written then.'}
              {limits.last_error ? ` Error: ${limits.last_error}` : ''}
            </Alert>
          )}
        </Stack>
      </CardContent>
    </Card>
  );
}
