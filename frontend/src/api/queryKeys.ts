/**
 * Every TanStack Query key of the app, from one module: pages never write key arrays by hand, so
 * invalidating "everything about jobs" or "the admin status" cannot miss a spelling.
 *
 * Keys are hierarchical: `queryKeys.admin.all` is a prefix of every admin key.
 */
import type { LogLevel } from './types';

export type HistoryRange = '1h' | '6h' | '24h';

export interface LogFilter {
  level: LogLevel;
  q: string;
}

/** The Usage pages' ranges: the last 24 hours by hour, the last 7 or 30 UTC days by day. */
export type UsageRange = '24h' | '7d' | '30d';

export interface RequestLogFilter {
  client: string;
  model: string;
  route: string;
  /** A status (`429`) or a class (`4xx`); empty: any. */
  status: string;
  limit: number;
  offset: number;
}

export const queryKeys = {
  auth: {
    me: () => ['auth', 'me'] as const,
  },
  admin: {
    all: ['admin'] as const,
    status: () => ['admin', 'status'] as const,
    history: (range: HistoryRange) => ['admin', 'monitor', 'history', range] as const,
    logs: (filter: LogFilter) => ['admin', 'logs', filter] as const,
  },
  models: {
    /** `/v1/models`: the names clients may use. */
    served: () => ['v1', 'models'] as const,
  },
  jobs: {
    all: ['jobs'] as const,
    list: () => ['jobs', 'list'] as const,
    detail: (id: string) => ['jobs', 'detail', id] as const,
    /** A finished job's result in one format (the preview on its page). */
    result: (id: string, format: string) => ['jobs', 'detail', id, 'result', format] as const,
  },
  usage: {
    all: ['usage'] as const,
    /** Every client's usage (admin), over a range of the Usage page. */
    report: (range: UsageRange) => ['usage', 'report', range] as const,
    /** The request log, one page of one filter. */
    requests: (filter: RequestLogFilter) => ['usage', 'requests', filter] as const,
    quotas: () => ['usage', 'quotas'] as const,
    /** The caller's own usage and quota (`/api/usage`). */
    mine: (range: UsageRange) => ['usage', 'mine', range] as const,
  },
  translation: {
    /** The language codes and aliases a translation model accepts (`/v1/translate/languages`). */
    languages: (model: string) => ['v1', 'translate', 'languages', model] as const,
  },
  speech: {
    /** The voices a speech model offers. */
    voices: (model: string) => ['v1', 'audio', 'voices', model] as const,
  },
} as const;
