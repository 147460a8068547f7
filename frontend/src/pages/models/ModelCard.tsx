import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardActions from '@mui/material/CardActions';
import CardContent from '@mui/material/CardContent';
import Chip from '@mui/material/Chip';
import LinearProgress from '@mui/material/LinearProgress';
import Stack from '@mui/material/Stack';
import Tooltip from '@mui/material/Tooltip';
import Typography from '@mui/material/Typography';
import { useState } from 'react';

import { errorMessage } from '../../api/errors';
import { useModelAction } from '../../api/queries';
import type { GpuSample, ModelState, ModelStatus } from '../../api/types';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Fact } from '../../components/Fact';
import { formatBytes, formatDuration, formatMib, formatTime } from '../../components/format';
import { monospace } from '../../theme/theme';
import { LoadDialog } from './LoadDialog';
import { modelActions, type ActionState } from './modelActions';
import { kindInfo } from './modelKinds';

const STATE_COLORS: Record<ModelState, 'default' | 'success' | 'info' | 'warning' | 'error'> = {
  absent: 'default',
  downloading: 'info',
  downloaded: 'default',
  loading: 'info',
  loaded: 'success',
  unloading: 'warning',
  error: 'error',
};

function sumValues(record: unknown): number | null {
  if (typeof record !== 'object' || record === null) return null;
  const values = Object.values(record).filter((v): v is number => typeof v === 'number');
  return values.length ? values.reduce((a, b) => a + b, 0) : null;
}

interface Replica {
  url: string;
  state: string;
  in_flight: number;
  latency_ms: number | null;
  last_error: { message: string } | null;
}

const REPLICA_COLORS: Record<string, 'default' | 'success' | 'warning' | 'error'> = {
  up: 'success',
  down: 'error',
  draining: 'warning',
};

/** The replicas of an upstream slot (`server.replicas`), read defensively: `server` is free-form. */
function replicasOf(server: Record<string, unknown>): Replica[] {
  const replicas = server.replicas;
  if (!Array.isArray(replicas)) return [];
  return replicas.filter(
    (r): r is Replica => typeof r === 'object' && r !== null && typeof (r as Replica).url === 'string',
  );
}

function Replicas({ replicas }: { replicas: Replica[] }) {
  return (
    <Box component="ul" aria-label="Upstream replicas" data-testid="replicas" sx={{ m: 0, p: 0 }}>
      {replicas.map((replica) => (
        <Box
          component="li"
          key={replica.url}
          sx={{ listStyle: 'none', display: 'flex', gap: 1, alignItems: 'center', flexWrap: 'wrap' }}
        >
          <Chip label={replica.state} size="small" color={REPLICA_COLORS[replica.state] ?? 'default'} />
          <Typography variant="body2" sx={{ fontFamily: monospace, overflowWrap: 'anywhere' }}>
            {replica.url}
          </Typography>
          <Typography variant="caption" color="text.secondary">
            {replica.in_flight} in flight
            {replica.latency_ms !== null ? ` · ${replica.latency_ms} ms` : ''}
            {replica.state === 'down' && replica.last_error ? ` · ${replica.last_error.message}` : ''}
          </Typography>
        </Box>
      ))}
    </Box>
  );
}

const SOURCE_LABELS: Record<ModelStatus['source'], string> = {
  local: 'local folder',
  hub: 'Hugging Face Hub',
  upstream: 'upstream servers',
};

