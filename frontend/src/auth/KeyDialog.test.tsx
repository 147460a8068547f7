import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { describe, expect, it, vi } from 'vitest';

import { adminMe, clientMe, envelope } from '../test/fixtures';
import { renderApp } from '../test/render';
import { server } from '../test/server';
import { STORAGE_KEY, authStore } from './authStore';

const unauthorized = (message: string) =>
  HttpResponse.json(envelope(message, 'authentication_error', 'invalid_api_key'), { status: 401 });

describe('the key dialog', () => {
  it("opens on a 401 anywhere with the server's message", async () => {
    window.localStorage.setItem(STORAGE_KEY, 'revoked-key');
    authStore.reset();
    server.use(http.get('*/api/admin/status', () => unauthorized('This API key was revoked at 12:00')));
    renderApp('/models');

    const dialog = await screen.findByRole('dialog', { name: 'API key' });
    expect(within(dialog).getByRole('alert')).toHaveTextContent('This API key was revoked at 12:00');
  });

  it('opens when no key is set and the gateway wants one', async () => {
    server.use(
      http.get('*/api/auth/me', () => unauthorized('Missing API key: send Authorization: Bearer <key>')),
    );
    renderApp('/');
    const dialog = await screen.findByRole('dialog', { name: 'API key' });
    expect(dialog).toHaveTextContent('Missing API key: send Authorization: Bearer <key>');
  });

  it('checks a key before keeping it: a wrong one shows the message and replaces nothing', async () => {
    server.use(
      http.get('*/api/auth/me', ({ request }) =>
        request.headers.get('Authorization') === 'Bearer good-key'
          ? HttpResponse.json(adminMe)
          : unauthorized('Invalid API key'),
      ),
    );
    renderApp('/');
    const dialog = await screen.findByRole('dialog', { name: 'API key' });
    await userEvent.type(within(dialog).getByLabelText('Key'), 'wrong-key');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Sign in' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('Invalid API key');
    expect(window.localStorage.getItem(STORAGE_KEY)).toBeNull();

    await userEvent.clear(within(dialog).getByLabelText('Key'));
    await userEvent.type(within(dialog).getByLabelText('Key'), 'good-key');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(window.localStorage.getItem(STORAGE_KEY)).toBe('good-key');
    expect(await screen.findByTestId('identity')).toHaveTextContent('ops · admin');
  });

  it('keeps the key in memory when the browser refuses storage', async () => {
    vi.spyOn(Storage.prototype, 'setItem').mockImplementation(() => {
      throw new DOMException('The operation is insecure.', 'SecurityError');
    });
    const seen: (string | null)[] = [];
    server.use(
      http.get('*/api/auth/me', ({ request }) => {
        seen.push(request.headers.get('Authorization'));
        return request.headers.get('Authorization') === 'Bearer client-key'
          ? HttpResponse.json(clientMe)
          : unauthorized('Missing API key');
      }),
    );
    renderApp('/playground/chat');
    const dialog = await screen.findByRole('dialog', { name: 'API key' });
    await userEvent.type(within(dialog).getByLabelText('Key'), 'client-key');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Sign in' }));

    // Signed in: the app's own requests now carry the key kept in memory.
    expect(await screen.findByTestId('identity')).toHaveTextContent('erp · client');
    expect(authStore.getSnapshot()).toMatchObject({ key: 'client-key', persistence: 'memory' });
    expect(seen.at(-1)).toBe('Bearer client-key');

    await userEvent.click(await screen.findByRole('button', { name: 'Key' }));
    expect(await screen.findByRole('dialog', { name: 'API key' })).toHaveTextContent(
      'This browser refuses storage: the key is kept in memory only and forgotten on reload.',
    );
  });

  it('clears the key', async () => {
    window.localStorage.setItem(STORAGE_KEY, 'admin-key');
    authStore.reset();
    renderApp('/playground/chat');
    await userEvent.click(await screen.findByRole('button', { name: 'Key' }));
    const dialog = await screen.findByRole('dialog', { name: 'API key' });
    await userEvent.click(within(dialog).getByRole('button', { name: 'Clear key' }));
    expect(window.localStorage.getItem(STORAGE_KEY)).toBeNull();
    expect(authStore.key).toBeNull();
  });
});
