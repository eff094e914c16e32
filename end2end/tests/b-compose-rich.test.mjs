// Rich text and forwards as files in the web composer (issue 17: B3, B5): the writing
// preferences; the toolbar's bold, list, link, quote and a picture in the text (sent as a
// `cid:` part of multipart/related, taken up again from the draft); what a hostile page script puts in the
// editor is cleaned on the server; the draft keeps the formatting through an autosave and a
// reload; what leaves is multipart/alternative with a faithful text version, checked by
// Python's `email` package; rich text switched off for one message; a forward as a `.eml` file
// that opens as the original message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startServer } from '../lib/server.mjs';
import { startPeer } from '../lib/peer.mjs';
import { sendMail } from '../lib/smtp.mjs';
import { savePreferences } from '../lib/compose.mjs';
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

/** The parts of a MIME message as Python's `email` package reads them; a `message/rfc822`
 * part's own subject and text too. */
function parseMime(data) {
  const script = `
import base64, email, email.policy, json, sys
message = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)
parts = []
for p in message.walk():
    if p.get_content_type() == "message/rfc822":
        inner = p.get_payload(0)
        parts.append({"type": "message/rfc822", "name": p.get_filename(), "cte": p["content-transfer-encoding"],
                      "subject": str(inner["subject"]), "text": inner.get_body(("plain",)).get_content()})
    elif not p.is_multipart():
        parts.append({"type": p.get_content_type(), "name": p.get_filename(), "cid": p["content-id"],
                      "text": p.get_content() if p.get_content_maintype() == "text" else None,
                      "base64": None if p.get_content_maintype() == "text" else base64.b64encode(p.get_payload(decode=True)).decode()})
print(json.dumps({"type": message.get_content_type(), "parts": parts, "defects": len(message.defects)}))
`;
  // The peer hands the bytes over as Latin-1 text: back to the very bytes sent.
  const result = spawnSync('python3', ['-c', script], { input: Buffer.from(data, 'latin1'), encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.status !== 0) throw new Error(`python: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

/** The message the peer received last, once it has one more than `before`. */
async function nextAtPeer(before) {
  await waitFor('the peer to receive the message', () => peer.messages().length === before + 1);
  return parseMime(peer.messages().at(-1).data);
}

/** A 1×1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

/** Selects the last `count` characters typed in the focused editor. */
async function selectBack(page, count) {
  for (let i = 0; i < count; i += 1) await page.keyboard.press('Shift+ArrowLeft');
}

test('rich text: chosen in the preferences, formatted with the toolbar, cleaned, kept by the draft, sent with its text version', async () => {
  const { page } = await signIn(server.baseUrl, ANA);
  await savePreferences(page, server.baseUrl, { format: 'rich' });

  await page.goto(`${server.baseUrl}/compose`);
  await waitForHydration(page);
  const editor = page.getByRole('textbox', { name: 'Message content' });
  await editor.waitFor();
  const toolbar = page.getByRole('toolbar', { name: 'Formatting' });
  assert.equal(await page.getByRole('button', { name: 'Rich text' }).getAttribute('aria-pressed'), 'true');
  await page.getByLabel('To').fill('carol@example.net');
  await page.getByLabel('Subject').fill('Ordre du jour de l’été');

  await editor.click();
  await page.keyboard.type('Bonjour Carol');
  await selectBack(page, 5);
  await toolbar.getByRole('button', { name: 'Bold' }).click();
  await page.keyboard.press('End');
  await toolbar.getByRole('button', { name: 'Bold' }).click();
  await page.keyboard.press('Enter');
  await toolbar.getByRole('button', { name: 'Bulleted list' }).click();
  await page.keyboard.type('Budget');
  await page.keyboard.press('Enter');
  await page.keyboard.type('Fête');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Enter');
  await page.keyboard.type('Voir le site');
  await selectBack(page, 4);
  page.once('dialog', (dialog) => dialog.accept('example.org/cr'));
  await toolbar.getByRole('button', { name: 'Link' }).click();
  await page.keyboard.press('End');
  await page.keyboard.press('Enter');
  // A picture in the text; a drawing (SVG) is refused in plain words.
  const picker = toolbar.locator('input[type=file]');
  await picker.setInputFiles({ name: 'dessin.svg', mimeType: 'image/svg+xml', buffer: Buffer.from('<svg/>') });
  await toolbar.getByRole('alert').filter({ hasText: 'Only PNG, JPEG, GIF or WebP pictures go in the text.' }).waitFor();
  await picker.setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: PNG });
  await editor.locator('img[src^="data:image/png;base64,"]').waitFor();
  await page.keyboard.press('Enter');
  await page.keyboard.type('Une citation');
  await toolbar.getByRole('button', { name: 'Quote' }).click();
  assert.equal(await editor.locator('b, strong, span[style*="bold"]').first().innerText(), 'Carol');
  assert.deepEqual(await editor.locator('li').allInnerTexts(), ['Budget', 'Fête']);
  assert.equal(await editor.locator('a').getAttribute('href'), 'https://example.org/cr');

  // What a script in the page (or a paste) could put there: the server keeps none of it.
  await editor.evaluate((node) => {
    node.insertAdjacentHTML(
      'beforeend',
      '<div>Fin<img src="https://tracker.example/p.gif" onerror="alert(1)"><a href="javascript:alert(2)">x</a>' +
        '<span style="color: rgb(200, 0, 0); position: fixed">rouge</span></div>',
    );
    node.dispatchEvent(new Event('input', { bubbles: true }));
  });

  // Saved by itself, then reloaded: the formatting is the draft's.
  await page.getByRole('status').filter({ hasText: 'Draft saved automatically.' }).waitFor({ timeout: 15_000 });
  await page.waitForURL(/\/compose\?draft=\d+$/);
  await page.reload();
  await waitForHydration(page);
  const reloaded = page.getByRole('textbox', { name: 'Message content' });
  await reloaded.locator('li').first().waitFor();
  assert.deepEqual(await reloaded.locator('li').allInnerTexts(), ['Budget', 'Fête']);
  assert.equal(await reloaded.locator('a').first().getAttribute('href'), 'https://example.org/cr');
  assert.equal(await reloaded.locator('img[src^="http"], [onerror]').count(), 0, 'cleaned before it came back');
  assert.equal(
    await reloaded.locator('img').getAttribute('src'),
    `data:image/png;base64,${PNG.toString('base64')}`,
    'the picture comes back from the draft',
  );
  assert.equal(await page.locator('.attached-file').count(), 0, 'a picture of the text is not an attachment');
  assert.equal(await reloaded.locator('blockquote').innerText(), 'Une citation');

  const before = peer.messages().length;
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForURL(/\/mail\?sent=1$/);
  const sent = await nextAtPeer(before);
  assert.equal(sent.type, 'multipart/related', 'the text and the picture it shows');
  assert.equal(sent.defects, 0);
  const [text, html, picture] = sent.parts;
  assert.equal(text.type, 'text/plain');
  assert.equal(html.type, 'text/html');
  assert.equal(picture.type, 'image/png');
  assert.equal(picture.base64, PNG.toString('base64'), 'the same bytes');
  const cid = picture.cid.replace(/^<|>$/g, '');
  assert.ok(html.text.includes(`src="cid:${cid}"`), 'the HTML shows it by its Content-ID');
  assert.ok(!html.text.includes('data:'), 'no data: URL leaves');
  assert.match(text.text, /\[image\]/);
  assert.match(text.text, /^- Budget$/m);
  assert.match(text.text, /^- Fête$/m);
  assert.match(text.text, /Voir le site <https:\/\/example\.org\/cr>/);
  assert.match(text.text, /^> Une citation$/m);
  assert.match(html.text, /<li>Budget<\/li>/);
  assert.match(html.text, /href="https:\/\/example\.org\/cr"/);
  assert.match(html.text, /<blockquote>/);
  assert.match(html.text, /style="color:rgb\(200, 0, 0\)"/);
  assert.equal(html.text.match(/<img /g).length, 1, 'only the picture put in the text');
  for (const bad of ['onerror', 'javascript:', 'tracker.example', 'position']) {
    assert.ok(!html.text.includes(bad), `${bad} is not sent`);
  }
  await page.close();
});

test('rich text can be switched off for one message; a forward goes as a .eml file that opens as the original', async () => {
  await sendMail({
    port: server.smtpPort,
    from: 'jo@example.net',
    to: ANA.address,
    message:
      'From: Jo <jo@example.net>\r\nTo: ana@example.org\r\nSubject: =?utf-8?q?Devis_=C3=A9t=C3=A9_2027?=\r\n' +
      'Message-ID: <devis@example.net>\r\n' +
      'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n' +
      'Voici le devis de l’été.\r\n',
  });
  const { page } = await signIn(server.baseUrl, ANA);
  await savePreferences(page, server.baseUrl, { format: 'rich', forward: 'attachment' });

  await page.goto(`${server.baseUrl}/mail`);
  const row = page.locator('.message-row', { hasText: 'Devis été 2027' });
  await row.getByRole('link').click();
  await page.getByRole('link', { name: 'Forward' }).click();
  await page.waitForURL(/\/compose\?forward=\d+$/);
  await waitForHydration(page);
  await page.getByRole('region', { name: 'Attachments' }).getByText('Devis été 2027.eml').waitFor();
  assert.equal(await page.getByLabel('Subject').inputValue(), 'Fwd: Devis été 2027');

  // Plain text for this one: the editor's text goes back to the text area.
  await page.getByRole('textbox', { name: 'Message content' }).click();
  await page.keyboard.press('Control+Home');
  await page.keyboard.type('Pour information.');
  await page.getByRole('button', { name: 'Rich text' }).click();
  assert.equal(await page.getByRole('toolbar', { name: 'Formatting' }).count(), 0);
  assert.match(await page.locator('#compose-body').inputValue(), /^Pour information\./);
  await page.getByLabel('To').fill('carol@example.net');

  const before = peer.messages().length;
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForURL(/\/mail\?sent=1$/);
  const sent = await nextAtPeer(before);
  assert.equal(sent.type, 'multipart/mixed');
  assert.equal(sent.defects, 0);
  assert.equal(sent.parts[0].type, 'text/plain', 'plain text only: no HTML part');
  assert.match(sent.parts[0].text, /^Pour information\./);
  const forwarded = sent.parts.find((part) => part.type === 'message/rfc822');
  assert.ok(forwarded, 'the original goes as a message/rfc822 part');
  assert.equal(forwarded.name, 'Devis été 2027.eml');
  assert.notEqual(forwarded.cte?.toLowerCase(), 'base64', 'RFC 2046: a message part is never base64');
  assert.equal(forwarded.subject, 'Devis été 2027');
  assert.equal(forwarded.text.trim(), 'Voici le devis de l’été.');
  await page.close();
});

test('a large picture travels in the post of a signed-in writer; a stranger’s large post is refused unread', async () => {
  // Over the usual 1 MB of a form, without a session: refused before its body is read.
  const stranger = await fetch(`${server.baseUrl}/api/compose_submit`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.baseUrl },
    body: `to=carol%40example.net&subject=x&body=${'a'.repeat(2_000_000)}`,
  });
  assert.equal(stranger.status, 413);

  const { page } = await signIn(server.baseUrl, ANA);
  await page.goto(`${server.baseUrl}/compose`);
  await waitForHydration(page);
  const editor = page.getByRole('textbox', { name: 'Message content' });
  await editor.waitFor();
  await page.getByLabel('To').fill('carol@example.net');
  await page.getByLabel('Subject').fill('Grande image');
  await editor.click();
  await page.keyboard.type('La voici :');
  // 1.5 MB of picture: about 2 MB once in the text as a data: URL.
  const large = Buffer.concat([PNG, Buffer.alloc(1_500_000, 0x5a)]);
  await page.getByRole('toolbar', { name: 'Formatting' }).locator('input[type=file]').setInputFiles({
    name: 'grande.png',
    mimeType: 'image/png',
    buffer: large,
  });
  await editor.locator('img').waitFor();
  const before = peer.messages().length;
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForURL(/\/mail\?sent=1$/);
  const sent = await nextAtPeer(before);
  const picture = sent.parts.find((part) => part.type === 'image/png');
  assert.equal(picture.base64, large.toString('base64'), 'the same bytes');
  await page.close();
});

test('a signature in rich text, with a picture, goes into rich messages as it was written', async () => {
  const { page } = await signIn(server.baseUrl, ANA);
  await savePreferences(page, server.baseUrl, { format: 'rich' });
  await page.getByRole('button', { name: 'Rich text' }).click();
  const signature = page.getByRole('textbox', { name: 'Signature of ana@example.org' });
  await signature.click();
  await page.keyboard.type('Ana Martin');
  await selectBack(page, 6);
  const toolbar = page.getByRole('toolbar', { name: 'Formatting' });
  await toolbar.getByRole('button', { name: 'Bold' }).click();
  await page.keyboard.press('End');
  await page.keyboard.press('Enter');
  await toolbar.locator('input[type=file]').setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: PNG });
  await signature.locator('img').waitFor();
  await page.getByRole('button', { name: 'Save ana@example.org' }).click();
  await page.getByRole('status').filter({ hasText: 'Signature saved.' }).waitFor();
  await page.reload();
  await waitForHydration(page);
  const kept = page.getByRole('textbox', { name: 'Signature of ana@example.org' });
  await kept.locator('img').waitFor();
  assert.equal(await kept.locator('b, strong, span[style*="bold"]').first().innerText(), 'Martin');

  await page.goto(`${server.baseUrl}/compose`);
  await waitForHydration(page);
  const block = page.getByRole('textbox', { name: 'Message content' }).locator('[data-signature]');
  await block.locator('img').waitFor();
  assert.equal(await block.locator('b, strong, span[style*="bold"]').first().innerText(), 'Martin');
  await page.getByLabel('To').fill('carol@example.net');
  await page.getByLabel('Subject').fill('Avec ma signature');
  const before = peer.messages().length;
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForURL(/\/mail\?sent=1$/);
  const sent = await nextAtPeer(before);
  assert.equal(sent.type, 'multipart/related');
  const [text, html, picture] = sent.parts;
  assert.match(text.text, /^-- \r?\nAna \*?Martin\*?\r?\n\[image\]/m);
  assert.match(html.text, /data-signature/);
  assert.equal(picture.base64, PNG.toString('base64'), 'the signature’s picture leaves as a part');
  assert.ok(html.text.includes(`cid:${picture.cid.replace(/^<|>$/g, '')}`));
  await page.close();
});
