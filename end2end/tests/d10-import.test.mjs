// D10, importing a .zip of .eml files: its top goes to the Inbox, its folders to folders of the
// same names (made when missing, nested), each message marked read; what is left out is listed
// with why (not a .eml file, not a message, a folder that cannot be). Checked over IMAP with
// Python's imaplib, which also builds the archive (zipfile). Then the same without JavaScript.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../lib/server.mjs';
import { imap as imapAs } from '../lib/imap.mjs';
import { openBrowser, signIn, closeBrowsers, waitForHydration } from '../lib/browser.mjs';

const ANA = { address: 'ana@example.org', password: 'correct horse 42' };
let server;
let dir;

before(async () => {
  server = await startServer({ users: [ANA], imap: true });
  dir = mkdtempSync(join(tmpdir(), 'facteur-import-'));
});

after(async () => {
  await closeBrowsers();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Writes a zip archive of `files` ({ name: text }) with Python's zipfile; returns its path. */
function zipOf(name, files) {
  const path = join(dir, name);
  const script = `
import json, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as archive:
    for name, text in json.loads(sys.argv[2]).items():
        archive.writestr(name, text)
`;
  const result = spawnSync('python3', ['-c', script, path, JSON.stringify(files)], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return path;
}

const eml = (subject) => `From: Zoe <zoe@example.net>\r\nTo: ${ANA.address}\r\nSubject: ${subject}\r\nDate: Mon, 2 Mar 2026 10:00:00 +0100\r\n\r\nAbout ${subject}\r\n`;

test('D10: a .zip of .eml files goes into folders made as needed, with a summary of what was left out', async () => {
  const archive = zipOf('mail.zip', {
    'top.eml': eml('At the top'),
    'Projets/Été 2026/plan.eml': eml('The plan'),
    'Projets/Été 2026/budget.eml': eml('The budget'),
    'Projets/notes.eml': eml('Notes'),
    'Sent/Old/kept.eml': eml('Under Sent'),
    'readme.txt': 'not mail',
    'Projets/empty.eml': '',
  });
  const { page } = await signIn(server.baseUrl, ANA);
  await waitForHydration(page);
  await page.getByRole('link', { name: 'Import', exact: true }).click();
  await page.getByRole('heading', { name: 'Import messages' }).waitFor();
  await page.getByLabel('Archive (.zip)').setInputFiles(archive);
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  const summary = page.locator('.import-summary');
  await summary.waitFor();
  assert.match(await summary.innerText(), /Messages imported: 4/);
  const rows = await summary.locator('.import-rejected tbody tr').allInnerTexts();
  const why = Object.fromEntries(rows.map((row) => row.split('\t').map((cell) => cell.trim())));
  assert.deepEqual(why, {
    'readme.txt': 'not a .eml file',
    'Projets/empty.eml': 'not an e-mail message',
    'Sent/Old/kept.eml': 'its folder cannot be made here',
  });

  const found = imapAs(server, ANA, `
out = {}
for folder in ["INBOX", "Projets", "Projets/&AMk-t&AOk- 2026"]:
    out[folder] = flags_by_subject('"' + folder + '"')
print(json.dumps(out))`);
  assert.deepEqual(Object.keys(found.INBOX), ['At the top']);
  assert.deepEqual(Object.keys(found.Projets), ['Notes']);
  assert.deepEqual(Object.keys(found['Projets/&AMk-t&AOk- 2026']).sort(), ['The budget', 'The plan']);
  assert.match(found.INBOX['At the top'], /\\Seen/, 'imported as read');

  // Not an archive at all: said so, nothing imported.
  const fake = join(dir, 'fake.zip');
  spawnSync('python3', ['-c', `open(${JSON.stringify(fake)}, "w").write("hello")`]);
  await page.getByLabel('Archive (.zip)').setInputFiles(fake);
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await page.getByText('That file is not a .zip archive.').waitFor();
});

test('D10 without JavaScript: the plain form imports too, archives of several megabytes included', async () => {
  const { page } = await signIn(server.baseUrl, ANA);
  // 4 MB of random text in a message: the archive stays over 2 MB (above axum's default
  // body limit for forms, which the import route lifts).
  const archive = join(dir, 'more.zip');
  const made = spawnSync('python3', ['-c', `
import base64, os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as archive:
    archive.writestr("Archive/old.eml", "Subject: Old news\\r\\n\\r\\n" + base64.encodebytes(os.urandom(3_000_000)).decode().replace("\\n", "\\r\\n"))
`, archive], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  const plain = await openBrowser({ javaScriptEnabled: false });
  await plain.context.addCookies(await page.context().cookies());
  const noScript = await plain.context.newPage();
  await noScript.goto(`${server.baseUrl}/settings/import`);
  await noScript.getByLabel('Archive (.zip)').setInputFiles(archive);
  await noScript.getByRole('button', { name: 'Import', exact: true }).click();
  await noScript.locator('.import-summary').getByText('Messages imported: 1').waitFor();
  const found = imapAs(server, ANA, 'print(json.dumps(flags_by_subject("Archive")))');
  assert.deepEqual(Object.keys(found), ['Old news']);
});
