import DeveloperBoardOffIcon from '@mui/icons-material/DeveloperBoardOff';
import Alert from '@mui/material/Alert';
import AlertTitle from '@mui/material/AlertTitle';
import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Grid from '@mui/material/Grid';
import Skeleton from '@mui/material/Skeleton';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import { useState } from 'react';

import { errorMessage } from '../../api/errors';
import { useAdminStatus, useMonitorHistory } from '../../api/queries';
import type { HistoryRange } from '../../api/queryKeys';
import type { AdminStatus, HistoryPoint, MonitorHistory } from '../../api/types';
import { PageHeader } from '../../components/PageHeader';
import { dependencyRemedy } from './dependencyRemedy';
import { GpuCard } from './GpuCard';
import { HistoryPanel } from './HistoryPanel';
import { SharedLimitsCard } from './SharedLimitsCard';
import { SystemCard } from './SystemCard';

const SPARKLINE_S = 15 * 60;

function recentPoints(history: MonitorHistory | undefined, index: number, now: number): HistoryPoint[] {
  const points = history?.gpus.find((g) => g.index === index)?.points ?? [];
  return points.filter((p) => p.t >= now - SPARKLINE_S);
}

function CpuModeCard({ reason }: { reason: string | null }) {
  return (
    <Card data-testid="cpu-mode">
      <CardContent sx={{ display: 'flex', gap: 2, alignItems: 'flex-start' }}>
        <DeveloperBoardOffIcon color="action" sx={{ fontSize: 40 }} aria-hidden />
        <Box>
          <Typography variant="h3" component="h2">
            No GPU visible — CPU mode
          </Typography>
          <Typography variant="body2" sx={{ mt: 0.5 }}>
            Models load and run on the CPU: fine to try things and for small models, slow for real work.
          </Typography>
          {reason && (
            <Typography variant="body2" color="text.secondary" sx={{ mt: 0.5 }}>
              Reason: {reason}
            </Typography>
          )}
          <Typography variant="body2" color="text.secondary" sx={{ mt: 0.5 }}>
            If this machine has an NVIDIA GPU, check that <code>nvidia-smi</code> sees it and that{' '}
            <code>CUDA_VISIBLE_DEVICES</code> does not hide it, then restart the gateway.
          </Typography>
        </Box>
      </CardContent>
    </Card>
  );
}

function DependencyWarnings({ problems }: { problems: string[] }) {
  if (!problems.length) return null;
  return (
    <Stack spacing={1} data-testid="dependency-problems">
      {problems.map((problem) => {
        const remedy = dependencyRemedy(problem);
        return (
          <Alert key={problem} severity="warning">
            <AlertTitle sx={{ mb: remedy ? 0.5 : 0 }}>{problem}</AlertTitle>
            {remedy && <>What to do: {remedy}</>}
          </Alert>
        );
      })}
    </Stack>
  );
}

function Overview({ status }: { status: AdminStatus }) {
  const [range, setRange] = useState<HistoryRange>('1h');
  const history = useMonitorHistory(range);
  // The sparklines always show the last 15 minutes, from the 1 h history (a second query only
  // when another range is shown).
  const hourHistory = useMonitorHistory('1h');
  return (
    <Stack spacing={2}>
      <DependencyWarnings problems={status.dependencies.problems} />
      <Grid container spacing={2}>
        {status.gpus.length === 0 ? (
          <Grid size={{ xs: 12, lg: 6 }}>
            <CpuModeCard reason={status.gpu_error} />
          </Grid>
        ) : (
          status.gpus.map((gpu) => (
            <Grid key={gpu.index} size={{ xs: 12, lg: 6 }}>
              <GpuCard gpu={gpu} recent={recentPoints(hourHistory.data, gpu.index, status.sampled_at)} />
            </Grid>
          ))
        )}
        <Grid size={{ xs: 12, lg: 6 }}>
          <SystemCard system={status.system} />
        </Grid>
        {status.limits.backend === 'redis' && (
          <Grid size={{ xs: 12, lg: 6 }}>
            <SharedLimitsCard limits={status.limits} />
          </Grid>
        )}
      </Grid>
      <HistoryPanel
        range={range}
        onRangeChange={setRange}
        history={history.data}
        error={history.error}
        memoryTotalMib={status.system.memory_total_mib}
      />
    </Stack>
  );
}

export default function OverviewPage() {
  const status = useAdminStatus();
  return (
    <>
      <PageHeader title="Overview" subtitle="GPUs, the machine, and what is wrong with the installation." />
      {status.error && !status.data ? (
        <Alert severity="error">{errorMessage(status.error)}</Alert>
      ) : !status.data ? (
        <Skeleton variant="rectangular" height={200} />
      ) : (
        <Overview status={status.data} />
      )}
    </>
  );
}
