// Writing mail in the web client (issue 17: B1, B2, B4, B5): a new message to a local user and
// to another server (a real SMTP peer on loopback) with a Bcc nobody else sees; a reply and a
// reply to all; a draft saved, reloaded and sent; a forward carrying the original's attachment,
// also through a draft;
// an unknown local recipient refused in plain words with nothing typed lost; identities and
// options; autosave; templates; signatures and the organisation's footer; read receipts (C8).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startServer, facteurBinary } from '../lib/server.mjs';
import { startPeer } from '../lib/peer.mjs';
import { sendMail } from '../lib/smtp.mjs';
import { recipients, savePreferences, setRecipients } from '../lib/compose.mjs';
import { accountMenu, closeBrowsers, signIn, signInWithoutScript, waitForHydration } from '../lib/browser.mjs';
import { waitFor } from '../lib/wait.mjs';

const ANA = { address: 'ana@example.org', password: 'correct horse 42' };
const BOB = { address: 'bob@example.org', password: 'battery staple 42' };
let server;
let peer;

before(async () => {
  peer = await startPeer();
  server = await startServer({
    users: [ANA, BOB],
    aliases: [{ address: 'contact@example.org', targets: [ANA.address] }],
    relay: peer.relay,
  });
});

after(async () => {
  await closeBrowsers();
  await server?.stop();
  await peer?.stop();
});

/** A page signed in as `user`, in a browser of its own (its own session cookie); closing
 * the page closes that browser. */
async function signedIn(user) {
  const { browser: own, page } = await signIn(server.baseUrl, user);
  const close = page.close.bind(page);
  page.close = async () => {
    await close();
    await own.close();
  };
  return page;
}

/** Opens the message with this subject in the folder shown, and waits for its reading pane. */
async function openMessage(page, subject) {
  const row = page.locator('.message-row', { hasText: subject });
  await row.waitFor();
  await row.getByRole('link').click();
  await page.locator('.reader-pane').getByRole('heading', { name: subject }).waitFor();
}

test('a new message reaches a local mailbox and another server, its Bcc seen by nobody', async () => {
  const page = await signedIn(ANA);
  await waitForHydration(page);
  await page.getByRole('link', { name: 'New message' }).click();
  await page.waitForURL(/\/compose$/);
  await waitForHydration(page);
  await page.getByLabel('To').fill('Bob <bob@example.org>, carol@example.net');
  await page.getByText('Cc and Bcc').click();
  await page.getByLabel('Bcc').fill('dave@example.net');
  await page.getByLabel('Subject').fill('Assemblée générale');
  await page.locator('#compose-body').fill('Bonjour,\nRendez-vous samedi à 10 h.\nAna');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForURL(/\/mail\?sent=1$/);
  await page.getByRole('status').filter({ hasText: 'Message sent.' }).waitFor();

  // The other server got one copy for Carol and Dave, without the Bcc field.
  await waitFor('the peer to receive the message', () => peer.messages().length === 1);
  const [remote] = peer.messages();
  assert.equal(remote.mail_from, ANA.address);
  assert.deepEqual(remote.rcpt_tos.sort(), ['carol@example.net', 'dave@example.net']);
  assert.doesNotMatch(remote.data, /^bcc:/im);
  assert.doesNotMatch(remote.data, /dave@example\.net/i);
  assert.match(remote.data, /^Subject: =\?utf-8\?/im, 'a non-ASCII subject is encoded');
  assert.match(remote.data, /^DKIM-Signature:/m, 'signed like mail sent by SMTP submission');

  // Bob has it; Ana's Sent keeps a copy with its Bcc.
  const bob = await signedIn(BOB);
  await openMessage(bob, 'Assemblée générale');
  assert.equal(await bob.locator('.reader-pane .text-body').innerText(), 'Bonjour,\nRendez-vous samedi à 10 h.\nAna');
  await bob.close();
  await page.locator('.folder', { hasText: 'Sent' }).click();
  await openMessage(page, 'Assemblée générale');
  await page.close();
});

