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
