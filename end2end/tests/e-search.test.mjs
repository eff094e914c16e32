// E1–E5, the search box: mail delivered over SMTP is found by a word typed without its
// accents, the words found are marked, a result opens in the reading pane; the search can be
// kept to the folder shown; a broken query says why; the last search is offered again; a
// correspondent's card lists the messages exchanged with them. Before the WASM runs too: the
// box is a plain form.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { sendMail, textMessage } from '../lib/smtp.mjs';
import { signIn, openBrowser, closeBrowsers, waitForHydration } from '../lib/browser.mjs';
import { waitFor } from '../lib/wait.mjs';

const ANA = { address: 'ana@example.org', password: 'correct horse 42' };
let server;

const MAILS = [
  ['jose@example.net', 'Été à la plage', 'On se voit à la plage, rendez-vous à midi.'],
  ['marie@example.net', 'Rapport annuel', 'Voici le rapport annuel.'],
  ['jose@example.net', 'Dîner', 'Le café est prêt.'],
  ['tom@example.com', 'Weekly notes', 'Nothing about summer here.'],
];

before(async () => {
  server = await startServer({ users: [ANA] });
  for (const [from, subject, text] of MAILS) {
    await sendMail({ port: server.smtpPort, from, to: ANA.address, message: textMessage({ from, to: ANA.address, subject, text }) });
  }
});

after(async () => {
  await closeBrowsers();
  await server?.stop();
});

/** The subjects of the list's rows, in order. */
async function subjects(page) {
  return (await page.locator('.message-row .subject').allInnerTexts()).map((text) => text.replace(/^Unread,\s*/, '').trim());
}

async function search(page, query) {
  const box = page.getByRole('searchbox', { name: 'Search messages' });
  await box.fill(query);
  await box.press('Enter');
  await page.waitForURL(/\/mail\/search\?q=/);
  await page.locator('#list-title', { hasText: `Search: ${query}` }).waitFor();
}

test('E1–E5: the search box finds, marks and opens mail, and says what is wrong', async () => {
  const { page } = await signIn(server.baseUrl, ANA);
  await waitForHydration(page);
  // The index follows deliveries within a second or so.
  await waitFor('the messages to be indexed', async () => {
    await search(page, 'ete');
    return (await subjects(page)).includes('Été à la plage');
  });
  assert.deepEqual(await subjects(page), ['Été à la plage']);
  assert.deepEqual(await page.locator('.message-row mark').allInnerTexts(), ['Été']);

  // Words ANDed, OR, exclusion, a field.
  await search(page, 'from:jose@example.net -plage');
  assert.deepEqual(await subjects(page), ['Dîner']);
  // The words found are marked in the sender too.
  assert.deepEqual(await page.locator('.message-row .sender mark').allInnerTexts(), ['jose', 'example', 'net']);
  await search(page, 'rapport OR cafe');
  assert.deepEqual((await subjects(page)).sort(), ['Dîner', 'Rapport annuel']);

  // A result opens in the reading pane.
  await page.locator('.message-row', { hasText: 'Rapport annuel' }).locator('a').click();
  await page.locator('.message-subject', { hasText: 'Rapport annuel' }).waitFor();
  assert.match(page.url(), /\/mail\/search\/\d+\?q=/);

  // Kept to the folder shown: the Inbox has them, Sent has none.
  await page.goto(`${server.baseUrl}/mail`);
  await waitForHydration(page);
  await page.getByRole('combobox', { name: 'Where to search' }).selectOption({ index: 1 });
  await search(page, 'rapport');
  assert.deepEqual(await subjects(page), ['Rapport annuel']);
  assert.match(page.url(), /[?&]in=\d+/);

  // A broken query says why; nothing matching says so.
  await search(page, 'inf*');
  assert.match(await page.getByRole('alert').innerText(), /at least four letters/);
  await search(page, 'zeppelin');
  assert.match(await page.locator('.list-pane').innerText(), /No message matches\./);

  // The last search is offered again from any folder.
  await page.goto(`${server.baseUrl}/mail`);
  await waitForHydration(page);
  await page.getByRole('link', { name: 'Last search' }).click();
  await page.waitForURL(/q=zeppelin/);

  // E5: from a correspondent's card, every message exchanged with them.
  await page.goto(`${server.baseUrl}/mail`);
  await waitForHydration(page);
  await page.locator('.message-row', { hasText: 'Dîner' }).locator('a').click();
  const jose = page.locator('.message-headers .correspondent', { hasText: 'jose@example.net' });
  await jose.locator('summary').click();
  await jose.getByRole('link', { name: 'Messages exchanged' }).click();
  await page.waitForURL(/\/mail\/search\?q=/);
  await waitFor('the exchanged messages', async () => (await subjects(page)).length === 2);
  assert.deepEqual((await subjects(page)).sort(), ['Dîner', 'Été à la plage']);
});

