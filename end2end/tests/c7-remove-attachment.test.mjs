// C7, deleting an attachment from a stored message: after a second click that says what it
// does, the file is taken out of the message and a small note takes its place. The message
// keeps its text, its other files and its flags; IMAP clients see it changed; nobody else can
// do it to someone's message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { sendMail } from '../lib/smtp.mjs';
import { imap as imapAs } from '../lib/imap.mjs';
import { signIn, closeBrowsers, waitForHydration } from '../lib/browser.mjs';

const ANA = { address: 'ana@example.org', password: 'correct horse 42' };
const BOB = { address: 'bob@example.org', password: 'battery staple 7' };
const PDF = 'JVBERi0xLjQKJVBERi0xLjQKJVBERi0xLjQK'.repeat(40);
let server;

before(async () => {
  server = await startServer({ users: [ANA, BOB], imap: true });
  await sendMail({
    port: server.smtpPort,
    from: 'jo@example.net',
    to: ANA.address,
    message: [
      'From: Jo <jo@example.net>',
      `To: ${ANA.address}`,
      'Subject: The files',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Here are the report and the data.',
      '--b1',
      'Content-Type: application/pdf; name="report.pdf"',
      'Content-Disposition: attachment; filename="report.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      ...PDF.match(/.{1,76}/g),
      '--b1',
      'Content-Type: text/csv; name="data.csv"',
      'Content-Disposition: attachment; filename="data.csv"',
      '',
      'a,b',
      '1,2',
      '--b1--',
      '',
    ].join('\r\n'),
  });
});

after(async () => {
  await closeBrowsers();
  await server?.stop();
});

const imap = (code) => imapAs(server, ANA, code);
const inbox = () =>
  imap(`imap.select("INBOX")
typ, data = imap.fetch("1:*", "(UID FLAGS BODY.PEEK[])")
print(json.dumps([[item[0].decode().replace(" \\\\Recent", ""), item[1].decode()] for item in data if isinstance(item, tuple)]))`);

test('C7: an attachment deleted from a message leaves a note; the rest of the message stays', async () => {
  imap('imap.select("INBOX")\nimap.store("1", "+FLAGS", "(\\\\Flagged)")\nprint("null")');
  const [[before]] = inbox();
  const { page } = await signIn(server.baseUrl, ANA);
  await waitForHydration(page);
  await page.locator('.message-row', { hasText: 'The files' }).locator('a').click();
  await page.locator('.message-subject', { hasText: 'The files' }).waitFor();
  const names = () => page.locator('.attachment-name').allInnerTexts();
  assert.deepEqual(await names(), ['report.pdf', 'data.csv']);

  // Asked first, in words that say it cannot be undone.
  const forGood = page.getByRole('button', { name: 'Delete this attachment for good' });
  assert.ok(!(await forGood.isVisible()));
  await page.locator('.attachment-remove summary[aria-label="Delete report.pdf"]').click();
  await page.locator('.attachment-remove[open]').getByText('This cannot be undone').waitFor();
  await forGood.click();
  // The page shows the message as it now is (its id may change: it is stored anew).
  await page.locator('.attachment-name', { hasText: 'report.pdf (deleted).txt' }).waitFor();
  await page.locator('.message-subject', { hasText: 'The files' }).waitFor();
  assert.deepEqual(await names(), ['report.pdf (deleted).txt', 'data.csv']);
  assert.match(await page.locator('.text-body').innerText(), /Here are the report and the data\./);

  // The note is a file like any other, saying what was there.
  const id = page.url().match(/\/(\d+)(\?|$)/)[1];
  const note = await page.request.get(`${server.baseUrl}/download/${id}/0`);
  assert.match(await note.text(), /deleted from the message by its recipient[\s\S]*report\.pdf/);

  // Over IMAP: one message, a new UID, the file's bytes gone, the rest kept, flags too.
  const messages = inbox();
  assert.equal(messages.length, 1);
  const [[after, raw]] = messages;
  assert.notEqual(after.match(/UID (\d+)/)[1], before.match(/UID (\d+)/)[1]);
  assert.match(after, /\\Flagged/);
  assert.match(after, /\\Seen/);
  assert.ok(!raw.includes(PDF.slice(0, 60)), 'the file is gone from the stored message');
  assert.match(raw, /filename="data\.csv"\r\n\r\na,b\r\n1,2/);
  assert.match(raw, /^From: Jo <jo@example\.net>/m);

  // Bob cannot do it to Ana's message: not found, and nothing changes.
  const bob = await signIn(server.baseUrl, BOB);
  const refused = await bob.page.request.post(`${server.baseUrl}/actions`, {
    form: { id, action: 'remove_attachment', part: '1' },
    headers: { Origin: server.baseUrl },
    maxRedirects: 0,
  });
  assert.equal(refused.status(), 404);
  assert.deepEqual(inbox(), messages);
});
