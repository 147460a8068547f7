import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';

import type { SystemSample } from '../../api/types';
import { formatBytes, formatMib } from '../../components/format';
import { freeSpaceLevel, percentLevel } from '../../components/levels';
import { MetricBar } from '../../components/MetricBar';

export function SystemCard({ system }: { system: SystemSample }) {
  const memoryPercent = system.memory_total_mib
    ? (100 * system.memory_used_mib) / system.memory_total_mib
    : 0;
  const disk = system.disk;
  const diskUsedPercent = disk && disk.total_bytes ? 100 * (1 - disk.free_bytes / disk.total_bytes) : 0;
  return (
    <Card>
      <CardContent>
        <Stack spacing={1.5}>
          <Typography variant="h3" component="h2">
            System
          </Typography>
          <MetricBar
            label="CPU"
            percent={system.cpu_percent}
            detail={[
              system.cpu_count ? `${system.cpu_count} cores` : null,
              system.load_average ? `load ${system.load_average.map((l) => l.toFixed(2)).join(' ')}` : null,
            ]
              .filter(Boolean)
              .join(' · ')}
            level={percentLevel(system.cpu_percent)}
            measure="busy"
          />
          <MetricBar
            label="Memory"
            percent={memoryPercent}
            detail={`${formatMib(system.memory_used_mib)} of ${formatMib(system.memory_total_mib)}`}
            level={percentLevel(memoryPercent)}
          />
          {disk && (
            <MetricBar
              label="Model cache disk"
              percent={diskUsedPercent}
              detail={`${formatBytes(disk.free_bytes)} free of ${formatBytes(disk.total_bytes)}`}
              level={freeSpaceLevel(disk.total_bytes ? disk.free_bytes / disk.total_bytes : 1)}
            />
          )}
          {disk && (
            <Typography variant="caption" color="text.secondary" sx={{ wordBreak: 'break-all' }}>
              {disk.path}
            </Typography>
          )}
        </Stack>
      </CardContent>
    </Card>
  );
}
