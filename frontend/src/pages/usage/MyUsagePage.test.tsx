import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { clientMe } from '../../test/fixtures';
import { renderApp } from '../../test/render';
import { server } from '../../test/server';
import { report, TODAY, usageHandlers } from './testUsage';

function asClient() {
  server.use(http.get('*/api/auth/me', () => HttpResponse.json(clientMe)));
}

describe('my usage', () => {
  it('shows a client key its own usage per model and its quota', async () => {
    asClient();
    const mocks = usageHandlers();
    server.use(...mocks.handlers);
    renderApp('/my-usage');
    const chart = await screen.findByTestId('my-usage-chart');
    expect(screen.getByRole('heading', { level: 1, name: 'My usage' })).toBeInTheDocument();
    expect(screen.getByText('What this key (erp) used, per model, and its daily quota.')).toBeInTheDocument();
    expect(within(chart).getByTestId('usage-sums')).toHaveTextContent(
      '13 requests · 4,650 tokens · 0 s of audio',
    );
    expect(within(chart).getByRole('figure')).toHaveAccessibleName(
      'Total tokens per UTC day, stacked by model: qwen',
    );
    const totals = screen.getByTestId('my-usage-totals');
    expect(within(totals).queryByRole('columnheader', { name: 'Client' })).not.toBeInTheDocument();
    const cells = [...within(totals).getByTestId('usage-total-row').querySelectorAll('td')];
    expect(cells.map((cell) => cell.textContent)).toEqual([
      'qwen',
      '13',
      '1',
      '4,000',
      '650',
      '4,650',
      '0 s',
    ]);

    const quota = screen.getByTestId('my-quota');
    expect(
      within(quota).getByRole('progressbar', { name: 'Tokens: 25 % used, 2,500 of 10,000' }),
    ).toBeVisible();
    expect(quota).toHaveTextContent('Audio: no quota');
    expect(quota).toHaveTextContent(/Resets .+ \(your time\)/);

    // The range changes the query: 30 days from the UTC midnight 29 days ago.
    await userEvent.click(screen.getByRole('button', { name: '30 days' }));
    await waitFor(() => expect(mocks.usageQueries.at(-1)!.get('start')).toBe(String(TODAY - 29 * 86_400)));
    expect(mocks.usageQueries.at(-1)!.get('granularity')).toBe('day');
    // A client key never calls the admin routes (MSW would have answered them too: none was asked).
    expect(mocks.queries).toHaveLength(0);
  });

  it('says when the key has used nothing yet', async () => {
    asClient();
    const mocks = usageHandlers({
      mine: {
        usage: report([]),
        quota: {
          client: 'erp',
          tokens_per_day: 1000,
          tokens_used: 0,
          audio_seconds_per_day: 60,
          audio_seconds_used: 0,
          resets_at: TODAY + 86_400,
        },
      },
    });
    server.use(...mocks.handlers);
    renderApp('/my-usage');
    const chart = await screen.findByTestId('my-usage-chart');
    expect(chart).toHaveTextContent('No use in this range.');
    expect(screen.getByTestId('my-usage-totals')).toHaveTextContent('No requests in this range.');
    expect(screen.getByRole('progressbar', { name: 'Audio: 0 % used, 0 s of 1 min' })).toBeInTheDocument();
  });

  it("shows the gateway's error", async () => {
    server.use(
      http.get('*/api/usage', () =>
        HttpResponse.json(
          {
            error: {
              message: 'the request log is not available',
              type: 'server_error',
              param: null,
              code: null,
            },
          },
          { status: 503 },
        ),
      ),
    );
    renderApp('/my-usage');
    expect(await screen.findByText('the request log is not available')).toBeInTheDocument();
    expect(screen.queryByTestId('my-usage-chart')).not.toBeInTheDocument();
  });
});
