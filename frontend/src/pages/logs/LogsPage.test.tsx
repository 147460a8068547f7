import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import { renderApp } from '../../test/render';

async function lines() {
  return (await screen.findAllByTestId('log-line')).map((line) => line.textContent ?? '');
}

describe('the logs page', () => {
  it('filters by level and by search text', async () => {
    renderApp('/logs');
    await waitFor(async () => expect(await lines()).toHaveLength(4)); // info and above: not the debug line
    await userEvent.click(screen.getByRole('combobox', { name: 'Level at least' }));
    await userEvent.click(within(await screen.findByRole('listbox')).getByRole('option', { name: 'error' }));
    await waitFor(async () => expect(await lines()).toHaveLength(1));
    expect((await lines())[0]).toContain('loading canary failed');

    await userEvent.click(screen.getByRole('combobox', { name: 'Level at least' }));
    await userEvent.click(within(await screen.findByRole('listbox')).getByRole('option', { name: 'debug' }));
    await userEvent.type(screen.getByRole('searchbox', { name: 'Search' }), 'NVML');
    await waitFor(async () => {
      const shown = await lines();
      expect(shown).toHaveLength(1);
      expect(shown[0]).toContain('NVML unavailable');
    });
    expect(screen.getByText('1 line')).toBeInTheDocument();
  });
});
