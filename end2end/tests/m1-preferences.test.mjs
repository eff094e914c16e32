// M1, the reader's preferences (issue 16): the language chosen over the browser's, external
// images always shown (C3; they come from a loopback HTTP server that counts requests), and the
// compact list (C6). They belong to the account: a second browser signing in gets them too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { startServer } from '../lib/server.mjs';
import { sendMail, htmlMessage } from '../lib/smtp.mjs';
import { accountMenu, signIn, closeBrowsers, waitForHydration } from '../lib/browser.mjs';

const ANA = { address: 'ana@example.org', password: 'correct horse 42' };
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
let server;
let images;
const requests = [];

before(async () => {
  images = createServer((request, response) => {
    requests.push(request.url);
    response.writeHead(200, { 'content-type': 'image/gif' });
    response.end(PIXEL);
  });
  await new Promise((resolve) => images.listen(0, '127.0.0.1', resolve));
  server = await startServer({ users: [ANA] });
  const origin = `http://127.0.0.1:${images.address().port}`;
  await sendMail({
    port: server.smtpPort,
    from: 'news@example.net',
    to: ANA.address,
    message: htmlMessage({
      from: 'News <news@example.net>',
      to: ANA.address,
      subject: 'Pictures inside',
      html: `<p>Look</p><img src="${origin}/photo.gif" alt="photo" width="10" height="10">`,
    }),
  });
});

after(async () => {
  await closeBrowsers();
  await server?.stop();
  await new Promise((resolve) => images?.close(resolve));
});

/** Opens the message and waits for its body. */
async function openPictures(page) {
  await page.goto(`${server.baseUrl}/mail`);
  await waitForHydration(page);
  await page.locator('.message-row', { hasText: 'Pictures inside' }).locator('a').click();
  await page.locator('iframe.html-body').waitFor();
}

test('M1: language, images always shown and the compact list are kept for the account', async () => {
  const { page } = await signIn(server.baseUrl, ANA);
  await openPictures(page);
  await page.getByText('External images are blocked').waitFor();
  assert.equal(requests.length, 0, 'blocked by default');
  assert.equal(await page.locator('.mail.compact').count(), 0);

  await (await accountMenu(page)).getByRole('link', { name: 'Preferences' }).click();
  await page.getByRole('heading', { name: 'Preferences' }).waitFor();
  await page.getByLabel('Language').selectOption('fr');
  await page.getByLabel(/Always show images/).check();
  await page.getByLabel(/Compact list/).check();
  await page.getByRole('button', { name: 'Save' }).click();
  // Saved: the page comes back in French.
  await page.getByRole('heading', { name: 'Préférences' }).waitFor();
  await page.getByRole('status').filter({ hasText: 'enregistrées' }).waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'fr');

  await openPictures(page);
  await page.locator('.mail.compact').waitFor();
  assert.equal(await page.locator('.banner', { hasText: /images/i }).count(), 0, 'no banner: they are shown');
  const frame = page.frameLocator('iframe.html-body');
  await frame.locator('img[alt=photo]').waitFor();
  for (let i = 0; i < 50 && !requests.includes('/photo.gif'); i++) await page.waitForTimeout(100);
  assert.ok(requests.includes('/photo.gif'), `the image loaded: ${JSON.stringify(requests)}`);
  // One line per message: the sender and the subject side by side.
  const row = page.locator('.message-row', { hasText: 'Pictures inside' });
  const [sender, subject] = [await row.locator('.sender').boundingBox(), await row.locator('.subject').boundingBox()];
  assert.ok(Math.abs(sender.y - subject.y) < 8, `one line: ${sender.y} vs ${subject.y}`);

  // Another browser, in English by its own choice, gets the account's preferences at sign-in.
  const other = await signIn(server.baseUrl, ANA);
  await other.page.goto(`${server.baseUrl}/settings/preferences`);
  await other.page.getByRole('heading', { name: 'Préférences' }).waitFor();
  assert.equal(await other.page.getByLabel('Langue').inputValue(), 'fr');
  assert.ok(await other.page.getByLabel(/Toujours afficher/).isChecked());

  // Back to the browser's language.
  await other.page.getByLabel('Langue').selectOption('auto');
  await other.page.getByRole('button', { name: 'Enregistrer' }).click();
  await other.page.getByRole('heading', { name: 'Preferences' }).waitFor();
});
