import { screen } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { clientMe } from '../test/fixtures';
import { renderApp } from '../test/render';
import { server } from '../test/server';

describe('the app shell', () => {
  it('shows a client key the playgrounds, not the admin pages', async () => {
    server.use(http.get('*/api/auth/me', () => HttpResponse.json(clientMe)));
    const { router } = renderApp('/');
    // `/` is the admin's overview: a client lands on the chat playground.
    expect(await screen.findByRole('heading', { name: 'Chat', level: 1 })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/playground/chat');
    const nav = screen.getByRole('navigation', { name: 'Pages' });
    expect(nav).toHaveTextContent('Who said what');
    expect(nav).not.toHaveTextContent('Models');
    expect(nav).not.toHaveTextContent('Logs');
  });

  it('tells a client key that an admin page is not for it', async () => {
    server.use(http.get('*/api/auth/me', () => HttpResponse.json(clientMe)));
    renderApp('/models');
    expect(
      await screen.findByText('Models is for admins: this key (erp) is a client key.'),
    ).toBeInTheDocument();
  });

  it('warns about open mode', async () => {
    server.use(
      http.get('*/api/auth/me', () =>
        HttpResponse.json({ name: 'anonymous', role: 'admin', open_mode: true }),
      ),
    );
    renderApp('/models');
    expect(await screen.findByTestId('open-mode-warning')).toHaveTextContent(
      'anyone who can reach it is an admin',
    );
  });
});
