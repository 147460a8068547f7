/** The translation playground against the tiny NLLB: languages by alias, a translation and its usage, swap, a 400. */
import { ADMIN_KEY } from './env';
import { expect, expectAccessible, settled, shoot, signedInAs, test } from './fixtures';

test.use(signedInAs(ADMIN_KEY));

test('a text is translated between languages picked by name, code or alias', async ({ page }) => {
  await page.goto('/playground/translate');
  await settled(page);
  await expect(page.getByTestId('translate-model')).toContainText('tiny-nllb');
  // The model's own list (GET /v1/translate/languages): English to French by default.
  const source = page.getByTestId('translate-source');
  const target = page.getByTestId('translate-target');
  await expect(source).toHaveValue('English (eng_Latn)');
  await expect(target).toHaveValue('French (fra_Latn)');
  await expectAccessible(page, 'Translation');

  // Mooré, a fine-tune's code, found by its alias.
  await target.fill('mossi');
  await page.getByRole('option', { name: /moor_Latn/ }).click();
  await expect(target).toHaveValue(/\(moor_Latn\)$/);

  await page.getByTestId('translate-text').fill('Good morning. How are you today?');
  await page.getByTestId('translate-submit').click();
  // The first request loads the tiny model.
  await expect(page.getByTestId('translation')).not.toBeEmpty({ timeout: 90_000 });
  await expect(page.getByTestId('translate-usage')).toContainText(/\d+ input \+ \d+ output = \d+ tokens/);
  await expect(page.getByRole('heading', { name: /^English \(eng_Latn\) → .+\(moor_Latn\)$/ })).toBeVisible();
  await expectAccessible(page, 'Translation with a result');
  await shoot(page, 'translate');

  // Swapped: Mooré to English, the result now the text.
  const translated = await page.getByTestId('translation').innerText();
  await page.getByTestId('translate-swap').click();
  await expect(source).toHaveValue(/\(moor_Latn\)$/);
  await expect(target).toHaveValue('English (eng_Latn)');
  await expect(page.getByTestId('translate-text')).toHaveValue(translated);

  // A code the model does not have: the gateway's 400, as it says it.
  await target.fill('xyz_Latn');
  await target.press('Tab');
  await page.getByTestId('translate-submit').click();
  await expect(page.getByTestId('translate-status')).toContainText('/v1/translate/languages');
  await expectAccessible(page, 'Translation with an error');
});
