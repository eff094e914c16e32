// C10, printing a message: the reading pane's Print opens the message alone on a page of its
// own, its HTML sanitised and shown whole (not cut to a frame), under a policy that runs none of
// it. C7: the attachment area folds away.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { sendMail } from '../lib/smtp.mjs';
import { signIn, closeBrowsers, waitForHydration } from '../lib/browser.mjs';

const ANA = { address: 'ana@example.org', password: 'correct horse 42' };
const BOB = { address: 'bob@example.org', password: 'battery staple 7' };
let server;

before(async () => {
  server = await startServer({ users: [ANA, BOB] });
  const html = `<h2>Agenda</h2>${'<p>Point of the meeting.</p>'.repeat(80)}<p id="last">The very last line</p>
    <script>window.top.__pwned = 1</script><img src="x" onerror="window.top.__pwned = 1">`;
  await sendMail({
    port: server.smtpPort,
    from: 'eve@example.net',
    to: ANA.address,
    message: [
      'From: Eve <eve@example.net>',
      `To: ${ANA.address}`,
      'Subject: Board meeting <b>notes</b>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from(html).toString('base64').replace(/(.{76})/g, '$1\r\n'),
      '--b1',
      'Content-Type: application/pdf; name="minutes.pdf"',
      'Content-Disposition: attachment; filename="minutes.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      'JVBERi0xLjQK',
      '--b1--',
      '',
    ].join('\r\n'),
  });
});

after(async () => {
  await closeBrowsers();
  await server?.stop();
});

test('C10 and C7: a message prints whole on its own page, and the attachment area folds', async () => {
  const { page } = await signIn(server.baseUrl, ANA);
  await waitForHydration(page);
  await page.locator('.message-row', { hasText: 'Board meeting' }).locator('a').click();
  await page.locator('.message-subject', { hasText: 'Board meeting' }).waitFor();

  // C7: the attachments fold away and back.
  const attachment = page.getByRole('link', { name: /minutes\.pdf/ });
  assert.ok(await attachment.isVisible());
  await page.locator('.attachments > summary').click();
  assert.ok(!(await attachment.isVisible()), 'folded');
  await page.locator('.attachments > summary').click();
  assert.ok(await attachment.isVisible());

  const [printPage] = await Promise.all([
    page.context().waitForEvent('page'),
    page.getByRole('link', { name: 'Print' }).click(),
  ]);
  await printPage.waitForLoadState();
  assert.match(printPage.url(), /\/print\/\d+$/);
  assert.equal(await printPage.title(), 'Board meeting <b>notes</b>', 'the subject as text, not markup');
  await printPage.getByRole('heading', { name: 'Agenda' }).waitFor();
  // Whole: the last line is in the page itself, not in a frame cut to its height.
  assert.equal(await printPage.locator('iframe').count(), 0);
  assert.equal(await printPage.locator('#last, p:has-text("The very last line")').count() > 0, true);
  assert.equal(await printPage.locator('main script').count(), 0);
  assert.equal(await printPage.evaluate(() => window.__pwned), undefined);
  assert.match(await printPage.locator('dl').innerText(), /eve@example\.net/);
  const headers = (await printPage.request.get(printPage.url())).headers();
  assert.match(headers['content-security-policy'], /script-src 'nonce-[0-9a-f]+'/);
  assert.doesNotMatch(headers['content-security-policy'], /unsafe-eval|https:/);

  // Another account's message is not found; without a session, nothing.
  const id = printPage.url().split('/').pop();
  const bob = await signIn(server.baseUrl, BOB);
  assert.equal((await bob.page.request.get(`${server.baseUrl}/print/${id}`)).status(), 404);
  assert.equal((await fetch(`${server.baseUrl}/print/${id}`)).status, 401);
});