test('a reply quotes the original and a reply to all leaves the replier out', async () => {
  await sendMail({
    port: server.smtpPort,
    from: 'jo@example.net',
    to: BOB.address,
    message:
      'From: Jo Martin <jo@example.net>\r\nTo: bob@example.org, ana@example.org\r\nCc: carol@example.net\r\n' +
      'Subject: Budget 2027\r\nMessage-ID: <budget@example.net>\r\nDate: Mon, 7 Dec 2026 09:30:00 +0100\r\n\r\n' +
      'Voici le budget.\r\n',
  });
  const page = await signedIn(BOB);
  await openMessage(page, 'Budget 2027');
  await page.getByRole('link', { name: 'Reply all' }).click();
  await page.waitForURL(/\/compose\?reply_all=\d+$/);
  await waitForHydration(page);
  assert.equal(await recipients(page, 'to'), 'Jo Martin <jo@example.net>, ana@example.org');
  assert.equal(await recipients(page, 'cc'), 'carol@example.net');
  // Each address a chip, none marked wrong.
  assert.deepEqual(await page.locator('.chip').allTextContents(), ['Jo Martin <jo@example.net>×', 'ana@example.org×', 'carol@example.net×']);
  assert.equal(await page.locator('.chip.invalid').count(), 0);
  assert.equal(await page.getByLabel('Subject').inputValue(), 'Re: Budget 2027');
  const body = await page.locator('#compose-body').inputValue();
  assert.match(body, /^\n\nOn .*2026.*, Jo Martin wrote:\n> Voici le budget\.\n$/);
  await page.locator('#compose-body').press('Control+Home');
  await page.locator('#compose-body').type('Merci, parfait.');
  const before = peer.messages().length;
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForURL(/\/mail\?sent=1$/);
  await waitFor('the reply at the peer', () => peer.messages().length === before + 1);
  const reply = peer.messages().at(-1);
  assert.match(reply.data, /^In-Reply-To: <budget@example\.net>/m);
  assert.match(reply.data, /^References: <budget@example\.net>/m);
  await page.close();

  const ana = await signedIn(ANA);
  await openMessage(ana, 'Re: Budget 2027');
  assert.match(await ana.locator('.reader-pane .text-body').innerText(), /^Merci, parfait\.\n\nOn .* wrote:\n> Voici le budget\.$/);
  await ana.getByRole('link', { name: 'Reply', exact: true }).click();
  await waitForHydration(ana);
  assert.equal(await recipients(ana, 'to'), 'bob@example.org');
  await ana.close();
});

test('a draft is saved, taken up again and sent, then gone from Drafts', async () => {
  const page = await signedIn(ANA);
  await page.goto(`${server.baseUrl}/compose`);
  await waitForHydration(page);
  await page.getByLabel('To').fill('bob@example.org');
  await page.getByLabel('Subject').fill('Brouillon du compte rendu');
  await page.locator('#compose-body').fill('Première version.');
  await page.getByRole('button', { name: 'Save draft' }).click();
  await page.waitForURL(/\/compose\?draft=\d+&saved=1$/);
  await page.getByRole('status').filter({ hasText: 'Draft saved.' }).waitFor();
  // A reload shows what was saved, with the banner.
  await page.reload();
  await waitForHydration(page);
  await page.getByRole('status').filter({ hasText: 'Draft saved.' }).waitFor();
  assert.equal(await page.getByLabel('Subject').inputValue(), 'Brouillon du compte rendu');
  assert.equal(await page.locator('#compose-body').inputValue(), 'Première version.');

  // It is in Drafts, and continues from there.
  await page.goto(`${server.baseUrl}/mail`);
  await page.locator('.folder', { hasText: 'Drafts' }).click();
  await openMessage(page, 'Brouillon du compte rendu');
  await page.getByRole('link', { name: 'Continue this draft' }).click();
  await waitForHydration(page);
  await page.locator('#compose-body').fill('Version finale.');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForURL(/\/mail\?sent=1$/);
  await page.locator('.folder', { hasText: 'Drafts' }).click();
  await page.getByText('No messages in this folder.').waitFor();
  await page.close();

  const bob = await signedIn(BOB);
  await openMessage(bob, 'Brouillon du compte rendu');
  assert.equal(await bob.locator('.reader-pane .text-body').innerText(), 'Version finale.');
  await bob.close();
});

