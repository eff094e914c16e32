// Tags and comments (issue 16: D6, D7), and drag and drop (D4, D6). Tags are made on their own
// page with a colour, put on messages from the list's toolbar, the reading pane or by dragging
// one onto a message, listed across folders, recoloured and deleted; each step is checked over
// IMAP with Python's imaplib, since tags are the IMAP keywords both ways (a keyword an IMAP client
// sets shows as a tag). A comment is a private note on a message, shown by an icon.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { imap as imapAs } from '../lib/imap.mjs';
import { sendMail, textMessage } from '../lib/smtp.mjs';
import { signIn, closeBrowsers, waitForHydration } from '../lib/browser.mjs';

const ANA = { address: 'ana@example.org', password: 'correct horse 42' };
const BOB = { address: 'bob@example.org', password: 'battery staple 7' };
let server;

before(async () => {
  server = await startServer({ users: [ANA, BOB], imap: true });
  for (const subject of ['Invoice March', 'Team lunch', 'Old invoice', 'Minutes']) {
    await sendMail({
      port: server.smtpPort,
      from: 'zoe@example.net',
      to: ANA.address,
      message: textMessage({ from: 'zoe@example.net', to: ANA.address, subject, text: `About ${subject}` }),
    });
  }
});

after(async () => {
  await closeBrowsers();
  await server?.stop();
});

const imap = (code) => imapAs(server, ANA, code);
const inboxFlags = () => imap('print(json.dumps(flags_by_subject("INBOX")))');
const row = (page, subject) => page.locator('.message-row', { hasText: subject });

test('D6: tags made with a colour, put on messages three ways, listed, recoloured and deleted; IMAP keywords both ways', async () => {
  const { page } = await signIn(server.baseUrl, ANA);
  await waitForHydration(page);
  await page.getByRole('link', { name: 'Manage tags' }).click();
  await page.getByRole('heading', { name: 'Your tags' }).waitFor();
  for (const [name, colour] of [['À traiter', 'red'], ['Factures', 'green']]) {
    await page.getByLabel('Name').fill(name);
    await page.getByLabel('Colour', { exact: true }).selectOption(colour);
    await page.getByRole('button', { name: 'Create the tag' }).click();
    await page.locator('.folder-admin .tag-chip', { hasText: name }).waitFor();
  }
  await page.getByLabel('Name').fill('Factures');
  await page.getByRole('button', { name: 'Create the tag' }).click();
  assert.match(await page.getByRole('alert').innerText(), /already/i, 'names are unique');
  assert.equal(await page.locator('.folder-admin .tag-chip.tag-red').innerText(), 'À traiter');

  // From the list's toolbar, on two ticked messages.
  await page.goto(`${server.baseUrl}/mail`);
  await waitForHydration(page);
  await row(page, 'Invoice March').waitFor();
  await row(page, 'Invoice March').locator('.row-check').check();
  await row(page, 'Old invoice').locator('.row-check').check();
  await page.locator('.list-toolbar select[name=tag]').selectOption({ label: 'Factures' });
  await page.locator('.list-toolbar').getByRole('button', { name: 'Add tag' }).click();
  await row(page, 'Old invoice').locator('.tag-chip', { hasText: 'Factures' }).waitFor();
  let flags = inboxFlags();
  assert.match(flags['Invoice March'], /\bFactures\b/);
  assert.match(flags['Old invoice'], /\bFactures\b/);
  assert.doesNotMatch(flags['Team lunch'], /Factures/);

  // From the reading pane: the name with an accent and a space is a keyword made from it.
  await row(page, 'Team lunch').locator('a').click();
  await page.locator('.message-subject', { hasText: 'Team lunch' }).waitFor();
  await page.locator('.message-tags select[name=tag]').selectOption({ label: 'À traiter' });
  await page.locator('.message-tags').getByRole('button', { name: 'Add tag' }).click();
  await page.locator('.message-tags .tag-chip', { hasText: 'À traiter' }).waitFor();
  assert.match(inboxFlags()['Team lunch'], /&AMA-_traiter/);

  // Keywords an IMAP client sets are tags too: its own, and Thunderbird's labels by name.
  imap(`
imap.select("INBOX")
typ, data = imap.search(None, 'SUBJECT "Minutes"')
imap.store(data[0].decode(), "+FLAGS", "(projet_x $label1)")
print("true")`);
  await page.goto(`${server.baseUrl}/mail`);
  await waitForHydration(page);
  const tagNames = await page.locator('.tag-list .tag-link').allInnerTexts();
  assert.deepEqual(tagNames.map((name) => name.trim()), ['À traiter', 'Factures', 'Important', 'projet x']);
  await row(page, 'Minutes').locator('.tag-chip', { hasText: 'projet x' }).waitFor();
  assert.equal(await row(page, 'Minutes').locator('.tag-chip.tag-red', { hasText: 'Important' }).count(), 1);

  // The messages with a tag, in every folder: one of them moved to Trash stays listed.
  await row(page, 'Old invoice').locator('.row-check').check();
  await page.locator('.list-toolbar').getByRole('button', { name: 'Delete', exact: true }).click();
  await row(page, 'Old invoice').waitFor({ state: 'detached' });
  await page.locator('.tag-link', { hasText: 'Factures' }).click();
  await page.getByRole('heading', { name: 'Tag: Factures' }).waitFor();
  await row(page, 'Old invoice').waitFor();
  await row(page, 'Invoice March').waitFor();
  assert.equal(await page.locator('.message-row').count(), 2);
  // Opening one from the tag's list keeps the list, and its tag can be taken off there.
  await row(page, 'Invoice March').locator('a').click();
  await page.locator('.message-subject', { hasText: 'Invoice March' }).waitFor();
  assert.match(page.url(), /\/mail\/tag\/\d+\?tag=Factures/);
  await page.getByRole('button', { name: 'Remove tag Factures' }).click();
  await page.locator('.message-tags .tag-chip', { hasText: 'Factures' }).waitFor({ state: 'detached' });
  assert.doesNotMatch(inboxFlags()['Invoice March'], /Factures/);
  const trashFlags = imap('print(json.dumps(flags_by_subject("Trash")))');
  assert.match(trashFlags['Old invoice'], /\bFactures\b/, 'the tag went to Trash with the message');

  // Recolour, then delete: the keyword leaves the messages, the messages stay.
  await page.goto(`${server.baseUrl}/settings/tags`);
  await waitForHydration(page);
  await page.getByLabel('Colour Factures').selectOption('blue');
  await page.locator('.folder-admin-row', { hasText: 'Factures' }).getByRole('button', { name: 'Save' }).click();
  await page.locator('.folder-admin .tag-chip.tag-blue', { hasText: 'Factures' }).waitFor();
  const factures = page.locator('.folder-admin-row', { hasText: 'Factures' });
  await factures.locator('summary').click();
  await factures.getByRole('button', { name: 'Delete Factures' }).click();
  await page.locator('.folder-admin .tag-chip', { hasText: 'Factures' }).waitFor({ state: 'detached' });
  const afterDelete = imap('print(json.dumps(flags_by_subject("Trash")))');
  assert.doesNotMatch(afterDelete['Old invoice'], /Factures/);

  // Drag and drop: a tag onto a message tags it; a message onto a folder moves it.
  imap('imap.create("Archive")\nprint("true")');
  await page.goto(`${server.baseUrl}/mail`);
  await waitForHydration(page);
  await page.locator('.tag-link', { hasText: 'À traiter' }).dragTo(row(page, 'Invoice March'));
  await row(page, 'Invoice March').locator('.tag-chip', { hasText: 'À traiter' }).waitFor();
  assert.match(inboxFlags()['Invoice March'], /&AMA-_traiter/);
  await row(page, 'Minutes').dragTo(page.locator('.folder', { hasText: 'Archive' }));
  await row(page, 'Minutes').waitFor({ state: 'detached' });
  const archived = imap('print(json.dumps(flags_by_subject("Archive")))');
  assert.deepEqual(Object.keys(archived), ['Minutes']);
  assert.match(archived.Minutes, /projet_x/, 'keywords move with the message');
});

