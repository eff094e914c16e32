// Attachments in the web composer (issue 17, B1): files picked or dropped are uploaded with a
// progress bar, listed, removable; they survive an autosave and a reload; what leaves is
// checked by an independent MIME parser (Python's `email` package); a file over the limit is
// refused in plain words; the upload address refuses other sites and strangers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { startServer } from '../lib/server.mjs';
import { startPeer } from '../lib/peer.mjs';
import { closeBrowsers, signIn, waitForHydration } from '../lib/browser.mjs';
import { waitFor } from '../lib/wait.mjs';

const ANA = { address: 'ana@example.org', password: 'correct horse 42' };
let server;
let peer;

before(async () => {
  peer = await startPeer();
  server = await startServer({ users: [ANA], relay: peer.relay });
});

after(async () => {
  await closeBrowsers();
  await server?.stop();
  await peer?.stop();
});

/** A page signed in as Ana, in a browser of its own. */
const signedIn = () => signIn(server.baseUrl, ANA);

/** The parts of a MIME message as Python's `email` package reads them. */
function parseMime(data) {
  const script = `
import email, email.policy, json, sys
message = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)
parts = [{"type": p.get_content_type(), "name": p.get_filename(), "bytes": list(p.get_payload(decode=True) or b"")}
         for p in message.walk() if not p.is_multipart()]
print(json.dumps({"type": message.get_content_type(), "subject": str(message["subject"]),
                  "bcc": message["bcc"], "parts": parts, "defects": len(message.defects)}))
`;
  const result = spawnSync('python3', ['-c', script], { input: Buffer.from(data, 'utf8'), encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`python: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

test('files are uploaded, listed, removed, kept by the draft and sent as parts', async () => {
  const { browser, page } = await signedIn();
  await page.goto(`${server.baseUrl}/compose`);
  await waitForHydration(page);
  await page.getByLabel('To').fill('carol@example.net');
  await page.getByLabel('Subject').fill('Compte rendu de l’été');
  // A line far longer than the 998 octets a mail line may hold, accented: it must come back whole.
  const longLine = Array.from({ length: 150 }, (_, i) => `réunion${i}`).join(' ');
  await page.locator('#compose-body').fill(`Les pièces sont jointes.\n${longLine}`);

  const report = Buffer.from('%PDF-1.4 compte rendu\n' + 'é'.repeat(2000), 'utf8');
  const photo = Buffer.alloc(300_000, 7);
  const extra = Buffer.from('à retirer');
  const area = page.getByRole('region', { name: 'Attachments' });
  await area.locator('input[type=file]').setInputFiles([
    { name: 'compte rendu été.pdf', mimeType: 'application/pdf', buffer: report },
    { name: 'photo.jpg', mimeType: 'image/jpeg', buffer: photo },
    { name: 'brouillon.txt', mimeType: 'text/plain', buffer: extra },
  ]);
  for (const name of ['compte rendu été.pdf', 'photo.jpg', 'brouillon.txt']) {
    await area.locator('.attached-file:not(.uploading)', { hasText: name }).waitFor();
  }
  await area.getByRole('button', { name: 'Remove brouillon.txt' }).click();
  assert.equal(await area.locator('.attached-file', { hasText: 'brouillon.txt' }).count(), 0);

  // Saved by itself, then reloaded: the files are the draft's now.
  await page.getByRole('status').filter({ hasText: 'Draft saved automatically.' }).waitFor({ timeout: 15_000 });
  await page.waitForURL(/\/compose\?draft=\d+$/);
  // Saved with both files: they are the draft's parts now.
  await page.waitForFunction(
    () => /^m\d+\.0,m\d+\.1$/.test(document.querySelector('input[name=attachments]').value),
    null,
    { timeout: 15_000 },
  );
  await page.reload();
  await waitForHydration(page);
  const reloaded = page.getByRole('region', { name: 'Attachments' });
  await reloaded.locator('.attached-file', { hasText: 'photo.jpg' }).waitFor();
  assert.deepEqual(await reloaded.locator('.attached-file .file-name').allInnerTexts(), ['compte rendu été.pdf', 'photo.jpg']);
  assert.equal(await reloaded.locator('.attached-file .file-size').last().innerText(), '300 kB');

  // One more after the reload, then sent.
  await reloaded.locator('input[type=file]').setInputFiles([{ name: 'ordre du jour.txt', mimeType: 'text/plain', buffer: Buffer.from('1. Budget\n') }]);
  await reloaded.locator('.attached-file:not(.uploading)', { hasText: 'ordre du jour.txt' }).waitFor();
  const before = peer.messages().length;
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForURL(/\/mail\?sent=1$/);
  await waitFor('the peer to receive it', () => peer.messages().length === before + 1);

  const sent = parseMime(peer.messages().at(-1).data);
  assert.equal(sent.type, 'multipart/mixed');
  assert.equal(sent.subject, 'Compte rendu de l’été');
  assert.equal(sent.bcc, null);
  assert.equal(sent.defects, 0);
  const byName = Object.fromEntries(sent.parts.filter((p) => p.name).map((p) => [p.name, p]));
  assert.deepEqual(Object.keys(byName).sort(), ['compte rendu été.pdf', 'ordre du jour.txt', 'photo.jpg']);
  assert.equal(byName['compte rendu été.pdf'].type, 'application/pdf');
  assert.deepEqual(Buffer.from(byName['compte rendu été.pdf'].bytes), report);
  assert.deepEqual(Buffer.from(byName['photo.jpg'].bytes), photo);
  assert.equal(Buffer.from(byName['ordre du jour.txt'].bytes).toString(), '1. Budget\n');
  const text = sent.parts.find((p) => p.type === 'text/plain' && !p.name);
  assert.equal(Buffer.from(text.bytes).toString('utf8').replace(/\r\n/g, '\n').trimEnd(), `Les pièces sont jointes.\n${longLine}`);
  assert.ok(peer.messages().at(-1).data.split('\r\n').every((line) => line.length <= 998), 'no line over 998 octets on the wire');
  await browser.close();
});

test('a file over the limit is refused in plain words; strangers and other sites cannot upload', async () => {
  const { browser, page } = await signedIn();
  await page.goto(`${server.baseUrl}/compose`);
  await waitForHydration(page);
  const area = page.getByRole('region', { name: 'Attachments' });
  await area.locator('input[type=file]').setInputFiles([
    { name: 'film.mp4', mimeType: 'video/mp4', buffer: Buffer.alloc(25_000_001) },
  ]);
  await area.getByRole('alert').filter({ hasText: 'film.mp4 is too large' }).waitFor();
  assert.equal(await area.locator('.attached-file').count(), 0);

  // Without a session, from another site, or over the limit: refused by the server itself.
  const url = `${server.baseUrl}/compose/upload?name=x.txt`;
  const anonymous = await fetch(url, { method: 'POST', body: 'x', headers: { origin: server.baseUrl } });
  assert.equal(anonymous.status, 401);
  const cookies = await browser.context.cookies(server.baseUrl);
  const cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
  const crossSite = await fetch(url, { method: 'POST', body: 'x', headers: { cookie, origin: 'https://evil.test' } });
  assert.equal(crossSite.status, 403);
  // Said from the declared length, before any of the body is read.
  const tooLarge = await new Promise((resolve, reject) => {
    const request = http.request(url, {
      method: 'POST',
      headers: { cookie, origin: server.baseUrl, 'content-length': 25_000_001 },
    });
    request.on('response', (response) => {
      resolve(response.statusCode);
      request.destroy();
    });
    request.on('error', reject);
    request.flushHeaders();
  });
  assert.equal(tooLarge, 413);
  const fine = await fetch(url, { method: 'POST', body: 'x', headers: { cookie, origin: server.baseUrl } });
  assert.equal(fine.status, 200);
  assert.match(await fine.text(), /^u\d+$/);
  await browser.close();
});
