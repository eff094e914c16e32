// C3: remote images are blocked, with a banner offering to show them; shown on request, they
// load without a Referer, CSS backgrounds stay out, and nothing in the message can run.
// The "remote" images come from a loopback HTTP server that counts every request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { startServer } from '../lib/server.mjs';
import { sendMail, htmlMessage } from '../lib/smtp.mjs';
import { openBrowser, waitForHydration, login } from '../lib/browser.mjs';

const ANA = { address: 'ana@example.org', password: 'correct horse 42' };
// A 1x1 transparent GIF.
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
let server;
let browser;
let images;
const requests = [];

before(async () => {
  images = createServer((request, response) => {
    requests.push({ url: request.url, referer: request.headers.referer });
    response.writeHead(200, { 'content-type': 'image/gif' });
    response.end(PIXEL);
  });
  await new Promise((resolve) => images.listen(0, '127.0.0.1', resolve));
  server = await startServer({ users: [ANA] });
  browser = await openBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await new Promise((resolve) => images?.close(resolve));
});

test('remote images load only when asked, without referrer, and still run nothing', async () => {
  const origin = `http://127.0.0.1:${images.address().port}`;
  await sendMail({
    port: server.smtpPort,
    from: 'news@example.net',
    to: ANA.address,
    message: htmlMessage({
      from: 'News <news@example.net>',
      to: ANA.address,
      subject: 'Newsletter with pictures',
      html: `<p>Our news</p>
        <img src="${origin}/photo.gif" alt="photo" width="10" height="10">
        <img src="${origin}/tracker.gif" onerror="window.top.__pwned=1" onload="window.top.__pwned=1">
        <div style="background:url(${origin}/background.gif)">safe text</div>
        <a href="${origin}/link">a link</a>`,
    }),
  });
  const page = await browser.context.newPage();
  const dialogs = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    dialog.dismiss().catch(() => {});
  });
  await login(page, server.baseUrl, ANA.address, ANA.password);
  await waitForHydration(page);
  await page.locator('.message-row', { hasText: 'Newsletter with pictures' }).getByRole('link').click();
  const banner = page.getByRole('status').filter({ hasText: 'External images are blocked' });
  await banner.waitFor();
  const frame = page.frameLocator('iframe.html-body');
  await frame.getByText('safe text').waitFor();
  await page.waitForTimeout(300);
  assert.deepEqual(requests, [], 'nothing was fetched before the reader asked');

  await banner.getByRole('link', { name: 'Show images' }).click();
  await page.waitForURL(/\/mail\/\d+\/\d+\?images=show$/);
  await waitForHydration(page);
  await frame.locator('img[alt="photo"]').waitFor();
  // The frame is sandboxed (another origin), so the check runs inside it.
  const photo = frame.locator('img[alt="photo"]');
  for (let i = 0; i < 100 && !(await photo.evaluate((img) => img.complete && img.naturalWidth === 1)); i++) {
    await page.waitForTimeout(100);
  }
  assert.equal(await photo.evaluate((img) => img.naturalWidth), 1, 'the image was loaded and shown');
  assert.equal(await page.getByRole('status').filter({ hasText: 'External images are blocked' }).count(), 0);

  const urls = requests.map((r) => r.url).sort();
  assert.deepEqual(urls, ['/photo.gif', '/tracker.gif'], 'the two images, and no CSS background');
  for (const request of requests) assert.equal(request.referer, undefined, `${request.url} was sent a Referer`);
  assert.equal(await page.evaluate(() => window.__pwned), undefined, 'an event handler ran');
  assert.deepEqual(dialogs, []);

  // The same URL reached from another site or from a link inside a message shows nothing.
  const session = (await browser.context.cookies()).find((c) => c.name === 'facteur_session');
  const fetchShown = async (headers) => {
    const response = await fetch(page.url(), { headers: { cookie: `facteur_session=${session.value}`, ...headers } });
    assert.equal(response.status, 200);
    return response.text();
  };
  assert.match(await fetchShown({}), /photo\.gif/, 'first party: shown');
  const crossSite = await fetchShown({ 'sec-fetch-site': 'cross-site' });
  assert.doesNotMatch(crossSite, /photo\.gif/, 'cross-site: still blocked');
  assert.match(crossSite, /External images are blocked/);

  // The next message opened is blocked again: showing is per message and per request.
  await page.goto(`${server.baseUrl}/mail`);
  await waitForHydration(page);
  await page.locator('.message-row', { hasText: 'Newsletter with pictures' }).getByRole('link').click();
  await banner.waitFor();
  await page.close();
});
