/** Signing in: the key dialog of the top bar, a wrong key, and what a client key may see. */
import { type APIRequestContext } from '@playwright/test';

import { ADMIN_KEY, ADMIN_NAME, CLIENT_KEY, CLIENT_NAME, STORAGE_KEY } from './env';
import { expect, expectAccessible, settled, shoot, signedInAs, test } from './fixtures';

/** What the gateway itself answers to this key on GET /api/auth/me (the dialog must show these words). */
async function serverMessage(request: APIRequestContext, key?: string): Promise<string> {
  const response = await request.get('/api/auth/me', {
    headers: key ? { Authorization: `Bearer ${key}` } : {},
  });
  expect(response.status()).toBe(401);
  const body = (await response.json()) as { error: { message: string } };
  return body.error.message;
}

test('the admin signs in with the key dialog of the top bar and lands on the Overview', async ({
  page,
  request,
}) => {
  await page.goto('/');
  // No key yet: the gateway's 401 opens the dialog with its message.
  const dialog = page.getByRole('dialog', { name: 'API key' });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('alert')).toHaveText(await serverMessage(request));
  await expectAccessible(page, 'the key dialog');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();

  await page.getByRole('banner').getByRole('button', { name: 'Sign in' }).click();
  await expect(dialog).toBeVisible();
  await dialog.getByTestId('api-key-input').fill(ADMIN_KEY);
  await dialog.getByRole('button', { name: 'Sign in' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('identity')).toHaveText(`${ADMIN_NAME} · admin`);
  await expect(page.getByTestId('cpu-mode')).toBeVisible();

  // Kept in localStorage: a reload stays signed in.
  expect(await page.evaluate((name) => window.localStorage.getItem(name), STORAGE_KEY)).toBe(ADMIN_KEY);
  await page.reload();
  await expect(page.getByTestId('identity')).toHaveText(`${ADMIN_NAME} · admin`);
});

test("a wrong key shows the server's message and is not kept", async ({ page, request }) => {
  const wrongKey = 'not-a-key-of-this-gateway';
  await page.goto('/code');
  const dialog = page.getByRole('dialog', { name: 'API key' });
  await expect(dialog).toBeVisible();
  await dialog.getByTestId('api-key-input').fill(wrongKey);
  await dialog.getByRole('button', { name: 'Sign in' }).click();
  await expect(dialog.getByRole('alert')).toHaveText(await serverMessage(request, wrongKey));
  await expect(dialog).toBeVisible();
  await expect(page.getByTestId('identity')).toHaveCount(0);
  expect(await page.evaluate((name) => window.localStorage.getItem(name), STORAGE_KEY)).toBeNull();
  await expectAccessible(page, 'the key dialog with an error');
  await shoot(page, 'sign-in');
});

test.describe('a client key', () => {
  test.use(signedInAs(CLIENT_KEY));

  test('does not see the admin pages', async ({ page }) => {
    await page.goto('/');
    // The Overview is for admins: a client lands on the chat playground.
    await expect(page).toHaveURL(/\/playground\/chat$/);
    await expect(page.getByTestId('identity')).toHaveText(`${CLIENT_NAME} · client`);
    const nav = page.getByRole('navigation', { name: 'Pages' });
    for (const name of ['Chat', 'Transcription', 'Who said what', 'Jobs', 'Use it from code']) {
      await expect(nav.getByRole('link', { name })).toBeVisible();
    }
    for (const name of ['Overview', 'Models', 'Logs']) {
      await expect(nav.getByRole('link', { name })).toHaveCount(0);
    }
    await settled(page);
    await shoot(page, 'client-key');

    for (const [path, title] of [
      ['/models', 'Models'],
      ['/logs', 'Logs'],
    ]) {
      await page.goto(path!);
      await expect(page.getByRole('main').getByRole('alert')).toContainText(`${title} is for admins`);
      await expect(page.locator('[data-testid^="model-card-"], [data-testid="log-line"]')).toHaveCount(0);
    }
    await expectAccessible(page, 'an admin page opened with a client key');
  });
});