function Progress({ model }: { model: ModelStatus }) {
  if (model.state === 'downloading') {
    const d = model.download;
    const fraction = d && d.total_bytes ? d.done_bytes / d.total_bytes : model.progress;
    const parts = d
      ? [
          `${formatBytes(d.done_bytes)} of ${formatBytes(d.total_bytes)}`,
          `${Math.floor(fraction * 100)} %`,
          d.bytes_per_s ? `${formatBytes(d.bytes_per_s)}/s` : null,
          d.eta_s !== null ? `${formatDuration(d.eta_s)} left` : null,
        ]
      : [`${Math.floor(fraction * 100)} %`, model.message];
    return (
      <Box data-testid="download-progress">
        <LinearProgress variant="determinate" value={fraction * 100} aria-label="Download progress" />
        <Typography variant="body2" sx={{ mt: 0.5 }}>
          Downloading: {parts.filter(Boolean).join(' · ')}
        </Typography>
      </Box>
    );
  }
  if (model.state === 'loading') {
    return (
      <Box data-testid="load-progress">
        <LinearProgress aria-label="Loading" />
        <Typography variant="body2" sx={{ mt: 0.5 }}>
          {model.message || 'Loading'}
          {model.load ? ` · ${formatDuration(model.load.elapsed_s)} so far` : ''}
          {model.load?.previous_load_s
            ? ` (last load took ${formatDuration(model.load.previous_load_s)})`
            : ''}
        </Typography>
      </Box>
    );
  }
  if (model.state === 'unloading') {
    return (
      <Box data-testid="unload-progress">
        <LinearProgress color="warning" aria-label="Unloading" />
        <Typography variant="body2" sx={{ mt: 0.5 }}>
          Unloading:{' '}
          {model.in_flight_requests
            ? `draining ${model.in_flight_requests} request(s) in flight`
            : model.message}
        </Typography>
      </Box>
    );
  }
  return null;
}

function ActionButton({
  state,
  label,
  onClick,
  variant,
}: {
  state: ActionState;
  label: string;
  onClick: () => void;
  variant?: 'contained' | 'outlined';
}) {
  return (
    <Tooltip title={state.reason} describeChild>
      {/* a disabled button fires no events: the span keeps the tooltip (and its reason) reachable */}
      <span>
        <Button size="small" variant={variant ?? 'outlined'} disabled={!state.enabled} onClick={onClick}>
          {label}
        </Button>
      </span>
    </Tooltip>
  );
}

interface ModelCardProps {
  model: ModelStatus;
  gpus: GpuSample[];
  /** Memory this model holds on the GPUs now, from the GPU budget (MiB), when known. */
  heldMib: number | null;
}

