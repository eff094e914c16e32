// The composer's recipient fields (B8) hold chips once the page is live: these read and set
// a field as a whole, the way the form posts it.

/** The field's value as the form posts it (`to`, `cc`, `bcc`). */
export async function recipients(page, name) {
  return page.locator(`input[name="${name}"]`).first().inputValue();
}

/** Replaces what the field labelled `label` holds with `text` (addresses separated by commas). */
export async function setRecipients(page, label, text) {
  const input = page.getByLabel(label, { exact: true });
  const field = page.locator('.field', { has: input });
  const removes = field.locator('.chip-remove');
  while ((await removes.count()) > 0) await removes.first().click();
  await input.fill(text);
  await input.blur();
}

/** Sets the writing preferences on /settings/signatures: `format` ("plain", "rich"), `forward`
 * ("inline", "attachment"), `signature` ("above", "below", "manual"); those not given stay. */
export async function savePreferences(page, baseUrl, { format, forward, signature } = {}) {
  await page.goto(`${baseUrl}/settings/signatures`);
  await page.locator('body[data-hydrated="true"]').waitFor({ timeout: 20_000 });
  if (format) await page.getByLabel('Write new messages in').selectOption(format);
  if (forward) await page.getByLabel('Forward a message').selectOption(forward);
  if (signature) await page.getByLabel('Put my signature').selectOption(signature);
  await page.getByRole('button', { name: 'Save', exact: true }).first().click();
  await page.getByRole('status').filter({ hasText: 'Preferences saved.' }).waitFor();
}
