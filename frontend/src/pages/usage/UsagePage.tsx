import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Grid from '@mui/material/Grid';
import Skeleton from '@mui/material/Skeleton';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import { useState } from 'react';

import { errorMessage } from '../../api/errors';
import { useServedModels } from '../../api/queries';
import { PageHeader } from '../../components/PageHeader';
import { QuotaCard } from './QuotaCard';
import { RangePicker } from './RangePicker';
import { RequestLog } from './RequestLog';
import { UsageChart } from './UsageChart';
import { UsageTotalsTable } from './UsageTotalsTable';
import { useQuotas, useUsageReport, type QuotaList, type UsageRange } from './usageApi';

function Quotas({ quotas, error }: { quotas: QuotaList | undefined; error: unknown }) {
  if (error) return <Alert severity="error">{errorMessage(error)}</Alert>;
  if (!quotas) return <Skeleton variant="rectangular" height={140} />;
  if (!quotas.data.length) return <Typography color="text.secondary">No client has a key.</Typography>;
  return (
    <Grid container spacing={2}>
      {quotas.data.map((quota) => (
        <Grid key={quota.client} size={{ xs: 12, sm: 6, lg: 4 }}>
          <QuotaCard quota={quota} title={quota.client} testId={`quota-${quota.client}`} />
        </Grid>
      ))}
    </Grid>
  );
}

/** Who used what: tokens and audio per client over time, totals, today's quotas, and the request log. */
export default function UsagePage() {
  const [range, setRange] = useState<UsageRange>('7d');
  const report = useUsageReport(range);
  const quotas = useQuotas();
  const served = useServedModels();
  const clients = [
    ...new Set([
      ...(quotas.data?.data.map((q) => q.client) ?? []),
      ...(report.data?.totals.map((t) => t.client) ?? []),
    ]),
  ].sort();
  const models = [
    ...new Set([
      ...(served.data?.map((m) => m.id) ?? []),
      ...(report.data?.totals.flatMap((t) => (t.model ? [t.model] : [])) ?? []),
    ]),
  ].sort();

  return (
    <>
      <PageHeader
        title="Usage"
        subtitle="Tokens and audio each client used, today's quotas, and every request the gateway answered."
        actions={<RangePicker value={range} onChange={setRange} />}
      />
      <Stack spacing={3}>
        {report.error ? (
          <Alert severity="error">{errorMessage(report.error)}</Alert>
        ) : !report.data ? (
          <Skeleton variant="rectangular" height={320} />
        ) : (
          <>
            <UsageChart report={report.data} stackBy="client" testId="usage-chart" />
            <Box>
              <Typography variant="h2" sx={{ mb: 1 }}>
                Totals
              </Typography>
              <UsageTotalsTable totals={report.data.totals} showClient testId="usage-totals" />
            </Box>
          </>
        )}
        <Box>
          <Typography variant="h2" sx={{ mb: 1 }}>
            Quotas today
            {quotas.data && (
              <Typography component="span" variant="body2" color="text.secondary" sx={{ ml: 1 }}>
                {quotas.data.day} (UTC)
              </Typography>
            )}
          </Typography>
          <Quotas quotas={quotas.data} error={quotas.error} />
        </Box>
        <RequestLog clients={clients} models={models} />
      </Stack>
    </>
  );
}
