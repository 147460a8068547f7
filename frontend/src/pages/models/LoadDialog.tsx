import Button from '@mui/material/Button';
import Checkbox from '@mui/material/Checkbox';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogTitle from '@mui/material/DialogTitle';
import FormControlLabel from '@mui/material/FormControlLabel';
import FormGroup from '@mui/material/FormGroup';
import Typography from '@mui/material/Typography';
import { useState } from 'react';

import type { GpuSample, ModelStatus } from '../../api/types';
import { formatMib } from '../../components/format';

interface LoadDialogProps {
  model: ModelStatus;
  gpus: GpuSample[];
  onClose: () => void;
  onLoad: (gpuDeviceIds: number[]) => void;
}

/** The GPU picker of a load on a machine with several GPUs; none picked = the slot's own default. */
export function LoadDialog({ model, gpus, onClose, onLoad }: LoadDialogProps) {
  const [picked, setPicked] = useState<number[]>([]);
  const toggle = (index: number) =>
    setPicked((current) =>
      current.includes(index) ? current.filter((i) => i !== index) : [...current, index].sort(),
    );
  return (
    <Dialog open onClose={onClose} aria-labelledby="load-title" maxWidth="xs" fullWidth>
      <DialogTitle id="load-title">Load {model.key}</DialogTitle>
      <DialogContent>
        <Typography variant="body2" sx={{ mb: 1 }}>
          On which GPUs? Pick none for the slot's configured devices. Only the language model spreads over
          several GPUs.
        </Typography>
        <FormGroup>
          {gpus.map((gpu) => (
            <FormControlLabel
              key={gpu.index}
              control={<Checkbox checked={picked.includes(gpu.index)} onChange={() => toggle(gpu.index)} />}
              label={`GPU ${gpu.index} · ${gpu.name} · ${formatMib(gpu.memory_total_mib - gpu.memory_used_mib)} free`}
            />
          ))}
        </FormGroup>
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose}>Cancel</Button>
        <Button
          variant="contained"
          onClick={() => {
            onLoad(picked);
            onClose();
          }}
        >
          {picked.length ? `Load on GPU ${picked.join(', ')}` : 'Load'}
        </Button>
      </DialogActions>
    </Dialog>
  );
}