test('E3: the advanced search form writes the query, which the box then shows', async () => {
  const { page } = await signIn(server.baseUrl, ANA);
  await waitForHydration(page);
  await waitFor('the messages to be indexed', async () => {
    await search(page, 'summer');
    return (await subjects(page)).includes('Weekly notes');
  });
  const advanced = page.getByRole('form', { name: 'Advanced search' });
  const ask = async (fields) => {
    if (!(await page.locator('.advanced-search').evaluate((details) => details.open))) {
      await page.locator('.advanced-search > summary').click();
    }
    for (const [label, value] of Object.entries(fields)) {
      if (value === true) await advanced.getByLabel(label).check();
      else if (label === 'Folder') await advanced.getByLabel(label).selectOption({ label: value });
      else await advanced.getByLabel(label, { exact: true }).fill(value);
    }
    await advanced.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/\/mail\/search\?/);
  };
  await ask({ From: 'jose@example.net', 'Words in the subject': 'plage' });
  await page.locator('#list-title', { hasText: 'Search: from:jose@example.net subject:plage' }).waitFor();
  assert.deepEqual(await subjects(page), ['Été à la plage']);
  // The box shows the query written, to change or learn from.
  assert.equal(await page.getByRole('searchbox', { name: 'Search messages' }).inputValue(), 'from:jose@example.net subject:plage');

  // The last day of the range is included; a range that ends before today finds nothing.
  const today = new Date().toISOString().slice(0, 10);
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  await ask({ 'Words anywhere': 'cafe', 'Dated from': today, to: today, Folder: 'Inbox' });
  await page.locator('#list-title', { hasText: 'Search: cafe after:' }).waitFor();
  assert.deepEqual(await subjects(page), ['Dîner']);
  await ask({ 'Words anywhere': 'cafe', to: yesterday });
  await page.locator('#list-title', { hasText: `before:${today}` }).waitFor();
  assert.match(await page.locator('.list-pane').innerText(), /No message matches\./);
  await ask({ 'Words in the text': 'rapport', 'With an attachment': true });
  await page.locator('#list-title', { hasText: 'has:attachment' }).waitFor();
  assert.match(await page.locator('.list-pane').innerText(), /No message matches\./);
});

test('E1: the search box works before the WASM runs (a plain form, rendered by the server)', async () => {
  const noScript = await openBrowser({ javaScriptEnabled: false });
  const page = await noScript.context.newPage();
  await page.goto(`${server.baseUrl}/login`);
  await page.getByLabel('Email address').fill(ANA.address);
  await page.getByLabel('Password').fill(ANA.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/mail/);
  const box = page.getByRole('searchbox', { name: 'Search messages' });
  await box.fill('summer');
  await box.press('Enter');
  await page.waitForURL(/\/mail\/search\?q=summer/);
  assert.deepEqual(await subjects(page), ['Weekly notes']);
});
