// C4: the 56 hostile HTML bodies of fixtures/hostile-html.jsonl, delivered over SMTP and opened
// in the web client in headless Chromium, both rendered by the server (page load) and by the
// client (navigation from the list). A vector is defeated when nothing ran (window.__pwned unset
// in every frame), the loopback canary got no request, "safe text" still shows, and the page is
// still the mail view.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { startServer } from '../lib/server.mjs';
import { sendMail, htmlMessage } from '../lib/smtp.mjs';
import { openBrowser, waitForHydration, login } from '../lib/browser.mjs';

const ANA = { address: 'ana@example.org', password: 'correct horse 42' };
const vectors = readFileSync(new URL('../fixtures/hostile-html.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line.trim())
  .map((line) => JSON.parse(line));

let server;
let browser;
let canary;
const canaryHits = [];
// A dialog (alert, confirm, print...) can only come from script that ran.
const dialogs = [];

before(async () => {
  canary = createServer((request, response) => {
    canaryHits.push(`${request.method} ${request.url}`);
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end('canary');
  });
  await new Promise((resolve) => canary.listen(0, '127.0.0.1', resolve));
  server = await startServer({ users: [ANA] });
  browser = await openBrowser();
  // Links open popups (target=_blank); close them so they pile up nowhere.
  browser.context.on('page', (page) => {
    if (page.opener) page.opener().then((opener) => opener && page.close().catch(() => {}));
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await new Promise((resolve) => canary?.close(resolve));
});

/** window.__pwned in the page and in every frame Playwright can reach. */
async function pwnedFrames(page) {
  const hits = [];
  for (const frame of page.frames()) {
    const value = await frame.evaluate(() => window.__pwned).catch(() => undefined);
    if (value !== undefined) hits.push(frame.url() || '(frame)');
  }
  return hits;
}

async function clickEveryClickMe(page) {
  const targets = [page.getByText('click me', { exact: true })];
  for (let i = 0; i < (await page.locator('iframe').count()); i++) {
    targets.push(page.frameLocator('iframe').nth(i).getByText('click me', { exact: true }));
  }
  for (const target of targets) {
    const n = await target.count();
    for (let i = 0; i < n; i++) {
      // Some targets are SVG text or hidden by the sanitised layout: a failed click is fine,
      // what matters is that no click runs anything.
      await target.nth(i).click({ timeout: 1_000, force: true }).catch(() => {});
    }
  }
}

async function checkVector(page, vector, how) {
  const subject = `C4 ${vector.id}`;
  const reader = page.locator('.reader-pane');
  await reader.getByRole('heading', { name: subject, exact: true }).waitFor({ timeout: 10_000 });
  const frame = page.frameLocator('iframe.html-body');
  await clickEveryClickMe(page);
  // Let anything a click or a load could start happen (navigation, requests, timers).
  await page.waitForTimeout(250);

  const where = `${vector.id} (${how})`;
  assert.deepEqual(await pwnedFrames(page), [], `${where}: script ran`);
  assert.deepEqual(canaryHits, [], `${where}: the canary was reached`);
  assert.deepEqual(dialogs, [], `${where}: a dialog opened`);
  assert.match(page.url(), /\/mail\/\d+\/\d+$/, `${where}: the page navigated away`);
  assert.ok(await reader.getByRole('heading', { name: subject, exact: true }).isVisible(), `${where}: not the mail view`);
  if (vector.html.includes('safe text')) {
    const visible = await frame.getByText('safe text').first().isVisible().catch(() => false);
    assert.ok(visible, `${where}: "safe text" is not shown`);
  }
}

test('hostile HTML bodies are defused (C4)', async () => {
  assert.equal(vectors.length, 56);
  const canaryUrl = `http://127.0.0.1:${canary.address().port}`;
  // Oldest first, so the list (newest first) shows them in reverse order; order does not matter.
  for (const vector of vectors) {
    await sendMail({
      port: server.smtpPort,
      from: 'mallory@example.net',
      to: ANA.address,
      message: htmlMessage({
        from: 'Mallory <mallory@example.net>',
        to: ANA.address,
        subject: `C4 ${vector.id}`,
        html: vector.html.replaceAll('CANARY', canaryUrl),
      }),
    });
  }

  const page = await browser.context.newPage();
  page.on('dialog', (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  await login(page, server.baseUrl, ANA.address, ANA.password);
  const inboxUrl = page.url();
  let checked = 0;
  for (const vector of vectors) {
    // Client-side: click the row in the hydrated list.
    // The subject cell also holds hidden "Unread" text, so match its end, not its whole text.
    const subjectPattern = new RegExp(`C4 ${vector.id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
    const row = page.locator('.message-row').filter({ has: page.locator('.subject', { hasText: subjectPattern }) });
    await row.getByRole('link').click();
    await page.waitForURL(/\/mail\/\d+\/\d+$/);
    await checkVector(page, vector, 'client render');
    // Server-side: load the same URL afresh.
    await page.reload();
    await waitForHydration(page);
    await checkVector(page, vector, 'server render');
    checked += 1;
    if (page.url() === inboxUrl) throw new Error('unreachable');
  }
  assert.equal(checked, 56);
  await page.close();
});
