import { screen, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { adminStatus } from '../../test/fixtures';
import { renderApp } from '../../test/render';
import { server } from '../../test/server';

describe('the overview', () => {
  it('says plainly that no GPU is visible and the models run on the CPU', async () => {
    renderApp('/');
    const cpuMode = await screen.findByTestId('cpu-mode');
    expect(cpuMode).toHaveTextContent('No GPU visible — CPU mode');
    expect(cpuMode).toHaveTextContent('NVML unavailable: NVML Shared Library Not Found');
    // The machine is still shown: CPU, memory, the cache's disk.
    expect(screen.getByRole('heading', { name: 'System' })).toBeInTheDocument();
    expect(screen.getByLabelText(/^Model cache disk: 40 %/)).toBeInTheDocument();
    expect(screen.getByText(/60\.0 GB free of 100 GB/)).toBeInTheDocument();
  });

  it('shows a GPU with its memory, utilisation and temperature badges', async () => {
    server.use(
      http.get('*/api/admin/status', () =>
        HttpResponse.json(
          adminStatus({
            gpu_available: true,
            gpu_error: null,
            gpus: [
              {
                index: 0,
                physical_index: 0,
                name: 'NVIDIA H200',
                uuid: 'GPU-1',
                memory_used_mib: 130_000,
                memory_total_mib: 143_771,
                utilization_percent: 87,
                temperature_c: 80,
                processes: [],
              },
            ],
          }),
        ),
      ),
    );
    renderApp('/');
    const gpu = await screen.findByTestId('gpu-0');
    expect(gpu).toHaveTextContent('GPU 0 · NVIDIA H200');
    expect(within(gpu).getByLabelText(/^Memory: 90 %/)).toBeInTheDocument();
    expect(gpu).toHaveTextContent('87 % busy');
    expect(within(gpu).getByLabelText('temperature 80 degrees Celsius')).toHaveClass('MuiChip-colorWarning');
    expect(screen.queryByTestId('cpu-mode')).not.toBeInTheDocument();
  });

  it('turns dependency problems into warnings that say what to do', async () => {
    server.use(
      http.get('*/api/admin/status', () =>
        HttpResponse.json(
          adminStatus({
            dependencies: {
              problems: ['ffmpeg is not installed: audio uploads cannot be decoded'],
              packages: {},
              torch: null,
            },
          }),
        ),
      ),
    );
    renderApp('/');
    const problems = await screen.findByTestId('dependency-problems');
    expect(problems).toHaveTextContent('ffmpeg is not installed');
    expect(problems).toHaveTextContent('What to do: Install FFmpeg');
  });

  it('says where the limits are shared and warns while that Redis does not answer', async () => {
    const redis = {
      backend: 'redis' as const,
      url: 'redis://:***@redis:6379/0',
      failure_mode: 'closed' as const,
      last_error: 'ConnectionError: Connection refused',
      outages: 1,
      rate_limit_algorithm: 'moving-window' as const,
      quota_updates_pending: 0,
    };
    server.use(
      http.get('*/api/admin/status', () =>
        HttpResponse.json(
          adminStatus({ limits: { ...redis, reachable: false, unreachable_since: 1_780_000_000 } }),
        ),
      ),
    );
    renderApp('/');
    const card = await screen.findByTestId('shared-limits');
    expect(card).toHaveTextContent('Redis unreachable');
    expect(card).toHaveTextContent('shared with the other gateways in redis://:***@redis:6379/0');
    expect(card).toHaveTextContent('1 outage since the gateway started.');
    expect(within(card).getByRole('alert')).toHaveTextContent(/refused \(503\).*Connection refused/);
  });

  it('shows no shared-limits card when the limits live in this process', async () => {
    renderApp('/');
    await screen.findByTestId('cpu-mode');
    expect(screen.queryByTestId('shared-limits')).not.toBeInTheDocument();
  });
});
