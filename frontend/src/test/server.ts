/**
 * The tests' network: MSW answers the gateway's routes with the fixtures. A test changes one answer
 * with `server.use(http.get(...))`; handlers are reset after each test.
 */
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';

import type { MonitorHistory } from '../api/types';
import { adminMe, adminStatus, history, logEntries, servedModels } from './fixtures';

const LEVELS_IN_ORDER = ['debug', 'info', 'warning', 'error', 'critical'];

export const handlers = [
  http.get('*/api/auth/me', () => HttpResponse.json(adminMe)),
  http.get('*/api/admin/status', () => HttpResponse.json(adminStatus())),
  http.get('*/api/admin/monitor/history', ({ request }) =>
    HttpResponse.json(
      history({ range: (new URL(request.url).searchParams.get('range') ?? '1h') as MonitorHistory['range'] }),
    ),
  ),
  http.get('*/api/admin/logs', ({ request }) => {
    // The gateway's filter: level at least, substring of message or logger, entries after an id.
    const params = new URL(request.url).searchParams;
    const floor = LEVELS_IN_ORDER.indexOf(params.get('level') ?? 'debug');
    const q = (params.get('q') ?? '').toLowerCase();
    const after = Number(params.get('after') ?? 0);
    const entries = logEntries.filter(
      (e) =>
        e.id > after &&
        LEVELS_IN_ORDER.indexOf(e.level) >= floor &&
        (!q || e.message.toLowerCase().includes(q) || e.logger.toLowerCase().includes(q)),
    );
    return HttpResponse.json({ entries, last_id: logEntries.at(-1)?.id ?? 0 });
  }),
  http.get('*/v1/models', () => HttpResponse.json({ object: 'list', data: servedModels })),
];

export const server = setupServer(...handlers);
