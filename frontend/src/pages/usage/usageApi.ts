/**
 * Usage, the request log and quotas (`/api/admin/usage`, `/api/admin/requests`, `/api/admin/quotas`,
 * `/api/usage`): their shapes, the ranges the pages offer, and the hooks of the Usage and My usage pages.
 */
import { keepPreviousData, useQuery } from '@tanstack/react-query';

import { api, unwrap } from '../../api/client';
import { queryKeys, type RequestLogFilter, type UsageRange } from '../../api/queryKeys';
import type { components } from '../../api/schema';

type Schemas = components['schemas'];
export type UsageReport = Schemas['UsageReport'];
export type UsageBucket = Schemas['UsageBucket'];
export type UsageTotal = Schemas['UsageTotal'];
export type RequestLogEntry = Schemas['RequestLogEntry'];
export type RequestLogPage = Schemas['RequestLogPage'];
export type QuotaUse = Schemas['QuotaUse'];
export type QuotaList = Schemas['QuotaList'];
export type ClientUsage = Schemas['ClientUsage'];
export type Granularity = UsageReport['granularity'];

export type { RequestLogFilter, UsageRange };

const HOUR_S = 3600;
const DAY_S = 86_400;

export const RANGES: { value: UsageRange; label: string; granularity: Granularity; periods: number }[] = [
  { value: '24h', label: '24 h', granularity: 'hour', periods: 24 },
  { value: '7d', label: '7 days', granularity: 'day', periods: 7 },
  { value: '30d', label: '30 days', granularity: 'day', periods: 30 },
];

/** The query of a range: whole hours (the current one included) or whole UTC days (today included). */
export function rangeQuery(range: UsageRange, nowS = Date.now() / 1000) {
  const { granularity, periods } = RANGES.find((r) => r.value === range)!;
  const step = granularity === 'hour' ? HOUR_S : DAY_S;
  const start = Math.floor(nowS / step) * step - (periods - 1) * step;
  return { start: String(start), granularity };
}

/** Each period's start from the report's range, so days or hours without use show as empty. */
export function periodStarts(report: UsageReport): number[] {
  const step = report.granularity === 'hour' ? HOUR_S : DAY_S;
  const starts: number[] = [];
  for (let t = Math.floor(report.start / step) * step; t < report.end; t += step) starts.push(t);
  return starts;
}

/** The status filter's choices: a class or the one status that matters most (429: refused). */
export const STATUS_FILTERS: { value: string; label: string }[] = [
  { value: '', label: 'Any' },
  { value: '2xx', label: '2xx (succeeded)' },
  { value: '4xx', label: '4xx (refused)' },
  { value: '429', label: '429 (rate limit or quota)' },
  { value: '5xx', label: '5xx (failed)' },
];

/** Routes worth suggesting in the route filter (any template, or `job:<task>`, may be typed). */
export const KNOWN_ROUTES = [
  '/v1/chat/completions',
  '/v1/completions',
  '/v1/models',
  '/v1/audio/transcriptions',
  '/v1/audio/translations',
  '/api/audio/transcribe',
  '/api/diarization/process',
  '/api/jobs',
  'job:transcribe',
  'job:diarize',
  'job:both',
];

export const REQUEST_LOG_POLL_MS = 10_000;
const USAGE_POLL_MS = 60_000;

export function useUsageReport(range: UsageRange) {
  return useQuery({
    queryKey: queryKeys.usage.report(range),
    queryFn: async (): Promise<UsageReport> =>
      unwrap(await api.GET('/api/admin/usage', { params: { query: rangeQuery(range) } })),
    refetchInterval: USAGE_POLL_MS,
    placeholderData: keepPreviousData,
  });
}

export function useQuotas() {
  return useQuery({
    queryKey: queryKeys.usage.quotas(),
    queryFn: async (): Promise<QuotaList> => unwrap(await api.GET('/api/admin/quotas')),
    refetchInterval: USAGE_POLL_MS,
  });
}

/** One page of the log; refreshed every 10 s while the page is visible (not in a background tab). */
export function useRequestLog(filter: RequestLogFilter) {
  return useQuery({
    queryKey: queryKeys.usage.requests(filter),
    queryFn: async (): Promise<RequestLogPage> => {
      const query = {
        limit: filter.limit,
        offset: filter.offset,
        ...(filter.client ? { client: filter.client } : {}),
        ...(filter.model ? { model: filter.model } : {}),
        ...(filter.route ? { route: filter.route } : {}),
        ...(filter.status ? { status: filter.status } : {}),
      };
      return unwrap(await api.GET('/api/admin/requests', { params: { query } }));
    },
    refetchInterval: REQUEST_LOG_POLL_MS,
    refetchIntervalInBackground: false,
    // The rows stay while the next page or filter loads (no jump to a skeleton).
    placeholderData: keepPreviousData,
  });
}

export function useMyUsage(range: UsageRange) {
  return useQuery({
    queryKey: queryKeys.usage.mine(range),
    queryFn: async (): Promise<ClientUsage> =>
      unwrap(await api.GET('/api/usage', { params: { query: rangeQuery(range) } })),
    refetchInterval: USAGE_POLL_MS,
    placeholderData: keepPreviousData,
  });
}
