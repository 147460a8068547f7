import Alert from '@mui/material/Alert';
import Grid from '@mui/material/Grid';
import Skeleton from '@mui/material/Skeleton';
import Stack from '@mui/material/Stack';

import { errorMessage } from '../../api/errors';
import { useAdminStatus } from '../../api/queries';
import type { AdminStatus } from '../../api/types';
import { PageHeader } from '../../components/PageHeader';
import { GpuBudgetCard } from './GpuBudgetView';
import { HuggingFaceTokenCard } from './HuggingFaceTokenCard';
import { ModelCard } from './ModelCard';

function heldMib(status: AdminStatus, key: string): number | null {
  const held = status.gpu_budget.flatMap((gpu) => gpu.models).filter((m) => m.key === key);
  return held.length ? held.reduce((sum, m) => sum + m.mib, 0) : null;
}

export default function ModelsPage() {
  const status = useAdminStatus();
  const data = status.data;
  return (
    <>
      <PageHeader
        title="Models"
        subtitle="Download, load and unload each slot; this page follows the server every second."
      />
      {status.error && (
        <Alert severity="error" sx={{ mb: 2 }}>
          {errorMessage(status.error)}
          {data && ' (showing the last answer)'}
        </Alert>
      )}
      {!data ? (
        !status.error && <Skeleton variant="rectangular" height={240} />
      ) : (
        <Stack spacing={2}>
          <Grid container spacing={2}>
            {data.models.map((model) => (
              <Grid key={model.key} size={{ xs: 12, md: 6, xl: 4 }}>
                <ModelCard model={model} gpus={data.gpus} heldMib={heldMib(data, model.key)} />
              </Grid>
            ))}
          </Grid>
          <GpuBudgetCard budget={data.gpu_budget} />
          <HuggingFaceTokenCard token={data.huggingface_token} cacheDir={data.settings.model_cache_dir} />
        </Stack>
      )}
    </>
  );
}
