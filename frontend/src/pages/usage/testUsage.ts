/**
 * For the usage pages' tests only: answers shaped like the gateway's usage routes, and MSW handlers that
 * filter and page the request log as the gateway does and remember every query string they received.
 */
import { http, HttpResponse } from 'msw';

import type {
  ClientUsage,
  QuotaList,
  RequestLogEntry,
  UsageBucket,
  UsageReport,
  UsageTotal,
} from './usageApi';

const DAY = 86_400;
/** Midnight UTC of the tests' "today". */
export const TODAY = Math.floor(Date.now() / 1000 / DAY) * DAY;

function counts(tokens: [number, number], audio = 0, requests = 1, errors = 0) {
  return {
    requests,
    errors,
    prompt_tokens: tokens[0],
    completion_tokens: tokens[1],
    total_tokens: tokens[0] + tokens[1],
    audio_seconds: audio,
  };
}

export const buckets: UsageBucket[] = [
  { start: TODAY - 2 * DAY, client: 'erp', model: 'qwen', ...counts([1000, 200], 0, 4) },
  { start: TODAY - DAY, client: 'erp', model: 'qwen', ...counts([3000, 450], 0, 9, 1) },
  { start: TODAY - DAY, client: 'crm', model: 'whisper-1', ...counts([0, 0], 620.5, 3) },
  { start: TODAY, client: 'crm', model: 'qwen', ...counts([500, 120], 0, 2) },
];

function totalsOf(list: UsageBucket[]): UsageTotal[] {
  const byKey = new Map<string, UsageTotal>();
  for (const bucket of list) {
    const key = `${bucket.client}/${bucket.model}`;
    const total = byKey.get(key) ?? { ...counts([0, 0], 0, 0), client: bucket.client, model: bucket.model };
    byKey.set(key, total);
    total.requests += bucket.requests;
    total.errors += bucket.errors;
    total.prompt_tokens += bucket.prompt_tokens;
    total.completion_tokens += bucket.completion_tokens;
    total.total_tokens += bucket.total_tokens;
    total.audio_seconds += bucket.audio_seconds;
  }
  return [...byKey.values()];
}

export function report(
  list: UsageBucket[] = buckets,
  granularity: UsageReport['granularity'] = 'day',
): UsageReport {
  return {
    start: TODAY - 6 * DAY,
    end: Math.floor(Date.now() / 1000),
    granularity,
    buckets: list,
    totals: totalsOf(list),
  };
}

export const quotas: QuotaList = {
  day: new Date(TODAY * 1000).toISOString().slice(0, 10),
  data: [
    {
      client: 'crm',
      tokens_per_day: 1000,
      tokens_used: 620,
      audio_seconds_per_day: 3600,
      audio_seconds_used: 3420,
      resets_at: TODAY + DAY,
    },
    {
      client: 'erp',
      tokens_per_day: null,
      tokens_used: 0,
      audio_seconds_per_day: null,
      audio_seconds_used: 0,
      resets_at: TODAY + DAY,
    },
  ],
};

export function entry(id: number, overrides: Partial<RequestLogEntry> = {}): RequestLogEntry {
  return {
    id,
    time: TODAY + id,
    kind: 'request',
    request_id: `req_${String(id).padStart(4, '0')}`,
    client: 'erp',
    method: 'POST',
    route: '/v1/chat/completions',
    model: 'qwen',
    status: 200,
    latency_ms: 812.4,
    prompt_tokens: 40,
    completion_tokens: 96,
    audio_seconds: 0,
    error_code: null,
    ...overrides,
  };
}

/** 120 entries, newest first: mostly chat from erp, every tenth a 429 from crm, two 500s. */
export const logEntries: RequestLogEntry[] = Array.from({ length: 120 }, (_, i) => {
  const id = 120 - i;
  if (id % 10 === 0) {
    return entry(id, {
      client: 'crm',
      status: 429,
      error_code: 'insufficient_quota',
      prompt_tokens: 0,
      completion_tokens: 0,
      latency_ms: 2.1,
    });
  }
  if (id === 7 || id === 33) {
    return entry(id, {
      route: '/v1/audio/transcriptions',
      model: 'whisper-1',
      status: 500,
      error_code: 'server_error',
      prompt_tokens: 0,
      completion_tokens: 0,
      audio_seconds: 31.5,
    });
  }
  return entry(id);
});

function statusMatches(status: number, filter: string): boolean {
  return filter.endsWith('xx') ? String(status)[0] === filter[0] : String(status) === filter;
}

/** Handlers for the admin routes and `/api/usage`; `queries` keeps each request-log query string. */
export function usageHandlers(
  options: { report?: UsageReport; quotas?: QuotaList; entries?: RequestLogEntry[]; mine?: ClientUsage } = {},
) {
  const queries: URLSearchParams[] = [];
  const usageQueries: URLSearchParams[] = [];
  const entries = options.entries ?? logEntries;
  const handlers = [
    http.get('*/api/admin/usage', ({ request }) => {
      usageQueries.push(new URL(request.url).searchParams);
      return HttpResponse.json(options.report ?? report());
    }),
    http.get('*/api/admin/quotas', () => HttpResponse.json(options.quotas ?? quotas)),
    http.get('*/api/admin/requests', ({ request }) => {
      const params = new URL(request.url).searchParams;
      queries.push(params);
      const matching = entries.filter(
        (e) =>
          (!params.get('client') || e.client === params.get('client')) &&
          (!params.get('model') || e.model === params.get('model')) &&
          (!params.get('route') || e.route === params.get('route')) &&
          (!params.get('status') || statusMatches(e.status, params.get('status')!)),
      );
      const limit = Number(params.get('limit') ?? 50);
      const offset = Number(params.get('offset') ?? 0);
      return HttpResponse.json({
        data: matching.slice(offset, offset + limit),
        total: matching.length,
        limit,
        offset,
      });
    }),
    http.get('*/api/usage', ({ request }) => {
      usageQueries.push(new URL(request.url).searchParams);
      return HttpResponse.json(
        options.mine ?? {
          usage: report(buckets.filter((b) => b.client === 'erp')),
          quota: {
            client: 'erp',
            tokens_per_day: 10_000,
            tokens_used: 2500,
            audio_seconds_per_day: null,
            audio_seconds_used: 0,
            resets_at: TODAY + DAY,
          },
        },
      );
    }),
  ];
  return { handlers, queries, usageQueries };
}
