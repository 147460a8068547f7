/** Answers of a small gateway (CPU machine, three slots), shaped like the real ones; tests tweak copies. */
import type { AdminStatus, LogEntry, Me, ModelStatus, MonitorHistory, ServedModel } from '../api/types';

export const NOW = 1_796_000_000;

export const adminMe: Me = { name: 'ops', role: 'admin', open_mode: false };
export const clientMe: Me = { name: 'erp', role: 'client', open_mode: false };

export function model(overrides: Partial<ModelStatus> = {}): ModelStatus {
  return {
    key: 'qwen',
    kind: 'llm',
    model_id: 'Qwen/Qwen3-8B',
    served_names: ['Qwen/Qwen3-8B', 'qwen'],
    source: 'hub',
    cache_has_artifacts: false,
    in_flight_requests: 0,
    load_count: 0,
    state: 'absent',
    progress: 0,
    message: '',
    error: null,
    server: {},
    devices: [],
    updated_at: NOW,
    download: null,
    load: null,
    last_error: null,
    memory_leak_suspected: false,
    ...overrides,
  };
}

export function adminStatus(overrides: Partial<AdminStatus> = {}): AdminStatus {
  return {
    sampled_at: NOW,
    gpus: [],
    gpu_available: false,
    gpu_error: 'NVML unavailable: NVML Shared Library Not Found',
    system: {
      cpu_percent: 12.5,
      cpu_count: 2,
      memory_used_mib: 6144,
      memory_total_mib: 24576,
      load_average: [0.5, 0.4, 0.3],
      disk: { path: '/var/cache/models', total_bytes: 100e9, free_bytes: 60e9 },
    },
    models: [
      model(),
      model({
        key: 'canary',
        kind: 'asr',
        model_id: 'nvidia/canary-1b-v2',
        served_names: ['nvidia/canary-1b-v2', 'canary', 'whisper-1'],
      }),
      model({
        key: 'pyannote',
        kind: 'diarization',
        model_id: 'pyannote/speaker-diarization-community-1',
        served_names: ['pyannote/speaker-diarization-community-1', 'pyannote'],
      }),
    ],
    gpu_budget: [],
    batching: {},
    language_identification: {},
    decoding: { running: 0, waiting: 0, decodes: 0, max_concurrent: 2, queue_size: 64 },
    diarization_queues: {},
    translation_batching: {},
    speech_batching: {},
    dependencies: { problems: [], packages: {}, torch: null },
    huggingface_token: { configured: false, last4: null },
    settings: {
      lazy_load_models: true,
      auth_enabled: true,
      rate_limit_rpm: 0,
      model_cache_dir: '/var/cache/models',
    },
    limits: {
      backend: 'memory',
      url: null,
      reachable: true,
      failure_mode: null,
      unreachable_since: null,
      last_error: null,
      outages: 0,
      rate_limit_algorithm: 'token-bucket',
      quota_updates_pending: 0,
    },
    ...overrides,
  };
}

export function history(overrides: Partial<MonitorHistory> = {}): MonitorHistory {
  return {
    range: '1h',
    step_s: 5,
    gpus: [],
    system: Array.from({ length: 12 }, (_, i) => ({
      t: NOW - 60 + i * 5,
      cpu_percent: 10 + i,
      memory_used_mib: 6000 + i,
    })),
    ...overrides,
  };
}

export const logEntries: LogEntry[] = [
  { id: 1, time: NOW - 30, level: 'info', logger: 'app.models', message: 'qwen loaded on cpu in 0.52s' },
  { id: 2, time: NOW - 20, level: 'warning', logger: 'app.gpu', message: 'NVML unavailable' },
  { id: 3, time: NOW - 10, level: 'error', logger: 'app.models', message: 'loading canary failed' },
  { id: 4, time: NOW - 5, level: 'info', logger: 'uvicorn.error', message: 'Application startup complete.' },
  { id: 5, time: NOW - 1, level: 'debug', logger: 'app.gpu', message: 'sampled 0 GPUs' },
];

export const servedModels: ServedModel[] = [
  {
    id: 'Qwen/Qwen3-8B',
    object: 'model',
    created: 0,
    owned_by: 'inference-gateway',
    root: 'Qwen/Qwen3-8B',
    parent: null,
  },
  {
    id: 'qwen',
    object: 'model',
    created: 0,
    owned_by: 'inference-gateway',
    root: 'Qwen/Qwen3-8B',
    parent: null,
  },
];

export function envelope(message: string, type = 'invalid_request_error', code: string | null = null) {
  return { error: { message, type, param: null, code } };
}
