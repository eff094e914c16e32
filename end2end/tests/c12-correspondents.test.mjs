// C12, correspondents that can be clicked: each address of the reading pane's headers opens a
// card with the address in full and a link to write to it, which starts a new message to it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { sendMail } from '../lib/smtp.mjs';
import { signIn, closeBrowsers, waitForHydration } from '../lib/browser.mjs';
import { recipients } from '../lib/compose.mjs';

const ANA = { address: 'ana@example.org', password: 'correct horse 42' };
let server;

before(async () => {
  server = await startServer({ users: [ANA] });
  await sendMail({
    port: server.smtpPort,
    from: 'jo@example.net',
    to: ANA.address,
    message: [
      'From: "Martin, Jo" <jo@example.net>',
      `To: ${ANA.address}, team@example.net`,
      'Cc: Carol Durand <carol@example.net>',
      'Subject: Who wrote this',
      '',
      'Write back to anyone of us.',
      '',
    ].join('\r\n'),
  });
});

after(async () => {
  await closeBrowsers();
  await server?.stop();
});

test('C12: a correspondent opens a card, and writing to it starts a message to it', async () => {
  const { page } = await signIn(server.baseUrl, ANA);
  await waitForHydration(page);
  await page.locator('.message-row', { hasText: 'Who wrote this' }).locator('a').click();
  await page.locator('.message-subject', { hasText: 'Who wrote this' }).waitFor();

  const headers = page.locator('.message-headers');
  // Each address its own entry; a name is shown with its address, never alone.
  assert.deepEqual(await headers.locator('.correspondent summary').allInnerTexts(), [
    'Martin, Jo <jo@example.net>',
    'ana@example.org',
    'team@example.net',
    'Carol Durand <carol@example.net>',
  ]);

  const jo = headers.locator('.correspondent', { hasText: 'Martin, Jo' });
  const write = jo.getByRole('link', { name: 'Write a message' });
  assert.ok(!(await write.isVisible()), 'the card is folded until asked for');
  await jo.locator('summary').click();
  assert.equal(await jo.locator('.correspondent-full').innerText(), 'jo@example.net');
  await write.click();
  await page.waitForURL(/\/compose\?to=/);
  await waitForHydration(page);
  // The name keeps its comma inside quotes: one recipient, not two.
  assert.equal(await recipients(page, 'to'), '"Martin, Jo" <jo@example.net>');
  assert.equal(await page.locator('.chip').count(), 1);
  assert.equal(await page.locator('.chip.invalid').count(), 0);
  assert.equal(await page.getByLabel('Subject').inputValue(), '');
});