test('a forward carries the attachment; an unknown local recipient is refused, nothing lost', async () => {
  const pdf = Buffer.from('%PDF-1.4 not really').toString('base64');
  await sendMail({
    port: server.smtpPort,
    from: 'jo@example.net',
    to: ANA.address,
    message:
      'From: jo@example.net\r\nTo: ana@example.org\r\nSubject: Le devis\r\nMIME-Version: 1.0\r\n' +
      'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nCi-joint.\r\n' +
      `--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="devis.pdf"\r\n` +
      `Content-Transfer-Encoding: base64\r\n\r\n${pdf}\r\n--b--\r\n`,
  });
  const page = await signedIn(ANA);
  await openMessage(page, 'Le devis');
  await page.getByRole('link', { name: 'Forward' }).click();
  await waitForHydration(page);
  assert.equal(await page.getByLabel('Subject').inputValue(), 'Fwd: Le devis');
  await page.getByRole('region', { name: 'Attachments' }).getByText('devis.pdf').waitFor();
  assert.match(await page.locator('#compose-body').inputValue(), /-------- Forwarded message --------\nFrom: jo@example\.net/);

  // A typo in a local address: said plainly, the message stays in the composer.
  await setRecipients(page, 'To', 'bbo@example.org');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByRole('alert').filter({ hasText: 'Nobody has this address here: bbo@example.org' }).waitFor();
  assert.equal(await page.getByLabel('Subject').inputValue(), 'Fwd: Le devis');
  const many = Array.from({ length: 101 }, (_, i) => `r${i}@example.net`).join(', ');
  await setRecipients(page, 'To', many);
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByRole('alert').filter({ hasText: 'A message can have at most 100 recipients.' }).waitFor();
  await setRecipients(page, 'To', 'not an address');
  assert.equal(await page.locator('.chip.invalid', { hasText: 'not an address' }).count(), 1, 'marked as typed');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByRole('alert').filter({ hasText: 'This is not an email address: not an address' }).waitFor();

  // Saved as a draft and taken up again, it still carries the attachment.
  await setRecipients(page, 'To', 'bob@example.org');
  await page.getByRole('button', { name: 'Save draft' }).click();
  await page.waitForURL(/\/compose\?draft=\d+&saved=1$/);
  await waitForHydration(page);
  await page.getByRole('region', { name: 'Attachments' }).getByText('devis.pdf').waitFor();
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForURL(/\/mail\?sent=1$/);
  await page.close();
  const bob = await signedIn(BOB);
  await openMessage(bob, 'Fwd: Le devis');
  const download = bob.locator('.attachments a', { hasText: 'devis.pdf' });
  await download.waitFor();
  await bob.close();
});

test('a message leaves from an alias, urgent and asking for a receipt; a reply picks the alias', async () => {
  const page = await signedIn(ANA);
  await page.goto(`${server.baseUrl}/compose`);
  await waitForHydration(page);
  const from = page.getByLabel('From');
  assert.deepEqual(await from.locator('option').allInnerTexts(), ['ana@example.org', 'contact@example.org']);
  // A forged choice (someone else's address in the form) is refused by the server.
  await from.evaluate((select) => {
    select.options[0].value = 'bob@example.org';
  });
  await page.getByLabel('To').fill('carol@example.net');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByRole('alert').filter({ hasText: 'You cannot send from this address: bob@example.org' }).waitFor();
  await from.selectOption('contact@example.org');
  await page.getByLabel('Subject').fill('Adhésion');
  await page.locator('#compose-body').fill('Bienvenue.');
  await page.getByLabel('High priority').check();
  await page.getByLabel('Ask for a read receipt').check();
  const before = peer.messages().length;
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForURL(/\/mail\?sent=1$/);
  await waitFor('the peer to receive it', () => peer.messages().length === before + 1);
  const sent = peer.messages().at(-1);
  assert.equal(sent.mail_from, 'contact@example.org');
  assert.match(sent.data, /^From: <?contact@example\.org>?\r$/m);
  assert.match(sent.data, /^X-Priority: 1/m);
  assert.match(sent.data, /^Importance: high/m);
  assert.match(sent.data, /^Disposition-Notification-To: <?contact@example\.org>?\r$/m);

  // Mail that came to the alias is answered from it.
  await sendMail({
    port: server.smtpPort,
    from: 'carol@example.net',
    to: 'contact@example.org',
    message: 'From: carol@example.net\r\nTo: contact@example.org\r\nSubject: Question\r\n\r\nBonjour ?\r\n',
  });
  await page.goto(`${server.baseUrl}/mail`);
  await openMessage(page, 'Question');
  await page.getByRole('link', { name: 'Reply', exact: true }).click();
  await waitForHydration(page);
  assert.equal(await page.getByLabel('From').inputValue(), 'contact@example.org');
  await page.close();
});

