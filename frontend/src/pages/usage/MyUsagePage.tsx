import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Skeleton from '@mui/material/Skeleton';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import { useState } from 'react';

import { errorMessage } from '../../api/errors';
import { useMe } from '../../api/queries';
import { PageHeader } from '../../components/PageHeader';
import { QuotaCard } from './QuotaCard';
import { RangePicker } from './RangePicker';
import { UsageChart } from './UsageChart';
import { UsageTotalsTable } from './UsageTotalsTable';
import { useMyUsage, type UsageRange } from './usageApi';

/** The caller's own usage per model and its quota (any key; for an admin, the admin key's own use). */
export default function MyUsagePage() {
  const [range, setRange] = useState<UsageRange>('7d');
  const mine = useMyUsage(range);
  const me = useMe();
  const name = me.data?.name;

  return (
    <>
      <PageHeader
        title="My usage"
        subtitle={
          name
            ? `What this key (${name}) used, per model, and its daily quota.`
            : 'What this key used, per model, and its daily quota.'
        }
        actions={<RangePicker value={range} onChange={setRange} />}
      />
      {mine.error ? (
        <Alert severity="error">{errorMessage(mine.error)}</Alert>
      ) : !mine.data ? (
        <Skeleton variant="rectangular" height={320} />
      ) : (
        <Stack spacing={3}>
          <Box sx={{ maxWidth: { md: 480 } }}>
            <QuotaCard quota={mine.data.quota} title="Quota today" testId="my-quota" heading="h2" />
          </Box>
          <UsageChart report={mine.data.usage} stackBy="model" testId="my-usage-chart" />
          <Box>
            <Typography variant="h2" sx={{ mb: 1 }}>
              Totals per model
            </Typography>
            <UsageTotalsTable totals={mine.data.usage.totals} showClient={false} testId="my-usage-totals" />
          </Box>
        </Stack>
      )}
    </>
  );
}
