// Issue 18, A7 and A8 in the browser: a domain administrator makes a discussion list, puts
// people on it with their roles, changes who may write, sends a held post to the list and
// deletes another (mail over SMTP and IMAP shows each), and deletes the list after a
// confirmation step. A moderator who administers nothing moderates the list in French, and is
// refused its settings; a domain administrator of another domain gets 403 from every list
// server function.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { imap as imapAs } from '../lib/imap.mjs';
import { sendMail, textMessage } from '../lib/smtp.mjs';
import { signIn, signInFrench, closeBrowsers, waitForHydration } from '../lib/browser.mjs';
import { waitFor } from '../lib/wait.mjs';

const ANA = { address: 'ana@example.org', password: 'correct horse 42' };
const BOB = { address: 'bob@example.org', password: 'battery staple 7' };
const CARL = { address: 'carl@example.org', password: 'mountain pass 3' };
const ZOE = { address: 'zoe@example.net', password: 'riverbank 1234' };
let server;

before(async () => {
  server = await startServer({
    users: [ANA, BOB, CARL, ZOE],
    domainAdmins: [{ domain: 'example.net', address: ZOE.address }],
    imap: true,
  });
});

after(async () => {
  await closeBrowsers();
  await server?.stop();
});

/** A post to the list from someone who is not on it, by SMTP. */
async function postFromOutside(subject) {
  const from = 'someone@outside.test';
  const to = 'club@example.org';
  await sendMail({ port: server.smtpPort, from, to, message: textMessage({ from, to, subject, text: 'Hello list.' }) });
}

function inboxSubjects(user) {
  return Object.keys(imapAs(server, user, 'print(json.dumps(flags_by_subject("INBOX")))')).sort();
}

/** The list's id, from `facteur admin list show`. */
function listId(address) {
  return server.admin(['list', 'show', address]).match(/page \/lists\/(\d+)/)[1];
}

test('A7, A8: a list made, its members and roles set, held posts sent or deleted, the list deleted', async () => {
  const { page } = await signIn(server.baseUrl, ANA);
  await waitForHydration(page);
  await page.goto(`${server.baseUrl}/admin?domain=example.org`);
  await page.getByRole('link', { name: 'Lists' }).click();
  await page.getByText('No list yet.').waitFor();
  await waitForHydration(page);
  const create = page.getByRole('region', { name: 'New list' });
  await create.getByLabel('Address').fill('club');
  await create.getByLabel('Name').fill('Le Club');
  await create.getByLabel('Kind').selectOption('discussion');
  await create.getByRole('button', { name: 'Create the list' }).click();
  await page.getByRole('heading', { name: 'List · Le Club' }).waitFor();
  await waitForHydration(page);
  assert.match(page.url(), /\/admin\/list\?id=\d+$/);

  // Bob receives; Carl moderates without receiving.
  const members = page.getByRole('region', { name: 'Members' });
  await members.getByLabel('Address').fill(BOB.address);
  await members.getByRole('button', { name: 'Add to the list' }).click();
  await members.locator('.admin-alias', { hasText: BOB.address }).waitFor();
  await members.getByLabel('Address').fill(CARL.address);
  await members.getByLabel('receives').uncheck();
  await members.getByLabel('moderator').check();
  await members.getByRole('button', { name: 'Add to the list' }).click();
  await members.locator('.admin-alias', { hasText: CARL.address }).waitFor();
  assert.match(await members.locator('.admin-alias', { hasText: BOB.address }).innerText(), /· receives/);
  assert.match(await members.locator('.admin-alias', { hasText: CARL.address }).innerText(), /· moderator$/m);

  // Only owners and moderators write freely now; a member's post would wait too.
  const settings = page.getByRole('region', { name: 'Settings' });
  await settings.getByLabel('Who writes without approval').selectOption('moderated');
  // "Saved." shows since the first member: wait for this change's own answer.
  const saved = page.waitForResponse((r) => r.url().endsWith('/api/list_update'));
  await settings.getByRole('button', { name: 'Save' }).click();
  assert.equal((await saved).status(), 200);
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  assert.match(server.admin(['list', 'show', 'club@example.org']), /posting: moderated/);

  // Two posts from outside wait; one goes to the list, the other is deleted.
  await postFromOutside('Bienvenue');
  await postFromOutside('Publicité');
  // Carl, the moderator, is told of each.
  await waitFor('the moderator notices', () => inboxSubjects(CARL).length === 2);
  const held = page.getByRole('region', { name: 'Messages waiting for approval' });
  await page.reload();
  await waitForHydration(page);
  await held.locator('.admin-alias', { hasText: 'Publicité' }).waitFor();
  await held.locator('.admin-alias', { hasText: 'Bienvenue' }).getByRole('button', { name: 'Send to the list' }).click();
  await held.locator('.admin-alias', { hasText: 'Bienvenue' }).waitFor({ state: 'detached' });
  await held.locator('.admin-alias', { hasText: 'Publicité' }).getByRole('button', { name: 'Delete' }).click();
  await held.getByText('No message is waiting.').waitFor();
  await waitFor('Bob to get the approved post', () => inboxSubjects(BOB).includes('Bienvenue'));
  assert.deepEqual(inboxSubjects(BOB), ['Bienvenue']);

  // The public page offers the subscription form.
  const publicPage = await page.context().newPage();
  await publicPage.goto(`${server.baseUrl}/lists/${listId('club@example.org')}`);
  await publicPage.getByRole('button', { name: 'Join the list' }).waitFor();
  await publicPage.close();

  // Bob taken off, then the list deleted after a confirmation step.
  await members.locator('.admin-alias', { hasText: BOB.address }).getByRole('button', { name: 'Remove' }).click();
  await members.locator('.admin-alias', { hasText: BOB.address }).waitFor({ state: 'detached' });
  await page.getByRole('link', { name: 'Delete the list…' }).click();
  await page.getByText('Deleting the list removes its members and the messages waiting, for good.').waitFor();
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Delete it for good' }).click();
  await page.getByText('No list yet.').waitFor();
});