test('what is typed is saved by itself and survives a reload', async () => {
  const page = await signedIn(ANA);
  await page.goto(`${server.baseUrl}/compose`);
  await waitForHydration(page);
  await page.getByLabel('To').fill('bob@example.org');
  await page.getByLabel('Subject').fill('Saved by itself');
  await page.locator('#compose-body').pressSequentially('Nothing typed is lost.');
  // A few seconds after typing stops, without a click.
  await page.getByRole('status').filter({ hasText: 'Draft saved automatically.' }).waitFor({ timeout: 15_000 });
  await page.waitForURL(/\/compose\?draft=\d+$/);
  const firstDraft = page.url();
  // Typing on saves again, replacing the draft rather than piling up copies.
  await page.locator('#compose-body').pressSequentially(' Still.');
  await page.waitForFunction((first) => location.href !== first, firstDraft, { timeout: 15_000 });
  await page.reload();
  await waitForHydration(page);
  assert.equal(await page.getByLabel('Subject').inputValue(), 'Saved by itself');
  assert.equal(await page.locator('#compose-body').inputValue(), 'Nothing typed is lost. Still.');
  await page.goto(`${server.baseUrl}/mail`);
  await page.locator('.folder', { hasText: 'Drafts' }).click();
  await page.locator('.message-row', { hasText: 'Saved by itself' }).waitFor();
  assert.equal(await page.locator('.message-row', { hasText: 'Saved by itself' }).count(), 1, 'one draft, not one per save');
  await page.close();
});

test('a template makes new messages and replies, and stays as it was', async () => {
  const page = await signedIn(ANA);
  await page.goto(`${server.baseUrl}/compose`);
  await waitForHydration(page);
  await page.getByLabel('Subject').fill('Convocation à l’assemblée');
  await page.locator('#compose-body').fill('Madame, Monsieur,\nVous êtes convié(e)...');
  await page.getByRole('button', { name: 'Save as template' }).click();
  await page.waitForURL(/\/mail\/\d+\/\d+$/);
  const reader = page.locator('.reader-pane');
  await reader.getByRole('heading', { name: 'Convocation à l’assemblée' }).waitFor();
  assert.match(await page.locator('.folder.current').innerText(), /^Templates/);

  await reader.getByRole('link', { name: 'New message from this template' }).click();
  await page.waitForURL(/\/compose\?template=\d+$/);
  await waitForHydration(page);
  assert.equal(await page.getByLabel('Subject').inputValue(), 'Convocation à l’assemblée');
  await page.getByLabel('To').fill('bob@example.org');
  await page.locator('#compose-body').fill('Madame, Monsieur,\nVous êtes convié(e) samedi.');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForURL(/\/mail\?sent=1$/);

  // The template is as it was.
  await page.locator('.folder', { hasText: 'Templates' }).click();
  await openMessage(page, 'Convocation à l’assemblée');
  assert.equal(await page.locator('.reader-pane .text-body').innerText(), 'Madame, Monsieur,\nVous êtes convié(e)...');

  // A reply written from the template: its text above the quote, the reply's thread kept.
  await sendMail({
    port: server.smtpPort,
    from: 'jo@example.net',
    to: ANA.address,
    message: 'From: jo@example.net\r\nTo: ana@example.org\r\nSubject: Inscription\r\nMessage-ID: <inscription@example.net>\r\n\r\nJe viendrai.\r\n',
  });
  await page.locator('.folder', { hasText: 'Inbox' }).click();
  await openMessage(page, 'Inscription');
  await page.getByRole('link', { name: 'Reply', exact: true }).click();
  await page.waitForURL(/\/compose\?reply=\d+$/);
  await waitForHydration(page);
  await page.getByLabel('Reply with a template').selectOption({ label: 'Convocation à l’assemblée' });
  await page.getByRole('button', { name: 'Use', exact: true }).click();
  await page.waitForURL(/\/compose\?reply=\d+&template=\d+$/);
  await waitForHydration(page);
  assert.equal(await page.getByLabel('Subject').inputValue(), 'Re: Inscription');
  assert.match(await page.locator('#compose-body').inputValue(), /^Madame, Monsieur,\nVous êtes convié\(e\)\.\.\.\n\n.*jo@example\.net wrote:\n> Je viendrai\.$/ms);
  const before = peer.messages().length;
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForURL(/\/mail\?sent=1$/);
  await waitFor('the peer to receive the reply', () => peer.messages().length === before + 1);
  assert.match(peer.messages().at(-1).data, /^In-Reply-To: <inscription@example\.net>/m);
  await page.close();
  const bob = await signedIn(BOB);
  await openMessage(bob, 'Convocation à l’assemblée');
  assert.match(await bob.locator('.reader-pane .text-body').innerText(), /samedi/);
  await bob.close();
});

