// Sending later (issue 17, B15): a message sent waits the undo delay, during which "undo"
// brings it back to the composer and after which it leaves; the delay is a setting; a message
// scheduled at a time chosen in the reader's time zone is listed, can be edited (staying
// scheduled) or taken off the schedule (staying in Drafts), and leaves on time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { startPeer } from '../lib/peer.mjs';
import { accountMenu, closeBrowsers, signIn, waitForHydration } from '../lib/browser.mjs';
import { waitFor } from '../lib/wait.mjs';
import { recipients } from '../lib/compose.mjs';

const ANA = { address: 'ana@example.org', password: 'correct horse 42' };
const BOB = { address: 'bob@example.org', password: 'battery staple 42' };
let server;
let peer;

before(async () => {
  peer = await startPeer();
  // The server's own default undo delay, as an installation gets it.
  server = await startServer({ users: [ANA, BOB], relay: peer.relay, undoSendSeconds: 5 });
});

after(async () => {
  await closeBrowsers();
  await server?.stop();
  await peer?.stop();
});

/** A page signed in as `user`, in a browser of its own; `options` go to the browser. */
const signedIn = (user, options) => signIn(server.baseUrl, user, options);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Fills a new message to Carol, at the other server. */
async function write(page, subject, body) {
  await page.goto(`${server.baseUrl}/compose`);
  await waitForHydration(page);
  await page.getByLabel('To').fill('carol@example.net');
  await page.getByLabel('Subject').fill(subject);
  await page.locator('#compose-body').fill(body);
}

const arrived = (subject) => peer.messages().filter((m) => m.data.includes(`Subject: ${subject}`));

test('undo brings a message just sent back to the composer; after the delay it has left', async () => {
  const { browser, page } = await signedIn(ANA);
  await write(page, 'Undo me', 'Premier jet.');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForURL(/\/mail\?sent=1&undo=\d+&delay=5$/);
  await waitForHydration(page);
  await page.getByRole('status').filter({ hasText: 'Message sent.' }).getByRole('button', { name: 'Undo' }).click();
  await page.waitForURL(/\/compose\?draft=\d+&undone=1$/);
  await page.getByRole('status').filter({ hasText: 'Sending cancelled: here is the message again.' }).waitFor();
  assert.equal(await page.getByLabel('Subject').inputValue(), 'Undo me');
  assert.equal(await recipients(page, 'to'), 'carol@example.net');
  await sleep(6_500);
  assert.equal(arrived('Undo me').length, 0, 'undone: it never left');

  // Sent again and left alone: it leaves once the delay is over, and the draft goes.
  await waitForHydration(page);
  await page.locator('#compose-body').fill('Version revue.');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForURL(/\/mail\?sent=1&undo=\d+&delay=5$/);
  await waitFor('the message at the peer', () => arrived('Undo me').length === 1);
  const sent = arrived('Undo me')[0].data;
  assert.match(sent, /Version revue\./);
  assert.doesNotMatch(sent, /X-Facteur/i, 'what the draft kept for itself does not leave');
  // The button went with the delay; from a page that still offers it, too late is said plainly.
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Undo' }).waitFor({ state: 'hidden' });
  await page.goto(page.url().replace(/&delay=\d+$/, ''));
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Undo' }).click();
  await page.getByRole('alert').filter({ hasText: 'Too late: the message has left.' }).waitFor();
  await page.goto(`${server.baseUrl}/mail`);
  await page.locator('.folder', { hasText: 'Drafts' }).click();
  await page.getByText('No messages in this folder.').waitFor();
  await browser.close();
});

