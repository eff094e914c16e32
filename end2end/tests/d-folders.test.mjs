// The folders page (issue 16: D1–D3): create a folder at the top level and inside another,
// rename and move one with its subfolders, delete one into Trash and then for good; system
// folders offer neither; a parent is bold while a subfolder holds unread mail; the quota gauge
// (A10) under the tree. Every change is
// checked over IMAP with Python's imaplib, since desktop clients see the same folders.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { imap as imapAs } from '../lib/imap.mjs';
import { sendMail, textMessage } from '../lib/smtp.mjs';
import { signInWithoutScript, signIn, closeBrowsers, waitForHydration } from '../lib/browser.mjs';

const ANA = { address: 'ana@example.org', password: 'correct horse 42', quotaMb: 1 };
let server;

before(async () => {
  server = await startServer({ users: [ANA], imap: true });
});

after(async () => {
  await closeBrowsers();
  await server?.stop();
});

/** Runs `code` in Python with imaplib logged in as Ana (see lib/imap.mjs). */
const imap = (code) => imapAs(server, ANA, code);

const userFolders = () => imap('print(json.dumps([n for n in names(imap.list) if n not in ("INBOX", "Drafts", "Sent", "Templates", "Spam", "Trash")]))');

test('D1–D3: create, nest, rename, move and delete folders; IMAP sees each step', async () => {
  const { page } = await signIn(server.baseUrl, ANA);
  await waitForHydration(page);
  await page.getByRole('link', { name: 'Manage folders' }).click();
  await page.getByRole('heading', { name: 'New folder' }).waitFor();
  const newFolder = page.getByRole('region', { name: 'New folder' });
  const yours = page.getByRole('region', { name: 'Your folders' });

  // System folders can be neither renamed nor deleted.
  const inboxRow = yours.locator('.folder-admin-row', { hasText: 'Inbox' });
  assert.equal(await inboxRow.locator('details').count(), 0);

  await newFolder.getByLabel('Name').fill('Projects');
  await newFolder.getByRole('button', { name: 'Create' }).click();
  await yours.locator('.folder-admin-name', { hasText: /^Projects$/ }).waitFor();
  await newFolder.getByLabel('Name').fill('2026');
  await newFolder.getByLabel('Inside').selectOption({ label: 'Projects' });
  await newFolder.getByRole('button', { name: 'Create' }).click();
  await yours.locator('.folder-admin-name', { hasText: /^2026$/ }).waitFor();
  assert.deepEqual(userFolders(), ['Projects', 'Projects/2026']);
  // Made here, they are subscribed, so desktop clients that list those only show them.
  assert.deepEqual(imap('print(json.dumps([n for n in names(imap.lsub) if n.startswith("Projects")]))'), ['Projects', 'Projects/2026']);

  // The same name twice, or a name with the separator, is refused in plain words.
  await newFolder.getByLabel('Name').fill('Projects');
  await newFolder.getByLabel('Inside').selectOption({ label: '(top level)' });
  await newFolder.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('alert').waitFor();
  assert.match(await page.getByRole('alert').innerText(), /already/i);
  await newFolder.getByLabel('Name').fill('a/b');
  await newFolder.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('alert').filter({ hasNotText: /already/i }).waitFor();
  assert.deepEqual(userFolders(), ['Projects', 'Projects/2026']);

  // Unread mail in the subfolder makes its parent bold in the mail view's tree.
  await sendMail({
    port: server.smtpPort,
    from: 'bob@example.net',
    to: ANA.address,
    message: textMessage({ from: 'bob@example.net', to: ANA.address, subject: 'Filed', text: 'x' }),
  });
  imap('imap.select("INBOX")\nimap.uid("MOVE", "1:*", "Projects/2026")\nprint("null")');
  await page.goto(`${server.baseUrl}/mail`);
  const parent = page.locator('.folder', { hasText: /^Projects/ });
  assert.match(await parent.getAttribute('class'), /\bhas-unread\b/);
  assert.match(await parent.innerText(), /^Projects/);
  assert.equal(await parent.locator('.count').count(), 0, 'the count is the subfolder\'s own');
  assert.match(await page.locator('.folder', { hasText: /^2026/ }).getAttribute('title'), /^1 messages$/);
  const gauge = page.locator('.quota');
  assert.match(await gauge.innerText(), /\b\d+ B of 1\.0 MB$/);
  assert.equal(await gauge.getByRole('meter').getAttribute('max'), '100');

  // Renamed with its subfolder, which keeps its message.
  await page.getByRole('link', { name: 'Manage folders' }).click();
  await waitForHydration(page);
  const projects = yours.locator('.folder-admin-row', { has: page.locator('.folder-admin-name', { hasText: /^Projects$/ }) });
  await projects.getByText('Rename or move').click();
  await projects.getByLabel('Name').fill('Work');
  await projects.getByRole('button', { name: 'Save' }).click();
  await yours.locator('.folder-admin-name', { hasText: /^Work$/ }).waitFor();
  assert.deepEqual(userFolders(), ['Work', 'Work/2026']);
  assert.equal(imap('typ, data = imap.select("Work/2026")\nprint(int(data[0]))'), 1);

  // Moved to the top level; a folder is never offered as its own parent.
  const year = yours.locator('.folder-admin-row', { has: page.locator('.folder-admin-name', { hasText: /^2026$/ }) });
  await year.getByText('Rename or move').click();
  const offered = await year.getByLabel('Inside').locator('option').allInnerTexts();
  assert.ok(!offered.some((o) => o.trim() === '2026'), offered.join(', '));
  await year.getByLabel('Inside').selectOption({ label: '(top level)' });
  await year.getByRole('button', { name: 'Save' }).click();
  await yours.locator('.folder-admin-row[style="--depth: 0"]', { has: page.locator('.folder-admin-name', { hasText: /^2026$/ }) }).waitFor();
  await waitUntil(() => JSON.stringify(userFolders()) === JSON.stringify(['2026', 'Work']));

  // Deleted: first into Trash, then from there for good.
  const work = yours.locator('.folder-admin-row', { has: page.locator('.folder-admin-name', { hasText: /^Work$/ }) });
  await work.locator('summary', { hasText: 'Delete folder' }).click();
  await work.getByText('go to Trash').waitFor();
  await work.getByRole('button', { name: /Delete folder/ }).click();
  await waitUntil(() => JSON.stringify(userFolders()) === JSON.stringify(['2026', 'Trash/Work']));
  const trashed = yours.locator('.folder-admin-row', { has: page.locator('.folder-admin-name', { hasText: /^Work$/ }) });
  // The page shows it in Trash now, its forms folded.
  await trashed.locator('.note', { hasText: 'deleted for good' }).waitFor({ state: 'attached' });
  await trashed.locator('summary', { hasText: 'Delete folder' }).click();
  await trashed.getByText('deleted for good').waitFor();
  await trashed.getByRole('button', { name: /Delete folder/ }).click();
  await waitUntil(() => JSON.stringify(userFolders()) === JSON.stringify(['2026']));
  await page.close();
});