test('a moderator moderates in French and nothing more; another domain gets 403 from every list function', async () => {
  server.admin(['list', 'create', 'news@example.org', '--kind', 'discussion', '--name', 'Nouvelles']);
  server.admin(['list', 'add', 'news@example.org', CARL.address, '--moderator', '--no-receive']);
  server.admin(['list', 'add', 'news@example.org', BOB.address]);
  const id = listId('news@example.org');
  const from = 'someone@outside.test';
  await sendMail({ port: server.smtpPort, from, to: 'news@example.org', message: textMessage({ from, to: 'news@example.org', subject: 'Question', text: '?' }) });
  await waitFor('the post to be held', () => server.admin(['list', 'show', 'news@example.org']).includes('held post'));

  const page = await signInFrench(server.baseUrl, CARL);
  await page.goto(`${server.baseUrl}/admin/list?id=${id}`);
  await page.getByRole('heading', { name: 'Liste · Nouvelles' }).waitFor();
  await waitForHydration(page);
  assert.equal(await page.getByRole('region', { name: 'Réglages' }).count(), 0, 'no settings for a moderator');
  assert.equal(await page.getByRole('button', { name: 'Retirer' }).count(), 0, 'nor members to remove');
  const held = page.getByRole('region', { name: "Messages en attente d'accord" });
  await held.getByRole('button', { name: 'Envoyer à la liste' }).click();
  await held.getByText("Aucun message n'attend.").waitFor();
  await waitFor('Bob to get the post', () => inboxSubjects(BOB).includes('Question'));
  const origin = { origin: server.baseUrl };
  for (const [endpoint, form] of [
    ['list_update', { id, name: 'pris', posting: 'anyone' }],
    ['list_set_member', { id, address: CARL.address, member: 'on', owner: 'on' }],
    ['list_delete', { id }],
  ]) {
    const response = await page.request.post(`${server.baseUrl}/api/${endpoint}`, { form, headers: origin, maxRedirects: 0 });
    assert.equal(response.status(), 403, `moderator, ${endpoint}: ${await response.text()}`);
  }
  // Bob, only a member, has no part in managing it.
  const bob = (await signIn(server.baseUrl, BOB)).page;
  assert.equal((await bob.goto(`${server.baseUrl}/admin/list?id=${id}`)).status(), 403);

  const zoe = await signInFrench(server.baseUrl, ZOE);
  await zoe.goto(`${server.baseUrl}/admin?domain=example.net&view=lists`);
  await zoe.getByText('Aucune liste pour l\'instant.').waitFor();
  assert.equal((await zoe.goto(`${server.baseUrl}/admin/list?id=${id}`)).status(), 403);
  const calls = [
    ['admin_view', { domain: 'example.org', filter: '', page: '1', view: 'lists' }],
    ['admin_create_list', { domain: 'example.org', local_part: 'steal', kind: 'discussion', name: '' }],
    ['list_view', { id }],
    ['list_update', { id, name: 'pris', posting: 'anyone' }],
    ['list_set_member', { id, address: ZOE.address, member: 'on', owner: 'on' }],
    ['list_remove_member', { id, address: BOB.address }],
    ['list_enable_member', { id, address: BOB.address }],
    ['list_decide_post', { id, post: '1', decision: 'send' }],
    ['list_decide_subscription', { id, request: '1', decision: 'accept' }],
    ['list_delete', { id }],
    ['list_view', { id: '999' }],
  ];
  for (const [endpoint, form] of calls) {
    const response = await zoe.request.post(`${server.baseUrl}/api/${endpoint}`, { form, headers: origin, maxRedirects: 0 });
    assert.equal(response.status(), 403, `${endpoint}: ${await response.text()}`);
  }
  assert.match(server.admin(['list', 'show', 'news@example.org']), /bob@example\.org\tmember/);
});
