// The issue-2 acceptance path through every layer at once: one message sent with swaks to an
// alias with two targets is listed and readable in the browser by both, and Python's imaplib
// fetches it from both mailboxes byte for byte (the stored bytes: trace fields, then the data).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../lib/server.mjs';
import { accountMenu, openBrowser, login } from '../lib/browser.mjs';
import { sendMail, textMessage } from '../lib/smtp.mjs';

const ANA = { address: 'ana@example.org', password: 'ana password 1' };
const BOB = { address: 'bob@example.org', password: 'bob password 2' };
const TEAM = { address: 'team@example.org', targets: [ANA.address, BOB.address] };
let server;
let browser;

before(async () => {
  server = await startServer({ users: [ANA, BOB], aliases: [TEAM], imap: true });
  browser = await openBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const BODY = ['Bonjour à toutes et à tous,', '', 'la réunion est lundi à 10 h.', '.une ligne qui commence par un point', 'Zoé'];
const MESSAGE = [
  'From: Zoé Durand <zoe@remote.test>',
  `To: ${TEAM.address}`,
  'Subject: Réunion lundi',
  'Message-ID: <acceptance-1@remote.test>',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: 8bit',
  '',
  ...BODY,
].join('\r\n');

function swaks() {
  const dir = mkdtempSync(join(tmpdir(), 'facteur-swaks-'));
  try {
    const file = join(dir, 'message.eml');
    // swaks adds the CRLF before the final dot itself.
    writeFileSync(file, MESSAGE);
    const result = spawnSync(
      'swaks',
      ['--server', `127.0.0.1:${server.smtpPort}`, '--from', 'zoe@remote.test', '--to', TEAM.address, '--data', file],
      { encoding: 'utf8' },
    );
    assert.equal(result.status, 0, `swaks failed:\n${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /<-  250 2\.0\.0 OK, message \S+ delivered/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs a Python imaplib script logged in over IMAPS as `user` (`imap` is the session). */
function imaplib(user, body, extraArgs = []) {
  const script = `
import imaplib, ssl, sys
context = ssl.create_default_context(cafile=sys.argv[2])
imap = imaplib.IMAP4_SSL("localhost", int(sys.argv[1]), ssl_context=context)
imap.login(sys.argv[3], sys.argv[4])
${body}
imap.logout()
`;
  const result = spawnSync(
    'python3',
    ['-c', script, String(server.imapsPort), server.certPath, user.address, user.password, ...extraArgs],
    { encoding: 'utf8' },
  );
  assert.equal(result.status, 0, `imaplib failed:\n${result.stderr}`);
  return result.stdout;
}

/** Every Inbox message of `user` as `{ flags, raw }`, fetched with BODY.PEEK[] by imaplib. */
function imaplibFetchAll(user) {
  const out = imaplib(user, `
typ, data = imap.select("INBOX", readonly=True)
assert typ == "OK", data
for seq in range(1, int(data[0]) + 1):
    typ, data = imap.fetch(str(seq), "(FLAGS BODY.PEEK[])")
    assert typ == "OK", data
    print(" ".join(f.decode() for f in imaplib.ParseFlags(data[0][0])) + "|" + data[0][1].hex())
`);
  return out
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [flags, hex] = line.split('|');
      return { flags: flags.split(' ').filter(Boolean), raw: Buffer.from(hex, 'hex') };
    });
}

test('swaks to a two-target alias: both read it in the browser and fetch it byte for byte over IMAP', async () => {
  swaks();

  const fetched = [];
  for (const user of [ANA, BOB]) {
    const page = await browser.context.newPage();
    await login(page, server.baseUrl, user.address, user.password);
    const row = page.locator('.message-row', { hasText: 'Réunion lundi' });
    await row.waitFor();
    assert.match(await row.innerText(), /Zoé Durand/);
    await row.getByRole('link').click();
    const reader = page.locator('.reader-pane');
    await reader.getByRole('heading', { name: 'Réunion lundi' }).waitFor();
    assert.equal(await reader.locator('.text-body').innerText(), BODY.join('\n'));
    await (await accountMenu(page)).getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(/\/login$/);
    await page.close();

    const messages = imaplibFetchAll(user);
    assert.equal(messages.length, 1, `${user.address} has exactly one message`);
    // \Recent only says no IMAP session was told of it before this read-only one (RFC 3501).
    const flags = messages[0].flags.filter((flag) => flag !== '\\Recent');
    assert.deepEqual(flags, ['\\Seen'], 'read in the browser, seen over IMAP');
    fetched.push(messages[0].raw);
  }

  // What swaks sent ends each stored copy, after the server's own Return-Path and Received.
  const sent = Buffer.from(`${MESSAGE}\r\n`, 'utf8');
  for (const raw of fetched) {
    assert.ok(raw.subarray(raw.length - sent.length).equals(sent), 'the data is stored byte for byte');
    const trace = raw.subarray(0, raw.length - sent.length).toString('utf8');
    assert.match(trace, /^Return-Path: <zoe@remote\.test>\r\nReceived: from /);
  }
  // One delivery, one trace: both mailboxes hold the very same bytes.
  assert.ok(fetched[0].equals(fetched[1]));
});

test('a flag set over IMAP shows in the browser', async () => {
  await sendMail({
    port: server.smtpPort,
    from: 'zoe@remote.test',
    to: ANA.address,
    message: textMessage({ from: 'zoe@remote.test', to: ANA.address, subject: 'Read on the desktop', text: 'x' }),
  });
  const page = await browser.context.newPage();
  await login(page, server.baseUrl, ANA.address, ANA.password);
  const row = page.locator('.message-row', { hasText: 'Read on the desktop' });
  await row.waitFor();
  assert.match(await row.getAttribute('class'), /\bunread\b/);

  imaplib(ANA, `
typ, data = imap.select("INBOX")
target = None
for seq in range(1, int(data[0]) + 1):
    typ, fetched = imap.fetch(str(seq), "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    if b"Read on the desktop" in fetched[0][1]:
        target = str(seq)
assert target, "the message is there"
typ, data = imap.store(target, "+FLAGS", "(\\\\Seen)")
assert typ == "OK", data
`);
  await page.reload();
  await row.waitFor();
  assert.doesNotMatch(await row.getAttribute('class'), /\bunread\b/, 'seen on the desktop, read in the browser');
  await page.close();
});