test('the undo delay is a setting; none sends at once', async () => {
  const { browser, page } = await signedIn(BOB);
  await (await accountMenu(page)).getByRole('link', { name: 'Scheduled' }).click();
  await page.waitForURL(/\/scheduled$/);
  await waitForHydration(page);
  const delay = page.getByLabel('Time to undo a message sent');
  assert.equal(await delay.inputValue(), '5', "the server's default");
  await delay.selectOption('0');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').filter({ hasText: 'Setting saved.' }).waitFor();
  await page.reload();
  assert.equal(await page.getByLabel('Time to undo a message sent').inputValue(), '0');

  await write(page, 'Sans delai', 'Tout de suite.');
  await page.getByRole('button', { name: 'Send' }).click();
  // No undo offered: it is in the queue already.
  await page.waitForURL(/\/mail\?sent=1$/);
  await waitFor('the message at the peer', () => arrived('Sans delai').length === 1);
  await browser.close();
});

test('a message scheduled in the reader’s time zone is listed, edited, cancelled, and leaves on time', async () => {
  // Far from the server's zone (UTC here), so a time read in the wrong zone shows.
  const { browser, page } = await signedIn(ANA, { timezoneId: 'Pacific/Auckland' });
  const inBrowser = (seconds) =>
    page.evaluate((ms) => {
      const d = new Date(Date.now() + ms);
      const p = (n) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
    }, seconds * 1000);

  await write(page, 'Ordre du jour', 'Point 1.');
  await page.getByText('Send later').click();
  // In the past: refused in plain words.
  await page.getByLabel('Date and time').fill(await inBrowser(-3600));
  await page.getByRole('button', { name: 'Schedule' }).click();
  await page.getByRole('alert').filter({ hasText: 'Choose a date and time to come, within a year.' }).waitFor();
  await page.getByLabel('Date and time').fill(await inBrowser(2 * 3600));
  await page.getByRole('button', { name: 'Schedule' }).click();
  await page.waitForURL(/\/mail\?scheduled=1$/);
  await page.getByRole('status').filter({ hasText: 'Message scheduled.' }).waitFor();

  // Listed at the time chosen, two hours from now, in the reader's zone (the browser's).
  await page.goto(`${server.baseUrl}/scheduled`);
  await waitForHydration(page);
  const row = page.locator('.scheduled-message', { hasText: 'Ordre du jour' });
  await row.waitFor();
  const hh = (await inBrowser(2 * 3600)).slice(11, 13);
  assert.match(await row.locator('.when').innerText(), new RegExp(` ${hh}:\\d\\d$`));

  // Edited: still scheduled, once.
  await row.getByRole('link', { name: 'Edit' }).click();
  await waitForHydration(page);
  await page.getByRole('status').filter({ hasText: 'This message is scheduled to be sent on' }).waitFor();
  await page.locator('#compose-body').fill('Point 1 et point 2.');
  await page.getByRole('button', { name: 'Save draft' }).click();
  await page.waitForURL(/\/compose\?draft=\d+&saved=1$/);
  await page.goto(`${server.baseUrl}/scheduled`);
  await waitForHydration(page);
  assert.equal(await page.locator('.scheduled-message').count(), 1);

  // Taken off the schedule: it stays in Drafts.
  await page.locator('.scheduled-message').getByRole('button', { name: 'Do not send' }).click();
  await page.getByRole('status').filter({ hasText: 'This message will not be sent; it stays in Drafts.' }).waitFor();
  await page.getByText('No message is waiting to be sent.').waitFor();
  await page.goto(`${server.baseUrl}/mail`);
  await page.locator('.folder', { hasText: 'Drafts' }).click();
  await page.locator('.message-row', { hasText: 'Ordre du jour' }).waitFor();

  // Scheduled a few seconds ahead: it leaves then, not before.
  await write(page, 'Dans huit secondes', 'À l’heure.');
  await page.getByText('Send later').click();
  await page.getByLabel('Date and time').fill(await inBrowser(8));
  await page.getByRole('button', { name: 'Schedule' }).click();
  await page.waitForURL(/\/mail\?scheduled=1$/);
  const scheduledAt = Date.now();
  assert.equal(arrived('Dans huit secondes').length, 0);
  await waitFor('the scheduled message at the peer', () => arrived('Dans huit secondes').length === 1, 30_000);
  assert.ok(Date.now() - scheduledAt > 4_000, 'not sent before its time');
  await browser.close();
});
