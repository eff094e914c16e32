// C11, conversations (a preference): one row per thread with its count, unread while any of its
// messages is; the reading pane lists the thread, newest at the bottom; ticking a thread acts on
// all of it. The threads are those IMAP THREAD=REFERENCES gives for the same folder, checked with
// Python's imaplib.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { imap as imapAs } from '../lib/imap.mjs';
import { sendMail } from '../lib/smtp.mjs';
import { signIn, closeBrowsers, waitForHydration } from '../lib/browser.mjs';

const ANA = { address: 'ana@example.org', password: 'correct horse 42' };
let server;

/** A message with threading headers, `minutes` after a fixed start. */
function message({ subject, id, inReplyTo, references, minutes, from = 'Bob <bob@example.net>' }) {
  return [
    `From: ${from}`,
    `To: ${ANA.address}`,
    `Subject: ${subject}`,
    `Date: ${new Date(Date.UTC(2026, 2, 1, 9, minutes)).toUTCString()}`,
    `Message-ID: <${id}>`,
    ...(inReplyTo ? [`In-Reply-To: <${inReplyTo}>`] : []),
    ...(references ? [`References: ${references.map((r) => `<${r}>`).join(' ')}`] : []),
    'Content-Type: text/plain; charset=utf-8',
    '',
    `About ${subject}`,
    '',
  ].join('\r\n');
}

before(async () => {
  server = await startServer({ users: [ANA], imap: true });
  for (const m of [
    { subject: 'Plans', id: 'a@x', minutes: 0 },
    { subject: 'Lunch', id: 'l@x', minutes: 1, from: 'Carl <carl@example.net>' },
    { subject: 'Re: Plans', id: 'b@x', inReplyTo: 'a@x', references: ['a@x'], minutes: 2, from: 'Dora <dora@example.net>' },
    { subject: 'Re: Plans', id: 'c@x', inReplyTo: 'b@x', references: ['a@x', 'b@x'], minutes: 3, from: 'Eve <eve@example.net>' },
    // No threading headers: the subject joins it to Lunch.
    { subject: 'Re: Lunch', id: 'm@x', minutes: 4, from: 'Finn <finn@example.net>' },
  ]) {
    await sendMail({ port: server.smtpPort, from: 'x@example.net', to: ANA.address, message: message(m) });
  }
});

after(async () => {
  await closeBrowsers();
  await server?.stop();
});

const imap = (code) => imapAs(server, ANA, code);

test('C11: conversations as IMAP THREAD=REFERENCES makes them, counted, read and marked whole', async () => {
  // IMAP's threads of the Inbox, as sets of subjects' senders.
  const imapThreads = imap(`
imap.select("INBOX")
typ, data = imap.uid("THREAD", "REFERENCES", "UTF-8", "ALL")
import re
groups = re.findall(r"\\(([^()]*(?:\\([^()]*\\))*[^()]*)\\)", data[0].decode())
print(json.dumps(sorted(len(re.findall(r"\\d+", g)) for g in groups)))`);
  assert.deepEqual(imapThreads, [2, 3]);

  const { page } = await signIn(server.baseUrl, ANA);
  await page.goto(`${server.baseUrl}/settings/preferences`);
  await waitForHydration(page);
  await page.getByLabel('Group messages by conversation').check();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').filter({ hasText: 'saved' }).waitFor();

  await page.goto(`${server.baseUrl}/mail`);
  await waitForHydration(page);
  const rows = page.locator('.message-row');
  await rows.first().waitFor();
  assert.equal(await rows.count(), 2, 'one row per conversation');
  // Newest first: Lunch's last message (Finn, 09:04) is newer than Plans' (Eve, 09:03).
  assert.match(await rows.nth(0).locator('.sender').innerText(), /^Finn\s*2/);
  assert.match(await rows.nth(1).locator('.sender').innerText(), /^Eve\s*3/);
  assert.equal(await page.getByText('1–2 of 2').count(), 1);

  // Unread while any message is: all read but the first of Plans.
  imap(`
imap.select("INBOX")
typ, data = imap.search(None, "ALL")
imap.store(data[0].decode().replace(" ", ","), "+FLAGS", "(\\\\Seen)")
typ, data = imap.search(None, 'HEADER Message-ID "a@x"')
imap.store(data[0].decode(), "-FLAGS", "(\\\\Seen)")
print("true")`);
  await page.reload();
  await rows.first().waitFor();
  assert.equal(await page.locator('.message-row.unread').count(), 1);
  assert.match(await page.locator('.message-row.unread .sender').innerText(), /^Eve/);

  // The reading pane lists the conversation, oldest first: the newest at the bottom.
  await rows.nth(1).locator('a').click();
  const conversation = page.getByRole('navigation', { name: 'Conversation' });
  await conversation.waitFor();
  const senders = (await conversation.locator('.sender').allInnerTexts()).map((s) => s.trim());
  assert.deepEqual(senders, ['Bob', 'Dora', 'Eve']);
  assert.equal(await conversation.locator('li.current .sender').innerText(), 'Eve');
  await conversation.getByRole('link', { name: /Bob/ }).click();
  await page.locator('.message-subject', { hasText: 'Plans' }).waitFor();
  await conversation.locator('li.current', { hasText: 'Bob' }).waitFor();

  // A ticked conversation is marked unread whole.
  await page.goto(`${server.baseUrl}/mail`);
  await waitForHydration(page);
  await rows.nth(1).locator('.row-check').check();
  await page.getByRole('toolbar').getByRole('button', { name: 'Mark unread' }).click();
  await page.locator('.message-row.unread').nth(0).waitFor();
  const flags = imap('print(json.dumps(flags_by_subject("INBOX")))');
  // Subjects repeat: read the flags per Message-ID instead.
  const unseen = imap(`
imap.select("INBOX")
typ, data = imap.search(None, "UNSEEN")
found = []
for n in data[0].split():
    typ, d = imap.fetch(n, "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    found.append(d[0][1].decode().strip().split("<")[1].rstrip(">"))
print(json.dumps(sorted(found)))`);
  assert.deepEqual(unseen, ['a@x', 'b@x', 'c@x'], `the whole of Plans, not Lunch (${JSON.stringify(flags)})`);

  // Turned off: one row per message again.
  await page.goto(`${server.baseUrl}/settings/preferences`);
  await page.getByLabel('Group messages by conversation').uncheck();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.goto(`${server.baseUrl}/mail`);
  await rows.first().waitFor();
  assert.equal(await rows.count(), 5);
});
