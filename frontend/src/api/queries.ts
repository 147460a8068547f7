/**
 * Query and mutation hooks for the gateway's JSON routes. Pages use these (or add theirs here), never
 * `fetch` directly: keys come from `queryKeys`, calls from the typed client, errors are ApiErrors.
 */
import { useMutation, useQuery, useQueryClient, type UseQueryOptions } from '@tanstack/react-query';

import { api, unwrap } from './client';
import { queryKeys, type HistoryRange, type LogFilter } from './queryKeys';
import type {
  AdminStatus,
  HuggingFaceToken,
  LogPage,
  Me,
  ModelStatus,
  MonitorHistory,
  ServedModel,
} from './types';

/** How often live pages poll `/api/admin/status`: the issue asks for ≤ 2 s behind the server. */
export const STATUS_POLL_MS = 1000;

export function useMe() {
  return useQuery({
    queryKey: queryKeys.auth.me(),
    queryFn: async (): Promise<Me> => unwrap(await api.GET('/api/auth/me')),
    staleTime: 60_000,
  });
}

export function useAdminStatus(
  options: Pick<UseQueryOptions<AdminStatus>, 'enabled' | 'refetchInterval'> = {},
) {
  return useQuery({
    queryKey: queryKeys.admin.status(),
    queryFn: async (): Promise<AdminStatus> => unwrap(await api.GET('/api/admin/status')),
    refetchInterval: STATUS_POLL_MS,
    ...options,
  });
}

export function useMonitorHistory(range: HistoryRange) {
  return useQuery({
    queryKey: queryKeys.admin.history(range),
    queryFn: async (): Promise<MonitorHistory> =>
      unwrap(await api.GET('/api/admin/monitor/history', { params: { query: { range } } })),
    refetchInterval: range === '1h' ? 5_000 : 60_000,
  });
}

export async function fetchLogs(filter: LogFilter, after: number | null, limit: number): Promise<LogPage> {
  const query = {
    level: filter.level,
    limit,
    ...(filter.q ? { q: filter.q } : {}),
    ...(after !== null ? { after } : {}),
  };
  return unwrap(await api.GET('/api/admin/logs', { params: { query } }));
}

export function useServedModels() {
  return useQuery({
    queryKey: queryKeys.models.served(),
    queryFn: async (): Promise<ServedModel[]> => unwrap(await api.GET('/v1/models')).data,
    staleTime: 30_000,
  });
}

export function useSetHuggingfaceToken() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (token: string | null): Promise<HuggingFaceToken> =>
      unwrap(await api.POST('/api/admin/huggingface/token', { body: { token } })),
    // The token's state is part of the status (`huggingface_token`), which the Models page shows.
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.admin.status() }),
  });
}

export type ModelAction =
  | { action: 'download'; key: string }
  | { action: 'load'; key: string; gpuDeviceIds?: number[] }
  | { action: 'unload'; key: string };

/** Download, load or unload a slot; the status poll shows the progress that follows. */
export function useModelAction() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (request: ModelAction): Promise<ModelStatus> => {
      const params = { path: { key: request.key } };
      let result;
      if (request.action === 'download') {
        result = await api.POST('/api/admin/models/{key}/download', { params });
      } else if (request.action === 'load') {
        const body = request.gpuDeviceIds?.length ? { gpu_device_ids: request.gpuDeviceIds } : undefined;
        result = await api.POST('/api/admin/models/{key}/load', { params, body });
      } else {
        result = await api.POST('/api/admin/models/{key}/unload', { params, body: { wait: true } });
      }
      return unwrap(result).model;
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: queryKeys.admin.status() }),
  });
}
