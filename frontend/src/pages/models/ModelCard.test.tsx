import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import type { LastError, ModelStatus } from '../../api/types';
import { adminStatus, model, NOW } from '../../test/fixtures';
import { renderApp } from '../../test/render';
import { server } from '../../test/server';

function serveModels(...models: ModelStatus[]) {
  server.use(http.get('*/api/admin/status', () => HttpResponse.json(adminStatus({ models }))));
}

async function card(key = 'qwen') {
  return screen.findByTestId(`model-card-${key}`);
}

function buttons(element: HTMLElement) {
  const get = (name: string) => within(element).getByRole('button', { name });
  return { download: get('Download'), load: get('Load'), unload: get('Unload') };
}

describe('a model card', () => {
  it.each([
    ['absent', 'hub', { download: true, load: true, unload: false }],
    ['downloaded', 'hub', { download: true, load: true, unload: false }],
    ['downloaded', 'local', { download: false, load: true, unload: false }],
    ['downloading', 'hub', { download: false, load: false, unload: false }],
    ['loading', 'hub', { download: false, load: false, unload: false }],
    ['loaded', 'hub', { download: false, load: false, unload: true }],
    ['unloading', 'hub', { download: false, load: false, unload: false }],
    ['error', 'hub', { download: true, load: true, unload: false }],
  ] as const)('in state %s (%s) enables only what makes sense', async (state, source, enabled) => {
    serveModels(model({ state, source }));
    renderApp('/models');
    const element = await card();
    expect(within(element).getByTestId('state-chip')).toHaveTextContent(state);
    const { download, load, unload } = buttons(element);
    expect(download.hasAttribute('disabled')).toBe(!enabled.download);
    expect(load.hasAttribute('disabled')).toBe(!enabled.load);
    expect(unload.hasAttribute('disabled')).toBe(!enabled.unload);
  });

  it('of an upstream slot lists its replicas with their state, and has nothing to download', async () => {
    const replica = (url: string, state: string, extra: object = {}) => ({
      url,
      state,
      healthy: state === 'up',
      in_flight: 0,
      requests: 3,
      failures: 0,
      latency_ms: 12.5,
      check_latency_ms: 1.2,
      last_check_at: NOW,
      last_error: null,
      ...extra,
    });
    serveModels(
      model({
        state: 'loaded',
        source: 'upstream',
        server: {
          engine: 'upstream',
          upstream_model: 'Qwen/Qwen3-VL-30B-A3B-Instruct',
          replicas: [
            replica('http://vllm-a:8000/v1', 'up', { in_flight: 2 }),
            replica('http://vllm-b:8000/v1', 'down', {
              latency_ms: null,
              last_error: { message: 'health check: ClientConnectorError', at: NOW },
            }),
          ],
        },
      }),
    );
    renderApp('/models');
    const element = await card();
    expect(element).toHaveTextContent('upstream servers');
    const rows = within(within(element).getByTestId('replicas')).getAllByRole('listitem');
    expect(rows).toHaveLength(2);
    expect(rows[0]).toHaveTextContent('up');
    expect(rows[0]).toHaveTextContent('http://vllm-a:8000/v1');
    expect(rows[0]).toHaveTextContent('2 in flight · 12.5 ms');
    expect(rows[1]).toHaveTextContent('down');
    expect(rows[1]).toHaveTextContent('health check: ClientConnectorError');
    expect(buttons(element).download.hasAttribute('disabled')).toBe(true);
  });

  it('shows download bytes, percent, speed and time left', async () => {
    serveModels(
      model({
        state: 'downloading',
        progress: 0.25,
        download: {
          done_bytes: 4_000_000_000,
          total_bytes: 16_000_000_000,
          bytes_per_s: 50_000_000,
          eta_s: 240,
        },
      }),
    );
    renderApp('/models');
    const progress = await within(await card()).findByTestId('download-progress');
    expect(progress).toHaveTextContent('4.0 GB of 16.0 GB · 25 % · 50.0 MB/s · 4 min 00 s left');
    expect(within(progress).getByRole('progressbar')).toHaveAttribute('aria-valuenow', '25');
  });

  it('shows the load running and its time so far, then the load time', async () => {
    serveModels(
      model({
        state: 'loading',
        message: 'loading on cuda:0',
        load: { started_at: NOW - 12, elapsed_s: 12.4, previous_load_s: 30 },
      }),
    );
    const { unmount } = renderApp('/models');
    expect(await within(await card()).findByTestId('load-progress')).toHaveTextContent(
      'loading on cuda:0 · 12 s so far (last load took 30 s)',
    );
    unmount();

    serveModels(
      model({ state: 'loaded', devices: ['cuda:0'], server: { load_seconds: 3.25, engine: 'vllm' } }),
    );
    renderApp('/models');
    const loaded = await card();
    expect(loaded).toHaveTextContent('Load time3.3 s');
    expect(loaded).toHaveTextContent('Devicescuda:0');
    expect(loaded).toHaveTextContent('Enginevllm');
  });

  it('shows the error with its remedy, and keeps the last failure visible after recovery', async () => {
    const failure: LastError = {
      message: 'OSError: no space left on device',
      remedy: 'Free space in MODEL_CACHE_DIR',
      at: NOW,
      during: 'download',
    };
    serveModels(
      model({ state: 'error', error: failure.message, last_error: failure }),
      model({ key: 'canary', kind: 'asr', state: 'downloaded', last_error: failure }),
    );
    renderApp('/models');
    expect(await within(await card()).findByTestId('model-error')).toHaveTextContent(
      'OSError: no space left on deviceWhat to do: Free space in MODEL_CACHE_DIR',
    );
    expect(within(await card('canary')).getByTestId('last-failure')).toHaveTextContent(
      'no space left on device',
    );
  });

  it('flags memory that did not come back after an unload', async () => {
    serveModels(
      model({
        state: 'downloaded',
        memory_leak_suspected: true,
        server: {
          gpu_memory_used_mib_before_unload: { 'cuda:0': 20000 },
          gpu_memory_used_mib_after_unload: { 'cuda:0': 15000 },
        },
      }),
    );
    renderApp('/models');
    const element = await card();
    expect(within(element).getByTestId('leak')).toHaveTextContent('19.5 GiB before, 14.6 GiB after');
    expect(element).toHaveTextContent('Given back at unload4.9 GiB');
  });

  it('unloads after a confirmation that tells about the drain', async () => {
    let unloaded = false;
    serveModels(model({ state: 'loaded', in_flight_requests: 2 }));
    server.use(
      http.post('*/api/admin/models/qwen/unload', async ({ request }) => {
        unloaded = true;
        expect(await request.json()).toEqual({ wait: true });
        return HttpResponse.json({ action: 'unload', model: model({ state: 'unloading' }) }, { status: 202 });
      }),
    );
    renderApp('/models');
    await userEvent.click(buttons(await card()).unload);
    const dialog = await screen.findByRole('dialog', { name: 'Unload qwen?' });
    expect(dialog).toHaveTextContent('2 request(s) in flight finish first');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Unload' }));
    await waitFor(() => expect(unloaded).toBe(true));
  });

  it('shows the server message when an action is refused', async () => {
    serveModels(model({ state: 'absent' }));
    server.use(
      http.post('*/api/admin/models/qwen/load', () =>
        HttpResponse.json(
          {
            error: {
              message: 'gpu_device_ids must be distinct',
              type: 'invalid_request_error',
              param: 'gpu_device_ids',
              code: null,
            },
          },
          { status: 400 },
        ),
      ),
    );
    renderApp('/models');
    await userEvent.click(buttons(await card()).load);
    expect(await within(await card()).findByText('gpu_device_ids must be distinct')).toBeInTheDocument();
  });
});
