// Issue 18, A2 and A10: the administration of mailboxes in the browser. A server administrator
// (the first account) sees every domain, creates a mailbox that then works over IMAP, finds
// it, sets its quota and resets its password. A domain administrator sees their domain only,
// in French; every administration server function answers 403 for another domain's objects,
// and to a mailbox that administers nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { imap as imapAs } from '../lib/imap.mjs';
import { accountMenu, signIn, signInFrench, closeBrowsers, waitForHydration } from '../lib/browser.mjs';

const ANA = { address: 'ana@example.org', password: 'correct horse 42' };
const BOB = { address: 'bob@example.org', password: 'battery staple 7' };
const ZOE = { address: 'zoe@example.net', password: 'riverbank 1234' };
const DAN = { address: 'dan@example.org', password: 'lighthouse 77' };
let server;

before(async () => {
  server = await startServer({
    users: [ANA, BOB, ZOE, DAN],
    domainAdmins: [
      { domain: 'example.net', address: ZOE.address },
      { domain: 'example.org', address: DAN.address },
    ],
    imap: true,
  });
});

after(async () => {
  await closeBrowsers();
  await server?.stop();
});

test('A2, A10: a server administrator creates a mailbox, finds it, sets its quota and resets its password', async () => {
  const { page } = await signIn(server.baseUrl, ANA);
  await waitForHydration(page);
  await (await accountMenu(page)).getByRole('link', { name: 'Administration' }).click();
  await page.getByRole('heading', { name: 'Administration' }).waitFor();
  const domains = page.getByRole('region', { name: 'Domains' });
  assert.deepEqual(await domains.getByRole('link').allInnerTexts(), ['example.net', 'example.org']);
  await domains.getByRole('link', { name: 'example.org' }).click();
  const mailboxes = page.getByRole('region', { name: /Mailboxes · example\.org/ });
  await mailboxes.waitFor();
  assert.deepEqual(await mailboxes.locator('.admin-mailbox strong').allInnerTexts(), [ANA.address, BOB.address, DAN.address]);

  const form = page.getByRole('region', { name: 'New mailbox' });
  await form.getByLabel('Address').fill('carla');
  await form.getByLabel('Name').fill('Carla Díaz');
  await form.getByLabel('Password (8 characters at least)').fill('garden path 9');
  await form.getByLabel('Quota in MB (empty: none)').fill('100');
  await form.getByRole('button', { name: 'Create the mailbox' }).click();
  const carla = mailboxes.locator('.admin-mailbox', { hasText: 'carla@example.org' });
  await carla.waitFor();
  assert.match(await carla.innerText(), /Carla Díaz/);
  assert.match(await carla.innerText(), /\/ 100 MB/);
  // The mailbox is real: it signs in over IMAP and has its folders.
  const carlaUser = { address: 'carla@example.org', password: 'garden path 9' };
  assert.equal(imapAs(server, carlaUser, 'typ, data = imap.select("INBOX")\nprint(json.dumps(typ))'), 'OK');

  // Found by its name; a name that no mailbox has finds none.
  await mailboxes.getByRole('searchbox', { name: 'Find a mailbox' }).fill('díaz');
  await mailboxes.getByRole('searchbox', { name: 'Find a mailbox' }).press('Enter');
  await page.waitForURL(/q=d%C3%ADaz/);
  await waitForHydration(page);
  await page.getByRole('region', { name: /Mailboxes/ }).getByRole('status').filter({ hasText: '1 mailbox' }).waitFor();
  assert.deepEqual(await page.locator('.admin-mailbox strong').allInnerTexts(), ['carla@example.org']);

  // Unlimited again, then a new password: the old one no longer opens the mailbox.
  const row = page.locator('.admin-mailbox', { hasText: 'carla@example.org' });
  await row.getByLabel('Quota in MB (empty: none)').fill('');
  await row.getByRole('button', { name: 'Set the quota' }).click();
  await page.locator('.admin-mailbox', { hasText: 'carla@example.org' }).filter({ hasText: '/ unlimited' }).waitFor();
  await page.locator('.admin-mailbox', { hasText: 'carla@example.org' }).getByLabel('New password').fill('new secret 10');
  // "Saved." shows since the quota: wait for the reset's own answer.
  const reset = page.waitForResponse((r) => r.url().endsWith('/api/admin_reset_password'));
  await page.locator('.admin-mailbox', { hasText: 'carla@example.org' }).getByRole('button', { name: 'Reset the password' }).click();
  assert.equal((await reset).status(), 200);
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  assert.match(page.url(), /q=d%C3%ADaz/, 'the search is kept');
  assert.equal(imapAs(server, { ...carlaUser, password: 'new secret 10' }, 'print(json.dumps(True))'), true);
  assert.throws(() => imapAs(server, carlaUser, 'print(json.dumps(True))'));

  // A mailbox that exists already is refused, with the reason.
  await form.getByLabel('Address').fill('bob');
  await form.getByLabel('Password (8 characters at least)').fill('another one 5');
  await form.getByRole('button', { name: 'Create the mailbox' }).click();
  await page.getByRole('alert').filter({ hasText: /already/ }).waitFor();
});

