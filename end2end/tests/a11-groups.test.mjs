// Issue 18, A11 in the browser: a domain administrator makes a group, puts mailboxes in it and
// makes one of them its administrator; that administrator, who administers nothing else, adds
// and removes members in French and may not rename or delete the group; another domain's
// administrator gets 403 from every group server function.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { signIn, signInFrench, closeBrowsers, waitForHydration } from '../lib/browser.mjs';

const ANA = { address: 'ana@example.org', password: 'correct horse 42' };
const BOB = { address: 'bob@example.org', password: 'battery staple 7' };
const CARL = { address: 'carl@example.org', password: 'mountain pass 3' };
const ZOE = { address: 'zoe@example.net', password: 'riverbank 1234' };
let server;

before(async () => {
  server = await startServer({
    users: [ANA, BOB, CARL, ZOE],
    domainAdmins: [{ domain: 'example.net', address: ZOE.address }],
  });
});

after(async () => {
  await closeBrowsers();
  await server?.stop();
});

test('A11: a group made, its members and administrator set; its administrator manages its members', async () => {
  const { page } = await signIn(server.baseUrl, ANA);
  await waitForHydration(page);
  await page.goto(`${server.baseUrl}/admin?domain=example.org&view=groups`);
  await page.getByText('No group yet.').waitFor();
  await waitForHydration(page);
  const create = page.getByRole('region', { name: 'New group' });
  await create.getByLabel('Name').fill('Bureau');
  await create.getByLabel('What it is for').fill('Le bureau de l’association');
  await create.getByRole('button', { name: 'Create the group' }).click();
  await page.getByRole('heading', { name: 'Group · Bureau' }).waitFor();
  await waitForHydration(page);
  const members = page.getByRole('region', { name: 'Members' });
  for (const local of ['bob', 'carl']) {
    await members.getByLabel('Mailbox to add').fill(local);
    await members.getByRole('button', { name: 'Add' }).click();
    await members.locator('.admin-alias', { hasText: `${local}@example.org` }).waitFor();
  }
  // Another domain's mailbox is refused with its address named.
  await members.getByLabel('Mailbox to add').fill(ZOE.address);
  await members.getByRole('button', { name: 'Add' }).click();
  await page.getByRole('alert').filter({ hasText: 'zoe@example.net' }).waitFor();
  await members.locator('.admin-alias', { hasText: BOB.address }).getByRole('button', { name: 'Make administrator' }).click();
  await members.locator('.admin-alias', { hasText: 'group administrator' }).waitFor();
  assert.match(server.admin(['group', 'show', 'example.org', 'Bureau']), /bob@example\.org\tadmin\ncarl@example\.org\n/);

  // Bob administers the group alone: he removes Carl and adds Ana, in French.
  const bob = await signInFrench(server.baseUrl, BOB);
  const id = server.admin(['group', 'show', 'example.org', 'Bureau']).match(/id=(\d+)/)[1];
  await bob.goto(`${server.baseUrl}/admin/group?id=${id}`);
  await bob.getByRole('heading', { name: 'Groupe · Bureau' }).waitFor();
  await waitForHydration(bob);
  assert.equal(await bob.getByRole('button', { name: 'Supprimer le groupe' }).count(), 0);
  const bobMembers = bob.getByRole('region', { name: 'Membres' });
  await bobMembers.locator('.admin-alias', { hasText: CARL.address }).getByRole('button', { name: 'Retirer' }).click();
  await bobMembers.locator('.admin-alias', { hasText: CARL.address }).waitFor({ state: 'detached' });
  await bobMembers.getByLabel('Boîte à ajouter').fill(ANA.address);
  await bobMembers.getByRole('button', { name: 'Ajouter' }).click();
  await bobMembers.locator('.admin-alias', { hasText: ANA.address }).waitFor();
  const origin = { origin: server.baseUrl };
  for (const [endpoint, form] of [
    ['group_update', { id, name: 'Pris', description: '' }],
    ['group_delete', { id }],
    ['group_set_member', { id, address: CARL.address, admin: 'on' }],
    ['admin_create_group', { domain: 'example.org', name: 'Autre', description: '' }],
  ]) {
    const response = await bob.request.post(`${server.baseUrl}/api/${endpoint}`, { form, headers: origin, maxRedirects: 0 });
    assert.equal(response.status(), 403, `group administrator, ${endpoint}: ${await response.text()}`);
  }

  // Carl, out of it, has no part in it; Zoe, of another domain, gets 403 everywhere.
  const carl = (await signIn(server.baseUrl, CARL)).page;
  assert.equal((await carl.goto(`${server.baseUrl}/admin/group?id=${id}`)).status(), 403);
  const zoe = await signInFrench(server.baseUrl, ZOE);
  for (const [endpoint, form] of [
    ['admin_view', { domain: 'example.org', filter: '', page: '1', view: 'groups' }],
    ['admin_create_group', { domain: 'example.org', name: 'Pris', description: '' }],
    ['group_view', { id }],
    ['group_set_member', { id, address: ZOE.address }],
    ['group_remove_member', { id, address: BOB.address }],
    ['group_update', { id, name: 'Pris', description: '' }],
    ['group_delete', { id }],
  ]) {
    const response = await zoe.request.post(`${server.baseUrl}/api/${endpoint}`, { form, headers: origin, maxRedirects: 0 });
    assert.equal(response.status(), 403, `${endpoint}: ${await response.text()}`);
  }

  // Renamed, then deleted, by the domain administrator.
  await page.reload();
  await waitForHydration(page);
  const settings = page.getByRole('region', { name: 'Settings' });
  await settings.getByLabel('Name').fill('Conseil');
  await settings.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { name: 'Group · Conseil' }).waitFor();
  await page.getByRole('button', { name: 'Delete the group' }).click();
  await page.getByText('No group yet.').waitFor();
});
