// Benchmark of the web client on a big folder (issue 16): fills one Inbox with N messages over
// SMTP (100,000 by default), then measures in headless Chromium, each the median of several
// runs on a fresh profile:
// - time to first list paint: navigation to /mail until the first paint (the list is rendered
//   on the server, so the first paint shows it), and until its rows are in the page;
// - time to open a message: a click on a row until its subject shows in the reading pane;
// - the longest frame while scrolling the list (requestAnimationFrame gaps while the wheel
//   scrolls it from top to bottom), and the longest task the browser reported meanwhile;
// - bytes transferred before the first list paint (brotli accepted): all, and the JS+WASM+CSS
//   among them; the JS+WASM+CSS the page needs in all, as sent, and when it is hydrated (the
//   WASM starts after the first paint: see app::HydrationAfterPaint);
// - the first paint of the list's last page (page 1,000 of 100,000 messages).
// Goals (issue 16): first list paint under 1 s, no frame over 50 ms while scrolling, at most
// 300 kB of compressed JS+WASM+CSS before the first list paint.
//
// Usage: node end2end/bench-web.mjs [N]   (FACTEUR_BIN names the binary; build it in release
// first: scripts/build-site.sh release && cargo build --release -p server)
// Everything stays on 127.0.0.1.
import { startServer } from './lib/server.mjs';
import { openSmtp } from './lib/smtp.mjs';
import { openBrowser, login, closeBrowsers, waitForHydration } from './lib/browser.mjs';

const N = Number(process.argv[2] ?? 100_000);
const RUNS = 5;
const CONNECTIONS = 4;
const ANA = { address: 'ana@example.org', password: 'bench password 1' };

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const ms = (value) => `${value.toFixed(0)} ms`;
const kb = (bytes) => `${(bytes / 1000).toFixed(1)} kB`;

/** A message of some variety: senders, subjects, sizes, a few with attachments or HTML. */
function message(i) {
  const sender = `Sender ${i % 97}`;
  const date = new Date(Date.UTC(2026, 0, 1) + i * 60_000).toUTCString();
  const text = `Hello Ana,\r\n\r\n${'This is line of message number ' + i + '.\r\n'.repeat(1 + (i % 40))}\r\nBye\r\n`;
  return [
    `From: ${sender} <sender${i % 97}@example.net>`,
    `To: ${ANA.address}`,
    `Subject: ${i % 5 === 0 ? 'Re: ' : ''}Report ${i} about topic ${i % 131}`,
    `Date: ${date}`,
    `Message-ID: <bench-${i}@example.net>`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    text,
  ].join('\r\n');
}