test('a domain administrator manages their domain only (French), and 403 everywhere else', async () => {
  const page = await signInFrench(server.baseUrl, ZOE);
  await (await accountMenu(page)).getByRole('link', { name: 'Administration' }).click();
  await page.getByRole('heading', { name: 'Administration' }).waitFor();
  assert.deepEqual(await page.getByRole('region', { name: 'Domaines' }).getByRole('link').allInnerTexts(), ['example.net']);
  // Their only domain is shown at once.
  await page.getByRole('region', { name: /Boîtes aux lettres · example\.net/ }).waitFor();
  assert.match(await page.locator('main').innerText(), /Administrateurs du domaine : zoe@example\.net/);

  const other = await page.goto(`${server.baseUrl}/admin?domain=example.org`);
  assert.equal(other.status(), 403);
  await page.getByText("Vous n'avez pas le droit d'administrer ceci.").waitFor();

  // Every server function of the administration, asked about example.org's objects.
  const origin = { origin: server.baseUrl };
  const calls = [
    ['admin_view', { domain: 'example.org', filter: '', page: '1' }],
    ['admin_create_mailbox', { domain: 'example.org', local_part: 'eve', name: '', password: 'long enough 1', quota_mb: '' }],
    ['admin_set_quota', { address: BOB.address, quota_mb: '1' }],
    ['admin_reset_password', { address: BOB.address, password: 'taken over 1' }],
  ];
  for (const [endpoint, form] of calls) {
    const response = await page.request.post(`${server.baseUrl}/api/${endpoint}`, { form, headers: origin, maxRedirects: 0 });
    assert.equal(response.status(), 403, `${endpoint}: ${await response.text()}`);
  }
  // Nothing changed: Bob still signs in with his password, and no eve@ was made.
  assert.equal(imapAs(server, BOB, 'print(json.dumps(True))'), true);

  // A mailbox that administers nothing gets 403 from each too, and is not offered the way in.
  const { page: bob } = await signIn(server.baseUrl, BOB);
  await waitForHydration(bob);
  const bobMenu = await accountMenu(bob);
  await bobMenu.getByRole('link', { name: 'Preferences' }).waitFor();
  assert.equal(await bobMenu.getByRole('link', { name: 'Administration' }).count(), 0);
  assert.equal((await bob.goto(`${server.baseUrl}/admin`)).status(), 403);
  for (const [endpoint, form] of calls) {
    const response = await bob.request.post(`${server.baseUrl}/api/${endpoint}`, { form, headers: origin, maxRedirects: 0 });
    assert.equal(response.status(), 403, `${endpoint}: ${await response.text()}`);
  }
  const { page: ana } = await signIn(server.baseUrl, ANA);
  await ana.goto(`${server.baseUrl}/admin?domain=example.org`);
  assert.deepEqual(await ana.locator('.admin-mailbox strong').allInnerTexts(), [ANA.address, BOB.address, 'carla@example.org', DAN.address]);

  // A domain administrator manages their domain's mailboxes, but not a server administrator's
  // (resetting its password would make them one).
  const { page: dan } = await signIn(server.baseUrl, DAN);
  const post = (endpoint, form) => dan.request.post(`${server.baseUrl}/api/${endpoint}`, { form, headers: origin, maxRedirects: 0 });
  assert.equal((await post('admin_reset_password', { address: ANA.address, password: 'taken over 1' })).status(), 403);
  assert.equal((await post('admin_set_quota', { address: ANA.address, quota_mb: '1' })).status(), 403);
  assert.equal(imapAs(server, ANA, 'print(json.dumps(True))'), true);
  const allowed = await post('admin_set_quota', { address: BOB.address, quota_mb: '700' });
  assert.ok(allowed.status() < 400, `${allowed.status()}: ${await allowed.text()}`);
  await dan.goto(`${server.baseUrl}/admin`);
  await dan.locator('.admin-mailbox', { hasText: BOB.address }).filter({ hasText: '/ 700 MB' }).waitFor();
});
