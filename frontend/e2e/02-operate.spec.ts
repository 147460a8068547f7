/** The admin pages: the Overview in CPU mode, the model cards and a load, the Hugging Face token, the log. */
import { ADMIN_KEY } from './env';
import { expect, expectAccessible, settled, shoot, signedInAs, test } from './fixtures';

test.use(signedInAs(ADMIN_KEY));

test('the Overview shows the CPU-mode state', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('cpu-mode')).toContainText('No GPU visible — CPU mode');
  await settled(page);
  await expectAccessible(page, 'Overview');
  await shoot(page, 'overview');
});

test('Models shows a card per slot, and the tiny LLM loads from its card', async ({ page, gateway }) => {
  await gateway.unload('qwen');
  await page.goto('/models');
  const slots = ['qwen', 'canary', 'pyannote', 'translation', 'tts', 'whisper'];
  await expect(page.locator('[data-testid^="model-card-"]')).toHaveCount(slots.length);
  for (const key of slots) await expect(page.getByTestId(`model-card-${key}`)).toBeVisible();
  await expect(page.getByTestId('model-card-translation').getByTestId('model-kind')).toHaveText(
    'Translation',
  );
  await expect(page.getByTestId('model-card-tts').getByTestId('model-kind')).toHaveText('Text to speech');
  await expect(page.getByTestId('model-card-whisper').getByTestId('model-kind')).toHaveText(
    'Speech recognition',
  );

  const card = page.getByTestId('model-card-qwen');
  const chip = card.getByTestId('state-chip');
  await expect(chip).not.toHaveText('loaded');
  await settled(page);
  await expectAccessible(page, 'Models');
  await card.getByRole('button', { name: 'Load', exact: true }).click();
  // The page follows the server by itself (no reload).
  await expect(chip).toHaveText('loaded', { timeout: 90_000 });
  await expect(card.getByRole('button', { name: 'Unload', exact: true })).toBeEnabled();
  await expect(card.getByRole('button', { name: 'Load', exact: true })).toBeDisabled();
  await expectAccessible(page, 'Models with a model loaded');
  await shoot(page, 'models');
});

test('the Hugging Face token is set and shown masked', async ({ page }) => {
  const token = 'hf_e2eSecretToken0123456789abcdWXYZ';
  await page.goto('/models');
  const state = page.getByTestId('hf-token-state');
  await expect(state).toBeVisible();
  await page.getByRole('button', { name: /^(Set token|Replace)$/ }).click();
  const dialog = page.getByRole('dialog', { name: 'Hugging Face token' });
  const field = dialog.getByLabel('Token');
  await expect(field).toHaveAttribute('type', 'password');
  await field.fill(token);
  await expectAccessible(page, 'the Hugging Face token dialog');
  await shoot(page, 'hf-token');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toBeHidden();
  await expect(state).toContainText('hf_••••••••WXYZ');
  await expect(page.locator('body')).not.toContainText(token);
  // And after a reload, from the server's answer.
  await page.reload();
  await expect(state).toContainText('hf_••••••••WXYZ');
  await expect(page.locator('body')).not.toContainText(token);
});

test("the Logs page shows the gateway's log lines", async ({ page }) => {
  await page.goto('/logs');
  const lines = page.getByTestId('log-line');
  await expect(lines.first()).toBeVisible();
  expect(await lines.count()).toBeGreaterThan(0);
  await settled(page);
  await expectAccessible(page, 'Logs');
  await shoot(page, 'logs');
});