async function fill(server) {
  const started = Date.now();
  let next = 0;
  const worker = async () => {
    const session = await openSmtp(server.smtpPort);
    for (let i = next++; i < N; i = next++) {
      await session.send({ from: 'sender@example.net', to: ANA.address, message: message(i) });
    }
    await session.close();
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const seconds = (Date.now() - started) / 1000;
  console.log(`filled ${N} messages in ${seconds.toFixed(0)} s (${(N / seconds).toFixed(0)} messages/s over SMTP)`);
}

async function measure(server) {
  const results = { paint: [], rows: [], open: [], frame: [], task: [], before: [], assetsBefore: [], assets: [], html: [], hydrated: [], last: [] };
  for (let run = 0; run < RUNS; run++) {
    // A fresh profile with the session cookie only: nothing cached.
    const signIn = await openBrowser();
    const page = await signIn.context.newPage();
    await login(page, server.baseUrl, ANA.address, ANA.password);
    const cookies = await signIn.context.cookies();
    await signIn.close();
    const browser = await openBrowser();
    await browser.context.addCookies(cookies);
    const cold = await browser.context.newPage();
    // When the WASM has hydrated the page (it sets body[data-hydrated]).
    await cold.addInitScript(() => {
      new MutationObserver(() => {
        if (document.body?.dataset.hydrated === 'true') window.__hydratedAt ??= performance.now();
      }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-hydrated'] });
    });
    await cold.goto(`${server.baseUrl}/mail`, { waitUntil: 'commit' });
    await cold.locator('.message-row').first().waitFor();
    await waitForHydration(cold);
    const timing = await cold.evaluate(() => {
      const paint = performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN;
      const nav = performance.getEntriesByType('navigation')[0];
      const resources = performance.getEntriesByType('resource');
      const asset = (r) => /\.(js|wasm|css)(\?|$)/.test(r.name);
      const early = resources.filter((r) => r.responseEnd <= paint);
      const before = nav.transferSize + early.reduce((sum, r) => sum + r.transferSize, 0);
      const assetsBefore = early.filter(asset).reduce((sum, r) => sum + r.transferSize, 0);
      const assets = resources.filter(asset).reduce((sum, r) => sum + r.transferSize, 0);
      return { paint, rows: nav.domContentLoadedEventStart, before, assetsBefore, assets, html: nav.transferSize, hydrated: window.__hydratedAt };
    });
    results.paint.push(timing.paint);
    results.rows.push(timing.rows);
    results.before.push(timing.before);
    results.assets.push(timing.assets);
    results.assetsBefore.push(timing.assetsBefore);
    results.hydrated.push(timing.hydrated);
    results.html.push(timing.html);

    // Open a message (one not opened before: each run another).
    const row = cold.locator('.message-row').nth(10 + run);
    const subject = await row.locator('.subject').innerText();
    const clicked = Date.now();
    await row.locator('a').click();
    await cold.locator('.reader-pane .message-subject').filter({ hasText: subject.replace(/^Unread,\s*/, '').trim() }).waitFor();
    results.open.push(Date.now() - clicked);

    // Scroll the list from top to bottom, recording frame gaps and long tasks.
    await cold.evaluate(() => {
      window.__frames = [];
      window.__tasks = [];
      let last = performance.now();
      const tick = (now) => {
        window.__frames.push(now - last);
        last = now;
        if (!window.__stop) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
      new PerformanceObserver((list) => list.getEntries().forEach((e) => window.__tasks.push(e.duration))).observe({ type: 'longtask' });
    });
    const list = cold.locator('.list-pane');
    const box = await list.boundingBox();
    await cold.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    for (let step = 0; step < 40; step++) {
      await cold.mouse.wheel(0, 400);
      await cold.waitForTimeout(16);
    }
    await cold.waitForTimeout(200);
    const { frames, tasks } = await cold.evaluate(() => {
      window.__stop = true;
      // The first gap counts from before the loop started.
      return { frames: window.__frames.slice(1), tasks: window.__tasks };
    });
    results.frame.push(Math.max(...frames));
    results.task.push(tasks.length ? Math.max(...tasks) : 0);

    // The last page, in a new tab of the same browser (its assets cached).
    const deep = await browser.context.newPage();
    await deep.goto(`${server.baseUrl}/mail?page=${Math.ceil(N / 100)}`);
    await deep.locator('.message-row').first().waitFor();
    results.last.push(await deep.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN));
    await browser.close();
  }
  return results;
}

const server = await startServer({ users: [ANA] });
try {
  await fill(server);
  const r = await measure(server);
  console.log(`\nweb client, Inbox of ${N} messages, median of ${RUNS} cold visits:`);
  console.log(`  first list paint (FCP)          ${ms(median(r.paint))}   goal < 1000 ms`);
  console.log(`  rows in the page (DOMContentLoaded) ${ms(median(r.rows))}`);
  console.log(`  open a message                   ${ms(median(r.open))}`);
  console.log(`  longest frame while scrolling    ${ms(median(r.frame))}   goal <= 50 ms`);
  console.log(`  longest task while scrolling     ${ms(median(r.task))}`);
  console.log(`  last page's first paint          ${ms(median(r.last))}`);
  console.log(`  hydrated (WASM running)          ${ms(median(r.hydrated))}`);
  console.log(`  bytes before first paint         ${kb(median(r.before))}   (HTML ${kb(median(r.html))})`);
  console.log(`  JS+WASM+CSS before first paint   ${kb(median(r.assetsBefore))}   goal <= 300 kB`);
  console.log(`  JS+WASM+CSS as sent, in all      ${kb(median(r.assets))}`);
} finally {
  await closeBrowsers();
  await server.stop();
}