test('D7: a private comment on a message, shown by an icon, edited and removed; nobody else can touch it', async () => {
  const { page } = await signIn(server.baseUrl, ANA);
  await waitForHydration(page);
  await row(page, 'Team lunch').locator('a').click();
  await page.locator('.message-subject', { hasText: 'Team lunch' }).waitFor();
  await page.getByText('Add a comment').click();
  await page.getByRole('textbox', { name: 'Comment' }).fill('Book for 12 people');
  await page.locator('.comment-tool').getByRole('button', { name: 'Save' }).click();
  await page.getByRole('note').filter({ hasText: 'Book for 12 people' }).waitFor();
  await row(page, 'Team lunch').locator('.mark.comment').waitFor();
  const messageUrl = page.url();

  // Bob posting to Ana's message changes nothing.
  const bob = await signIn(server.baseUrl, BOB);
  const id = messageUrl.match(/\/(\d+)(\?|$)/)[1];
  const response = await bob.page.request.post(`${server.baseUrl}/actions`, {
    form: { id, action: 'comment', comment: 'Bob was here' },
    headers: { Origin: server.baseUrl },
    maxRedirects: 0,
  });
  assert.equal(response.status(), 303);

  // A form may only put the account's own tags on messages: not any keyword it names (here
  // the spam mark, which IMAP clients act on).
  const foreign = await page.request.post(`${server.baseUrl}/actions`, {
    form: { id, action: 'tag', tag: '$Junk' },
    headers: { Origin: server.baseUrl },
    maxRedirects: 0,
  });
  assert.equal(foreign.status(), 404);
  assert.doesNotMatch(inboxFlags()['Team lunch'], /Junk/);

  await page.reload();
  await page.getByRole('note').filter({ hasText: 'Book for 12 people' }).waitFor();
  await page.getByText('Edit the comment').click();
  await page.getByRole('textbox', { name: 'Comment' }).fill('Book for 14 people');
  await page.locator('.comment-tool').getByRole('button', { name: 'Save' }).click();
  await page.getByRole('note').filter({ hasText: 'Book for 14 people' }).waitFor();
  await page.getByText('Edit the comment').click();
  await page.getByRole('button', { name: 'Remove the comment' }).click();
  await page.getByRole('note').waitFor({ state: 'detached' });
  assert.equal(await row(page, 'Team lunch').locator('.mark.comment').count(), 0);
});