export function ModelCard({ model, gpus, heldMib }: ModelCardProps) {
  const actions = modelActions(model);
  const mutation = useModelAction();
  const [confirmUnload, setConfirmUnload] = useState(false);
  const [pickGpus, setPickGpus] = useState(false);
  const server = model.server;
  const loadSeconds = typeof server.load_seconds === 'number' ? server.load_seconds : null;
  const before = sumValues(server.gpu_memory_used_mib_before_unload);
  const after = sumValues(server.gpu_memory_used_mib_after_unload);
  const engine = typeof server.engine === 'string' ? server.engine : null;
  const held = heldMib ?? sumValues(server.gpu_memory_held_mib);
  const givenBack =
    sumValues(server.gpu_memory_given_back_mib) ??
    (before !== null && after !== null ? Math.max(0, before - after) : null);
  const failure = model.last_error;
  const kind = kindInfo(model.kind);
  const replicas = replicasOf(server);

  const load = () =>
    gpus.length > 1 && model.source !== 'upstream'
      ? setPickGpus(true)
      : mutation.mutate({ action: 'load', key: model.key });

  return (
    <Card component="article" aria-labelledby={`model-${model.key}`} data-testid={`model-card-${model.key}`}>
      <CardContent>
        <Stack spacing={1.5}>
          <Box sx={{ display: 'flex', gap: 1, alignItems: 'flex-start', justifyContent: 'space-between' }}>
            <Box sx={{ minWidth: 0 }}>
              <Typography
                variant="overline"
                color="text.secondary"
                data-testid="model-kind"
                sx={{ lineHeight: 1.5, display: 'flex', alignItems: 'center', gap: 0.75 }}
              >
                <kind.Icon fontSize="small" aria-hidden />
                {kind.label}
              </Typography>
              <Typography variant="h3" component="h2" id={`model-${model.key}`}>
                {model.key}
              </Typography>
            </Box>
            <Chip
              label={model.state}
              color={STATE_COLORS[model.state]}
              size="small"
              data-testid="state-chip"
            />
          </Box>
          <Typography variant="body2" sx={{ fontFamily: monospace, overflowWrap: 'anywhere' }}>
            {model.model_id}
            <Typography component="span" variant="caption" color="text.secondary">
              {' '}
              ({SOURCE_LABELS[model.source]})
            </Typography>
          </Typography>
          <Box sx={{ display: 'flex', gap: 0.5, flexWrap: 'wrap' }} aria-label="Names clients use">
            {model.served_names.map((name) => (
              <Chip key={name} label={name} size="small" variant="outlined" sx={{ fontFamily: monospace }} />
            ))}
          </Box>
          <Progress model={model} />
          {model.state === 'error' && (
            <Alert severity="error" data-testid="model-error">
              {failure?.message ?? model.error ?? model.message}
              {failure?.remedy && <Box sx={{ mt: 0.5 }}>What to do: {failure.remedy}</Box>}
            </Alert>
          )}
          {model.state !== 'error' && failure && (
            <Alert severity="info" variant="outlined" data-testid="last-failure">
              Last failure, {formatTime(failure.at)}: {failure.message}
              {failure.remedy && <Box sx={{ mt: 0.5 }}>What to do: {failure.remedy}</Box>}
            </Alert>
          )}
          {model.memory_leak_suspected && (
            <Alert severity="warning" data-testid="leak">
              The unload gave back less GPU memory than the model held
              {before !== null && after !== null
                ? ` (${formatMib(before)} before, ${formatMib(after)} after)`
                : ''}
              : something may still hold it. Restart the gateway if the memory is needed.
            </Alert>
          )}
          <Box
            component="dl"
            sx={{
              m: 0,
              display: 'grid',
              gridTemplateColumns: 'repeat(auto-fill, minmax(130px, 1fr))',
              gap: 1,
            }}
          >
            <Fact label="Devices">{model.devices.length ? model.devices.join(', ') : '–'}</Fact>
            <Fact label="In flight">{model.in_flight_requests}</Fact>
            {held !== null && model.state === 'loaded' && (
              <Fact label="GPU memory held">{formatMib(held)}</Fact>
            )}
            {loadSeconds !== null && <Fact label="Load time">{formatDuration(loadSeconds)}</Fact>}
            {givenBack !== null && model.state !== 'loaded' && (
              <Fact label="Given back at unload">{formatMib(givenBack)}</Fact>
            )}
            {engine && <Fact label="Engine">{engine}</Fact>}
            <Fact label="Loads">{model.load_count}</Fact>
          </Box>
          {replicas.length > 0 && <Replicas replicas={replicas} />}
          {mutation.isError && (
            <Alert severity="error" onClose={() => mutation.reset()}>
              {errorMessage(mutation.error)}
            </Alert>
          )}
        </Stack>
      </CardContent>
      <CardActions sx={{ px: 2, pb: 2, flexWrap: 'wrap', gap: 1 }}>
        <ActionButton
          state={actions.download}
          label="Download"
          onClick={() => mutation.mutate({ action: 'download', key: model.key })}
        />
        <ActionButton state={actions.load} label="Load" variant="contained" onClick={load} />
        <ActionButton state={actions.unload} label="Unload" onClick={() => setConfirmUnload(true)} />
      </CardActions>
      <ConfirmDialog
        open={confirmUnload}
        title={`Unload ${model.key}?`}
        confirmLabel="Unload"
        danger
        onClose={() => setConfirmUnload(false)}
        onConfirm={() => mutation.mutate({ action: 'unload', key: model.key })}
      >
        <Typography variant="body2">
          {model.in_flight_requests
            ? `${model.in_flight_requests} request(s) in flight finish first (the card shows the drain); new requests are refused meanwhile.`
            : 'No request is in flight: the memory is freed right away.'}{' '}
          Clients get a 503 until it is loaded again.
        </Typography>
      </ConfirmDialog>
      {pickGpus && (
        <LoadDialog
          model={model}
          gpus={gpus}
          onClose={() => setPickGpus(false)}
          onLoad={(ids) => mutation.mutate({ action: 'load', key: model.key, gpuDeviceIds: ids })}
        />
      )}
    </Card>
  );
}