test('D3: a folder dragged onto another moves inside it, onto the title to the top level', async () => {
  imap('for n in ("Clients", "Clients/Acme", "Suppliers"):\n    imap.create(n)\nprint("null")');
  const mine = () => JSON.stringify(userFolders().filter((n) => /Clients|Acme|Suppliers/.test(n)));
  const { page } = await signIn(server.baseUrl, ANA);
  await waitForHydration(page);
  const folder = (name) => page.locator('.folder', { hasText: new RegExp(`^${name}`) });
  // System folders stay where they are.
  assert.equal(await page.locator('.folder[data-role="inbox"]').getAttribute('draggable'), null);

  await folder('Clients').dragTo(folder('Suppliers'));
  await waitUntil(() => mine() === JSON.stringify(['Suppliers', 'Suppliers/Clients', 'Suppliers/Clients/Acme']));
  // The tree shows it nested, without a reload.
  await page.waitForFunction(() => document.querySelector('.folder[data-path="Suppliers/Clients/Acme"]'));

  await folder('Acme').dragTo(page.locator('.folders-top'));
  await waitUntil(() => mine() === JSON.stringify(['Acme', 'Suppliers', 'Suppliers/Clients']));
  await page.waitForFunction(() => document.querySelector('.folder[data-path="Acme"]'));

  // Into itself: nothing is posted, nothing changes.
  await folder('Suppliers').dragTo(folder('Clients'));
  await page.waitForTimeout(300);
  assert.equal(mine(), JSON.stringify(['Acme', 'Suppliers', 'Suppliers/Clients']));
  await page.close();
});

async function waitUntil(check) {
  for (let i = 0; i < 100; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail('timed out');
}

test('without JavaScript, a refused folder name is said on the folders page', async () => {
  const { page } = await signInWithoutScript(server.baseUrl, ANA);
  await page.getByRole('link', { name: 'Manage folders' }).click();
  const newFolder = page.getByRole('region', { name: 'New folder' });
  await newFolder.getByLabel('Name').fill('Trash');
  await newFolder.getByRole('button', { name: 'Create' }).click();
  // Leptos sends the plain post back to this page with the refusal in its URL.
  await page.waitForURL(/\/folders\?.*__err=/);
  await page.getByRole('alert').filter({ hasText: 'This name is already used.' }).waitFor();
});