/** `facteur admin ARGS` on the test server's data folder, with `input` on standard input. */
function admin(args, input) {
  const result = spawnSync(facteurBinary(), ['admin', '--data', server.dataDir, ...args], { input, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

test('each address has its signature, swapped with the address; the footer ends what is sent', async () => {
  admin(['footer', 'set'], 'Association Les Amis du Quartier\n12 rue des Lilas, Lyon\n');
  const page = await signedIn(ANA);
  await (await accountMenu(page)).getByRole('link', { name: 'Signatures' }).click();
  await page.waitForURL(/\/settings\/signatures$/);
  await waitForHydration(page);
  await page.getByLabel('ana@example.org').fill('Ana Martin\nTrésorière');
  await page.getByRole('button', { name: 'Save ana@example.org' }).click();
  await page.getByRole('status').filter({ hasText: 'Signature saved.' }).waitFor();
  await page.getByLabel('contact@example.org').fill("L'équipe contact");
  await page.getByRole('button', { name: 'Save contact@example.org' }).click();
  await page.waitForFunction(() => document.querySelector('#signature-1')?.value === "L'équipe contact");

  await page.goto(`${server.baseUrl}/compose`);
  await waitForHydration(page);
  const body = page.locator('#compose-body');
  assert.equal(await body.inputValue(), '\n\n-- \nAna Martin\nTrésorière');
  await page.getByText('Your organisation adds this footer below the message:').waitFor();
  await page.getByLabel('From').selectOption('contact@example.org');
  assert.equal(await body.inputValue(), "\n\n-- \nL'équipe contact");
  await page.getByLabel('To').fill('bob@example.org');
  await page.getByLabel('Subject').fill('Signé');
  await body.press('Control+Home');
  await body.pressSequentially('Bonjour Bob,');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForURL(/\/mail\?sent=1$/);
  await page.close();

  const bob = await signedIn(BOB);
  await openMessage(bob, 'Signé');
  assert.equal(
    await bob.locator('.reader-pane .text-body').innerText(),
    "Bonjour Bob,\n\n-- \nL'équipe contact\n\nAssociation Les Amis du Quartier\n12 rue des Lilas, Lyon",
  );
  await bob.close();
  assert.match(admin(['footer', 'show']), /Les Amis du Quartier/);
  admin(['footer', 'clear']);
  assert.match(admin(['footer', 'show']), /no footer/);
});

test('a signature goes below the quote or only where inserted, can be taken out, and is swapped in rich text', async () => {
  const page = await signedIn(ANA);
  await page.goto(`${server.baseUrl}/settings/signatures`);
  await waitForHydration(page);
  const preferences = (format, signature) => savePreferences(page, server.baseUrl, { format, signature });
  await page.getByLabel('ana@example.org').fill('Ana M.');
  await page.getByRole('button', { name: 'Save ana@example.org' }).click();
  await page.getByRole('status').filter({ hasText: 'Signature saved.' }).waitFor();
  await page.getByLabel('contact@example.org').fill('Contact team');
  await page.getByRole('button', { name: 'Save contact@example.org' }).click();
  await page.waitForFunction(() => document.querySelector('#signature-1')?.value === 'Contact team');
  await preferences('plain', 'below');

  // Below the quote; taken out for this one message.
  await sendMail({
    port: server.smtpPort,
    from: 'jo@example.net',
    to: ANA.address,
    message: 'From: jo@example.net\r\nTo: ana@example.org\r\nSubject: Sortie\r\n\r\nOn y va.\r\n',
  });
  await page.goto(`${server.baseUrl}/mail`);
  await openMessage(page, 'Sortie');
  await page.getByRole('link', { name: 'Reply', exact: true }).click();
  await page.waitForURL(/\/compose\?reply=\d+$/);
  await waitForHydration(page);
  const body = page.locator('#compose-body');
  assert.match(await body.inputValue(), /wrote:\n> On y va\.\n\n-- \nAna M\.$/);
  await page.getByRole('button', { name: 'Remove signature' }).click();
  assert.doesNotMatch(await body.inputValue(), /-- /);
  // Inserted where the cursor is.
  await body.press('Control+Home');
  await page.getByRole('button', { name: 'Insert signature' }).click();
  assert.match(await body.inputValue(), /^-- \nAna M\.\n/);
  // Switched to rich text and back: the block stays a signature, swapped with the address.
  await page.getByRole('button', { name: 'Rich text' }).click();
  const marked = page.getByRole('textbox', { name: 'Message content' }).locator('[data-signature]');
  assert.match(await marked.innerText(), /^-- ?\nAna M\.$/);
  await page.getByRole('button', { name: 'Rich text' }).click();
  await page.getByLabel('From').selectOption('contact@example.org');
  assert.match(await body.inputValue(), /^-- \nContact team\n/);

  // Only where inserted, in rich text: a marked block, swapped with the address.
  await preferences('rich', 'manual');
  await page.goto(`${server.baseUrl}/compose`);
  await waitForHydration(page);
  const editor = page.getByRole('textbox', { name: 'Message content' });
  await editor.waitFor();
  assert.equal(await editor.locator('[data-signature]').count(), 0, 'not put by itself');
  await editor.click();
  await page.keyboard.type('Bonjour Carol,');
  await page.keyboard.press('Enter');
  await page.getByRole('button', { name: 'Insert signature' }).click();
  // (The separator's space is there; a browser's innerText drops it at the end of a line.)
  assert.match(await editor.locator('[data-signature]').innerText(), /^-- ?\nAna M\.$/);
  await page.getByLabel('From').selectOption('contact@example.org');
  assert.match(await editor.locator('[data-signature]').innerText(), /^-- ?\nContact team$/);
  await page.getByLabel('To').fill('carol@example.net');
  await page.getByLabel('Subject').fill('Signature riche');
  const before = peer.messages().length;
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForURL(/\/mail\?sent=1$/);
  await waitFor('the peer to receive it', () => peer.messages().length === before + 1);
  const sent = peer.messages().at(-1).data;
  assert.match(sent, /data-signature/);
  // The text version keeps the separator's space (quoted-printable writes it =20).
  assert.match(sent, /Bonjour Carol,\r\n--=20\r\nContact team/);
  await preferences('plain', 'above');
  await page.close();
});

test('a read receipt asked for is sent on request, or declined, and asked once', async () => {
  for (const subject of ['Receipt please', 'Receipt again']) {
    await sendMail({
      port: server.smtpPort,
      from: 'carol@example.net',
      to: ANA.address,
      message:
        `From: carol@example.net\r\nTo: ana@example.org\r\nSubject: ${subject}\r\n` +
        `Message-ID: <${subject.replace(' ', '-')}@example.net>\r\nDisposition-Notification-To: carol@example.net\r\n\r\nHi\r\n`,
    });
  }
  const page = await signedIn(ANA);
  await openMessage(page, 'Receipt please');
  const asked = page.getByRole('status').filter({ hasText: 'The sender asks for a read receipt, to carol@example.net' });
  await asked.waitFor();
  const before = peer.messages().length;
  await page.getByRole('button', { name: 'Send the receipt' }).click();
  await waitFor('the receipt at the peer', () => peer.messages().length === before + 1);
  const receipt = peer.messages().at(-1);
  assert.equal(receipt.mail_from, '<>', 'from the null sender (RFC 8098)');
  assert.deepEqual(receipt.rcpt_tos, ['carol@example.net']);
  assert.match(receipt.data, /^Content-Type: multipart\/report;[\s\S]*report-type="?disposition-notification/m);
  assert.match(receipt.data, /^Disposition: manual-action\/MDN-sent-manually; displayed\r$/m);
  assert.match(receipt.data, /^Original-Message-ID: <Receipt-please@example\.net>\r$/m);
  assert.match(receipt.data, /^Subject: Read: Receipt please\r$/m);
  await page.reload();
  await page.locator('.reader-pane').getByRole('heading', { name: 'Receipt please' }).waitFor();
  assert.equal(await asked.count(), 0, 'not asked again');

  await page.goto(`${server.baseUrl}/mail`);
  await openMessage(page, 'Receipt again');
  await page.getByRole('button', { name: 'Do not send' }).click();
  await page.waitForFunction(() => !document.querySelector('.receipt-request'));
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(peer.messages().length, before + 1, 'nothing sent when declined');
  await page.close();
});

test('the composer speaks French to a French reader', async () => {
  const page = await signedIn(ANA);
  await page.setExtraHTTPHeaders({ 'Accept-Language': 'fr-FR,fr;q=0.9' });
  await page.goto(`${server.baseUrl}/compose`);
  await waitForHydration(page);
  await page.getByRole('heading', { name: 'Nouveau message' }).waitFor();
  await page.getByLabel('À', { exact: true }).fill('personne@example.org');
  await page.getByLabel('Objet').fill('Essai');
  await page.getByRole('button', { name: 'Envoyer' }).click();
  await page.getByRole('alert').filter({ hasText: "Personne n'a cette adresse ici : personne@example.org" }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Enregistrer le brouillon' }).count(), 1);
  await page.close();
});

test('recipients are chips: suggested from correspondents, checked, dragged between fields', async () => {
  await sendMail({
    port: server.smtpPort,
    from: 'josephine@example.net',
    to: ANA.address,
    message: 'From: =?utf-8?q?Jos=C3=A9phine_Durand?= <josephine@example.net>\r\nTo: ana@example.org\r\nSubject: Bonjour\r\n\r\nSalut.\r\n',
  });
  const page = await signedIn(ANA);
  await page.goto(`${server.baseUrl}/compose`);
  await waitForHydration(page);
  const to = page.getByLabel('To');
  await to.pressSequentially('jos');
  const suggestion = page.getByRole('listbox').getByRole('option', { name: 'Joséphine Durand <josephine@example.net>' });
  await suggestion.waitFor();
  // Her own addresses are never suggested to the writer.
  await to.fill('ana');
  await page.waitForTimeout(500);
  assert.equal(await page.getByRole('listbox').getByRole('option', { name: /ana@example\.org/ }).count(), 0);
  await to.fill('Durand');
  await suggestion.waitFor();
  await to.press('ArrowDown');
  await to.press('Enter');
  assert.equal(await recipients(page, 'to'), 'Joséphine Durand <josephine@example.net>');

  // Typed with a comma: a chip; a wrong one is marked; Backspace takes the last back as text.
  await to.pressSequentially('carol@example, ');
  assert.equal(await page.locator('.chip.invalid', { hasText: 'carol@example' }).count(), 1);
  await to.press('Backspace');
  assert.equal(await to.inputValue(), 'carol@example');
  await to.pressSequentially('.net,');
  assert.equal(await recipients(page, 'to'), 'Joséphine Durand <josephine@example.net>, carol@example.net');

  // Dragged from To to Cc.
  await page.getByText('Cc and Bcc').click();
  const ccField = page.locator('.field', { has: page.getByLabel('Cc', { exact: true }) });
  await page.locator('.chip', { hasText: 'carol@example.net' }).dragTo(ccField.locator('.recipients'));
  assert.equal(await recipients(page, 'to'), 'Joséphine Durand <josephine@example.net>');
  assert.equal(await recipients(page, 'cc'), 'carol@example.net');
  await page.close();
});
test('each address has a name shown, and one is the default to send from', async () => {
  const page = await signedIn(ANA);
  await page.goto(`${server.baseUrl}/settings/signatures`);
  await waitForHydration(page);
  await page.getByLabel('Name shown').first().fill('Ana Martin');
  await page.getByRole('button', { name: 'Save ana@example.org' }).click();
  await page.getByRole('status').filter({ hasText: 'Signature saved.' }).waitFor();
  await page.goto(`${server.baseUrl}/settings/signatures`);
  await waitForHydration(page);
  await page.getByLabel('Name shown').nth(1).fill('Équipe contact');
  await page.getByLabel('Send from this address by default').nth(1).check();
  await page.getByRole('button', { name: 'Save contact@example.org' }).click();
  await page.getByRole('status').filter({ hasText: 'Signature saved.' }).waitFor();
  await page.reload();
  assert.equal(await page.getByLabel('Name shown').first().inputValue(), 'Ana Martin');
  assert.equal(await page.getByLabel('Send from this address by default').nth(1).isChecked(), true);
  assert.equal(await page.getByLabel('Send from this address by default').first().isChecked(), false);

  await page.goto(`${server.baseUrl}/compose`);
  await waitForHydration(page);
  const from = page.getByLabel('From');
  assert.equal(await from.inputValue(), 'contact@example.org', 'the default');
  assert.deepEqual(await from.locator('option').allInnerTexts(), [
    'Ana Martin <ana@example.org>',
    'Équipe contact <contact@example.org>',
  ]);
  await page.getByLabel('To').fill('carol@example.net');
  await page.getByLabel('Subject').fill('De la part de l’équipe');
  const before = peer.messages().length;
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForURL(/\/mail\?sent=1$/);
  await waitFor('the peer to receive it', () => peer.messages().length === before + 1);
  const script = `
import email, email.policy, json, sys
m = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)
a = m["from"].addresses[0]
print(json.dumps([a.display_name, a.addr_spec]))`;
  const parsed = spawnSync('python3', ['-c', script], { input: Buffer.from(peer.messages().at(-1).data, 'latin1'), encoding: 'utf8' });
  assert.deepEqual(JSON.parse(parsed.stdout), ['Équipe contact', 'contact@example.org']);

  // The login is the default again once the other is unticked.
  await page.goto(`${server.baseUrl}/settings/signatures`);
  await waitForHydration(page);
  await page.getByLabel('Send from this address by default').nth(1).uncheck();
  await page.getByRole('button', { name: 'Save contact@example.org' }).click();
  await page.getByRole('status').filter({ hasText: 'Signature saved.' }).waitFor();
  await page.goto(`${server.baseUrl}/compose`);
  await waitForHydration(page);
  assert.equal(await page.getByLabel('From').inputValue(), 'ana@example.org');
  await page.close();
});


test('without JavaScript, a refused message says why', async () => {
  const { page } = await signInWithoutScript(server.baseUrl, ANA);
  await page.goto(`${server.baseUrl}/compose`);
  await page.getByLabel('To').fill('bbo@example.org');
  await page.getByLabel('Subject').fill('Typo');
  await page.getByRole('button', { name: 'Send' }).click();
  // Leptos sends the plain post back to the composer with the refusal in its URL.
  await page.waitForURL(/\/compose\?.*__err=/);
  await page.getByRole('alert').filter({ hasText: 'Nobody has this address here: bbo@example.org' }).waitFor();
  // The send's refusal, not an autosave's (the two are one server function).
  assert.equal(await page.locator('.autosaved').count(), 0);
});
