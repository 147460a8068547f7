import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { clientMe } from '../../test/fixtures';
import { renderApp } from '../../test/render';
import { server } from '../../test/server';
import { entry, report, usageHandlers } from './testUsage';

function withUsage(options: Parameters<typeof usageHandlers>[0] = {}) {
  const mocks = usageHandlers(options);
  server.use(...mocks.handlers);
  return mocks;
}

async function logRows() {
  return within(await screen.findByTestId('request-log')).findAllByTestId('request-log-row');
}

async function choose(testId: string, option: string | RegExp) {
  await userEvent.click(within(screen.getByTestId(testId)).getByRole('combobox'));
  await userEvent.click(within(await screen.findByRole('listbox')).getByRole('option', { name: option }));
}

describe('the usage page', () => {
  it('shows usage per client over the range, the totals per client and model, and the quotas', async () => {
    const { usageQueries } = withUsage();
    renderApp('/usage');
    const chart = await screen.findByTestId('usage-chart');
    expect(chart).toHaveTextContent('Total tokens per UTC day');
    expect(within(chart).getByTestId('usage-sums')).toHaveTextContent(
      '18 requests · 5,270 tokens · 10.3 min of audio',
    );
    expect(within(chart).getByRole('figure')).toHaveAccessibleName(
      'Total tokens per UTC day, stacked by client: crm, erp',
    );
    // The legend: one stacked series per client.
    const figure = within(chart).getByRole('figure');
    expect(within(figure).getByText('crm')).toBeInTheDocument();
    expect(within(figure).getByText('erp')).toBeInTheDocument();
    // Last 7 days by day: from the UTC midnight 6 days ago.
    const query = usageQueries.at(-1)!;
    expect(query.get('granularity')).toBe('day');
    expect(Number(query.get('start')) % 86_400).toBe(0);

    await userEvent.click(within(chart).getByRole('button', { name: 'Audio seconds' }));
    expect(within(chart).getByRole('figure')).toHaveAccessibleName(/^Audio seconds per UTC day/);

    const rows = within(screen.getByTestId('usage-totals')).getAllByTestId('usage-total-row');
    expect(rows.map((row) => [...row.querySelectorAll('td')].map((cell) => cell.textContent))).toEqual([
      ['erp', 'qwen', '13', '1', '4,000', '650', '4,650', '0 s'],
      ['crm', 'qwen', '2', '0', '500', '120', '620', '0 s'],
      ['crm', 'whisper-1', '3', '0', '0', '0', '0', '10.3 min'],
    ]);

    const crm = screen.getByTestId('quota-crm');
    expect(within(crm).getByRole('progressbar', { name: 'Tokens: 62 % used, 620 of 1,000' })).toHaveClass(
      'MuiLinearProgress-colorSuccess',
    );
    expect(within(crm).getByRole('progressbar', { name: 'Audio: 95 % used, 57 min of 1 h' })).toHaveClass(
      'MuiLinearProgress-colorError',
    );
    expect(crm).toHaveTextContent(/Resets .+ \(your time\)/);
    const erp = screen.getByTestId('quota-erp');
    expect(within(erp).queryByRole('progressbar')).not.toBeInTheDocument();
    expect(erp).toHaveTextContent('Tokens: no quota · 0 used today');
    expect(erp).toHaveTextContent('Audio: no quota · 0 s used today');
  });

  it('asks for the last 24 hours by hour', async () => {
    const { usageQueries } = withUsage();
    renderApp('/usage');
    await screen.findByTestId('usage-chart');
    await userEvent.click(screen.getByRole('button', { name: '24 h' }));
    await waitFor(() => expect(usageQueries.at(-1)!.get('granularity')).toBe('hour'));
    const start = Number(usageQueries.at(-1)!.get('start'));
    expect(start % 3600).toBe(0);
    expect(Date.now() / 1000 - start).toBeGreaterThan(23 * 3600);
    expect(Date.now() / 1000 - start).toBeLessThanOrEqual(24 * 3600);
  });

  it('lists the request log newest first with its columns', async () => {
    const { queries } = withUsage();
    renderApp('/usage');
    const rows = await logRows();
    expect(rows).toHaveLength(50);
    expect(queries.at(-1)!.toString()).toBe('limit=50&offset=0');
    const cells = [...rows[0]!.querySelectorAll('td')].map((cell) => cell.textContent);
    expect(cells.slice(1, 9)).toEqual([
      'crm',
      'POST /v1/chat/completions',
      'qwen',
      '429',
      '2 ms',
      '–',
      '–',
      'insufficient_quota',
    ]);
    expect(cells[9]).toContain('req_0120');
    expect(within(rows[0]!).getByText('429')).toHaveClass('MuiChip-label');
    expect(within(rows[0]!).getByTestId('request-status')).toHaveClass('MuiChip-colorWarning');
    expect(within(rows[1]!).getByTestId('request-status')).toHaveClass('MuiChip-colorSuccess');
    expect(rows[1]).toHaveTextContent('136'); // 40 prompt + 96 completion tokens
    expect(screen.getByText('120 matching')).toBeInTheDocument();
    expect(within(rows[0]!).getByRole('button', { name: 'Copy request id req_0120' })).toBeInTheDocument();
  });

  it('sends the filters to the gateway and starts again from the first page', async () => {
    const { queries } = withUsage();
    renderApp('/usage');
    await logRows();
    await userEvent.click(screen.getByRole('button', { name: 'Go to next page' }));
    await waitFor(() => expect(queries.at(-1)!.get('offset')).toBe('50'));

    await choose('request-log-filter-status', /^4xx/);
    await waitFor(() => expect(queries.at(-1)!.toString()).toBe('limit=50&offset=0&status=4xx'));
    await waitFor(async () => expect(await logRows()).toHaveLength(12));
    for (const row of await logRows()) expect(row).toHaveTextContent('429');

    await choose('request-log-filter-status', /^5xx/);
    await waitFor(async () => expect(await logRows()).toHaveLength(2));
    expect((await logRows())[0]).toHaveTextContent('server_error');
    expect((await logRows())[0]).toHaveTextContent('31.5');

    await choose('request-log-filter-status', 'Any');
    await choose('request-log-filter-client', 'crm');
    await choose('request-log-filter-model', 'qwen');
    await waitFor(() => expect(queries.at(-1)!.toString()).toBe('limit=50&offset=0&client=crm&model=qwen'));

    await userEvent.type(
      within(screen.getByTestId('request-log-filter-route')).getByRole('combobox'),
      'job:both',
    );
    await waitFor(() =>
      expect(queries.at(-1)!.toString()).toBe('limit=50&offset=0&client=crm&model=qwen&route=job%3Aboth'),
    );
    expect(await screen.findByText('No request matches.')).toBeInTheDocument();
  });

  it('pages through the log on the server', async () => {
    const { queries } = withUsage();
    renderApp('/usage');
    await logRows();
    expect(screen.getByText('1–50 of 120')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('combobox', { name: /Rows per page/ }));
    await userEvent.click(within(await screen.findByRole('listbox')).getByRole('option', { name: '25' }));
    await waitFor(() => expect(queries.at(-1)!.toString()).toBe('limit=25&offset=0'));
    await userEvent.click(screen.getByRole('button', { name: 'Go to next page' }));
    await userEvent.click(screen.getByRole('button', { name: 'Go to next page' }));
    await waitFor(() => expect(queries.at(-1)!.toString()).toBe('limit=25&offset=50'));
    await waitFor(() => expect(screen.getByText('51–75 of 120')).toBeInTheDocument());
    const first = (await logRows())[0]!;
    expect(first).toHaveTextContent('req_0070');
  });

  it('says when nothing was used and nothing was logged', async () => {
    withUsage({ report: report([]), entries: [], quotas: { day: '2026-12-04', data: [] } });
    renderApp('/usage');
    expect(
      await within(await screen.findByTestId('usage-chart')).findByText('No use in this range.'),
    ).toBeVisible();
    expect(screen.getByTestId('usage-totals')).toHaveTextContent('No requests in this range.');
    expect(await within(screen.getByTestId('request-log')).findByText('No request matches.')).toBeVisible();
    expect(screen.getByText('No client has a key.')).toBeInTheDocument();
    expect(screen.getByText('0 matching')).toBeInTheDocument();
  });

  it("shows the gateway's error when usage or the log cannot be read", async () => {
    withUsage();
    const failure = HttpResponse.json(
      {
        error: { message: 'the request log is not available', type: 'server_error', param: null, code: null },
      },
      { status: 503 },
    );
    server.use(
      http.get('*/api/admin/usage', () => failure.clone()),
      http.get('*/api/admin/requests', () => failure.clone()),
    );
    renderApp('/usage');
    await waitFor(() => expect(screen.getAllByText('the request log is not available')).toHaveLength(2));
    expect(screen.queryByTestId('usage-chart')).not.toBeInTheDocument();
    expect(screen.getByTestId('quota-crm')).toBeInTheDocument(); // what could be read is still shown
  });

  it('is for admins: a client key does not see it listed and gets My usage instead', async () => {
    withUsage();
    server.use(http.get('*/api/auth/me', () => HttpResponse.json(clientMe)));
    renderApp('/usage');
    expect(
      await screen.findByText('Usage is for admins: this key (erp) is a client key.'),
    ).toBeInTheDocument();
    const nav = screen.getAllByRole('navigation', { name: 'Pages' })[0]!;
    expect(within(nav).queryByRole('link', { name: 'Usage' })).not.toBeInTheDocument();
    expect(within(nav).getByRole('link', { name: 'My usage' })).toBeInTheDocument();
    expect(entry(1).route).toBe('/v1/chat/completions');
  });
});
