// Issue 18, A3-A6 and A2's lifecycle: a domain's aliases and one mailbox in the browser.
// postmaster@ and abuse@ are redirected (never deleted), role addresses are made in one click,
// an alias's targets are checked and changed, and mail sent by SMTP follows each change. A
// mailbox is disabled (IMAP refuses it), turned into an alias only after the page said how many
// messages go and was asked twice, made a mailbox again, renamed, and deleted. A domain administrator
// gets 403 from every one of these server functions for another domain's addresses.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { imap as imapAs } from '../lib/imap.mjs';
import { sendMail, textMessage } from '../lib/smtp.mjs';
import { signInWithoutScript, signIn, signInFrench, closeBrowsers, waitForHydration } from '../lib/browser.mjs';
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

/** Sends a message to `to` by SMTP, as the world does. */
async function mailTo(to, subject) {
  await sendMail({ port: server.smtpPort, from: 'someone@outside.test', to, message: textMessage({ from: 'someone@outside.test', to, subject, text: 'Hello.' }) });
}

/** The subjects in `user`'s inbox, read over IMAP. */
function inboxSubjects(user) {
  return Object.keys(imapAs(server, user, 'print(json.dumps(flags_by_subject("INBOX")))')).sort();
}

test('A5, A6, A3: required addresses redirected, role addresses in one click, aliases changed; mail follows', async () => {
  const { page } = await signIn(server.baseUrl, ANA);
  await waitForHydration(page);
  await page.goto(`${server.baseUrl}/admin?domain=example.org`);
  await page.getByRole('link', { name: 'Aliases' }).click();
  const required = page.getByRole('region', { name: 'Required addresses' });
  await required.waitFor();
  await waitForHydration(page);
  // Both exist from the start, go to the first administrator, and cannot be removed.
  assert.match(await required.innerText(), /postmaster@example\.org → ana@example\.org \(by default\)/);
  assert.match(await required.innerText(), /abuse@example\.org → ana@example\.org \(by default\)/);
  assert.equal(await required.getByRole('button', { name: 'Remove the alias' }).count(), 0);

  // abuse@ redirected to Bob: mail to it reaches him; back to the default, it reaches Ana.
  const abuse = required.locator('.admin-alias', { hasText: 'abuse@example.org' });
  await abuse.getByLabel('Goes to (addresses separated by commas)').fill(BOB.address);
  await abuse.getByRole('button', { name: 'Redirect' }).click();
  await required.getByText('abuse@example.org → bob@example.org').waitFor();
  await mailTo('abuse@example.org', 'Spam report');
  await waitFor('the report in Bob\'s inbox', () => inboxSubjects(BOB).includes('Spam report'));
  await required.locator('.admin-alias', { hasText: 'abuse@example.org' }).getByRole('button', { name: 'Back to the default' }).click();
  await required.getByText(/abuse@example\.org → ana@example\.org \(by default\)/).waitFor();

  // A6: contact@ in one click, to Bob and Carl.
  const roles = page.getByRole('region', { name: 'Role addresses' });
  await roles.getByLabel('Create a common address in one click. Its mail goes to:').fill(`${BOB.address}, ${CARL.address}`);
  await roles.getByRole('button', { name: 'contact@example.org' }).click();
  const aliases = page.getByRole('region', { name: /Aliases · example\.org/ });
  await aliases.getByText('contact@example.org → bob@example.org, carl@example.org').waitFor();
  assert.equal(await roles.getByRole('button', { name: 'contact@example.org' }).count(), 0, 'no longer offered');
  await mailTo('contact@example.org', 'A question');
  await waitFor('the question for Bob and Carl', () => inboxSubjects(BOB).includes('A question') && inboxSubjects(CARL).includes('A question'));

  // A new alias; an unknown local target is refused, naming it; an outside one is taken.
  const form = page.getByRole('region', { name: 'New alias' });
  await form.getByLabel('Address', { exact: true }).fill('team');
  await form.getByLabel('Goes to (addresses separated by commas)').fill('ana@example.org ghost@example.org');
  await form.getByRole('button', { name: 'Create the alias' }).click();
  await page.getByRole('alert').filter({ hasText: 'Nobody has this address here: ghost@example.org' }).waitFor();
  await form.getByLabel('Goes to (addresses separated by commas)').fill('ana@example.org; friend@elsewhere.test');
  await form.getByRole('button', { name: 'Create the alias' }).click();
  await aliases.getByText('team@example.org → ana@example.org, friend@elsewhere.test').waitFor();

  // Its targets changed; found by a target; removed.
  const team = aliases.locator('.admin-alias', { hasText: 'team@example.org' });
  await team.getByLabel('Goes to (addresses separated by commas)').fill(CARL.address);
  await team.getByRole('button', { name: 'Save' }).click();
  await aliases.getByText('team@example.org → carl@example.org').waitFor();
  await aliases.getByRole('searchbox', { name: 'Find an alias (address or target)' }).fill('carl@');
  await aliases.getByRole('searchbox', { name: 'Find an alias (address or target)' }).press('Enter');
  await page.waitForURL(/q=carl%40/);
  await page.getByRole('region', { name: /Aliases · / }).getByRole('status').filter({ hasText: '2 aliases' }).waitFor();
  await page.locator('.admin-alias', { hasText: 'team@example.org' }).getByRole('button', { name: 'Remove the alias' }).click();
  await page.getByRole('region', { name: /Aliases · / }).getByRole('status').filter({ hasText: '1 alias' }).waitFor();
});

test('A2, A4: a mailbox disabled, turned into an alias after a count and a confirmation, made a mailbox again, renamed, deleted', async () => {
  await mailTo(CARL.address, 'Kept one');
  await mailTo(CARL.address, 'Kept two');
  await waitFor('Carl\'s mail', () => inboxSubjects(CARL).includes('Kept two'));
  const held = inboxSubjects(CARL).length;

  const { page } = await signIn(server.baseUrl, ANA);
  await page.goto(`${server.baseUrl}/admin?domain=example.org`);
  await waitForHydration(page);
  await page.locator('.admin-mailbox', { hasText: CARL.address }).getByRole('link', { name: 'Manage' }).click();
  const carl = page.getByRole('region', { name: CARL.address });
  await carl.getByText(`It holds ${held} messages`).waitFor();
  // One's own mailbox offers none of this.
  await page.goto(`${server.baseUrl}/admin?domain=example.org&view=mailbox&mailbox=ana%40example.org`);
  await page.getByRole('region', { name: ANA.address }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Disable the mailbox' }).count(), 0);
  assert.equal(await page.getByRole('link', { name: 'Delete the mailbox…' }).count(), 0);
  await page.goBack();
  await carl.waitFor();
  await waitForHydration(page);

  // Disabled: IMAP refuses Carl's password, mail still arrives; enabled again.
  await carl.getByRole('button', { name: 'Disable the mailbox' }).click();
  await carl.locator('.badge', { hasText: 'disabled' }).waitFor();
  assert.throws(() => imapAs(server, CARL, 'print(json.dumps(True))'));
  await mailTo(CARL.address, 'While disabled');
  await page.getByRole('region', { name: CARL.address }).getByRole('button', { name: 'Enable the mailbox' }).click();
  await page.getByRole('region', { name: CARL.address }).getByRole('button', { name: 'Disable the mailbox' }).waitFor();
  await waitFor('the mail sent while disabled', () => inboxSubjects(CARL).includes('While disabled'));
  const count = inboxSubjects(CARL).length;

  // Into an alias: the page says how many messages go and asks; Cancel keeps everything.
  const danger = page.getByRole('region', { name: 'Delete or turn into an alias' });
  await danger.getByLabel('Goes to (addresses separated by commas)').fill(BOB.address);
  await danger.getByRole('button', { name: 'Turn it into an alias…' }).click();
  const question = page.getByRole('alertdialog');
  await question.waitFor();
  assert.match(await question.innerText(), new RegExp(`Turning carl@example\\.org into an alias deletes its ${count} messages .* for good\\. Its mail will then go to: bob@example\\.org\\.`));
  await question.getByRole('link', { name: 'Cancel' }).click();
  await page.getByRole('alertdialog').waitFor({ state: 'detached' });
  assert.equal(inboxSubjects(CARL).length, count, 'nothing deleted without the confirmation');
  await danger.getByLabel('Goes to (addresses separated by commas)').fill(BOB.address);
  await danger.getByRole('button', { name: 'Turn it into an alias…' }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Delete the messages and make it an alias' }).click();
  await page.waitForURL(/view=aliases/);
  await page.getByText('carl@example.org → bob@example.org').waitFor();
  assert.throws(() => imapAs(server, CARL, 'print(json.dumps(True))'));
  await mailTo(CARL.address, 'For Carl, now Bob');
  await waitFor('Carl\'s mail at Bob', () => inboxSubjects(BOB).includes('For Carl, now Bob'));

  // An alias made a mailbox: empty, signing in, receiving.
  const row = page.locator('.admin-alias', { hasText: 'carl@example.org →' });
  await row.locator('summary', { hasText: 'Make it a mailbox' }).click();
  await row.getByLabel('Password (8 characters at least)').fill('new start 2026');
  await row.getByRole('button', { name: 'Make it a mailbox' }).click();
  await page.getByRole('region', { name: CARL.address }).getByText('It holds 0 messages').waitFor();
  const newCarl = { address: CARL.address, password: 'new start 2026' };
  await mailTo(CARL.address, 'Welcome back');
  await waitFor('mail in the new mailbox', () => inboxSubjects(newCarl).includes('Welcome back'));

  // Renamed, the old address kept as an alias: the new login opens it, mail to the old
  // address still arrives, and contact@ (which named carl@) follows.
  await page.getByLabel('New address').fill('carlos');
  await page.getByRole('button', { name: 'Rename' }).click();
  await page.getByRole('region', { name: 'carlos@example.org' }).waitFor();
  const carlos = { address: 'carlos@example.org', password: 'new start 2026' };
  assert.equal(inboxSubjects(carlos).includes('Welcome back'), true);
  await mailTo(CARL.address, 'To the old name');
  await waitFor('mail to the old name', () => inboxSubjects(carlos).includes('To the old name'));
  assert.throws(() => imapAs(server, newCarl, 'print(json.dumps(True))'), 'the old login is gone');

  // Deleted, after the same two steps.
  await waitForHydration(page);
  await page.getByRole('link', { name: 'Delete the mailbox…' }).click();
  const confirm = page.getByRole('alertdialog');
  assert.match(await confirm.innerText(), /Deleting carlos@example\.org deletes its 2 messages .*, its folders and its settings for good\./);
  await confirm.getByRole('button', { name: 'Delete it for good' }).click();
  await page.getByRole('status').filter({ hasText: 'The mailbox is deleted. (carlos@example.org)' }).waitFor();
  assert.deepEqual(await page.locator('.admin-mailbox strong').allInnerTexts(), [ANA.address, BOB.address]);
  assert.throws(() => imapAs(server, carlos, 'print(json.dumps(True))'));
});

test('aliases in French, and 403 from every alias and mailbox function for another domain', async () => {
  const page = await signInFrench(server.baseUrl, ZOE);
  await page.goto(`${server.baseUrl}/admin?domain=example.net&view=aliases`);
  await page.getByRole('region', { name: 'Adresses obligatoires' }).waitFor();
  assert.match(await page.locator('main').innerText(), /postmaster@example\.net → zoe@example\.net \(par défaut\)/);
  await page.getByRole('region', { name: 'Adresses de fonction' }).getByRole('button', { name: 'secretariat@example.net' }).waitFor();
  assert.equal((await page.goto(`${server.baseUrl}/admin?domain=example.org&view=aliases`)).status(), 403);

  const origin = { origin: server.baseUrl };
  const calls = [
    ['admin_view', { domain: 'example.org', filter: '', page: '1', view: 'aliases' }],
    ['admin_view', { domain: 'example.net', filter: '', page: '1', view: 'mailbox', mailbox: BOB.address }],
    ['admin_create_alias', { domain: 'example.org', local_part: 'steal', targets: ZOE.address }],
    ['admin_set_alias', { address: 'postmaster@example.org', targets: ZOE.address }],
    ['admin_set_alias', { address: 'contact@example.org', targets: ZOE.address }],
    ['admin_remove_alias', { address: 'contact@example.org' }],
    ['admin_alias_to_mailbox', { address: 'contact@example.org', password: 'taken over 12' }],
    ['admin_set_disabled', { address: BOB.address, disabled: 'true' }],
    ['admin_delete_mailbox', { address: BOB.address }],
    ['admin_mailbox_to_alias', { address: BOB.address, targets: ZOE.address }],
    ['admin_rename_mailbox', { address: BOB.address, local_part: 'robert' }],
  ];
  for (const [endpoint, form] of calls) {
    const response = await page.request.post(`${server.baseUrl}/api/${endpoint}`, { form, headers: origin, maxRedirects: 0 });
    assert.equal(response.status(), 403, `${endpoint}: ${await response.text()}`);
  }
  // Nothing changed: Bob signs in, contact@ still goes to him.
  assert.equal(imapAs(server, BOB, 'print(json.dumps(True))'), true);
  await mailTo('contact@example.org', 'Still Bob');
  await waitFor('contact@ unchanged', () => inboxSubjects(BOB).includes('Still Bob'));
});

test('without JavaScript, a refusal is shown, and an alias found by a search is removed with the page staying on that search', async () => {
  const { page } = await signInWithoutScript(server.baseUrl, ZOE);
  await page.goto(`${server.baseUrl}/admin?domain=example.net&view=aliases`);
  const form = page.getByRole('region', { name: 'New alias' });
  for (const local of ['sales', 'support']) {
    await form.getByLabel('Address', { exact: true }).fill(local);
    await form.getByLabel('Goes to (addresses separated by commas)').fill(ZOE.address);
    await form.getByRole('button', { name: 'Create the alias' }).click();
    await page.getByText(`${local}@example.net → zoe@example.net`).waitFor();
  }
  // A refusal comes back in the URL of the page the form was on, and is shown there.
  await form.getByLabel('Address', { exact: true }).fill('ghosts');
  await form.getByLabel('Goes to (addresses separated by commas)').fill('ghost@example.net');
  await form.getByRole('button', { name: 'Create the alias' }).click();
  await page.getByRole('alert').filter({ hasText: 'Nobody has this address here: ghost@example.net' }).waitFor();
  const search = page.getByRole('searchbox', { name: 'Find an alias (address or target)' });
  await search.fill('sales');
  await search.press('Enter');
  await page.waitForURL(/q=sales/);
  const count = page.getByRole('region', { name: /Aliases · / }).getByRole('status');
  assert.equal(await count.innerText(), '1 alias');
  // A plain form post is answered with a redirect to the page it came from (its Referer).
  await page.locator('.admin-alias', { hasText: 'sales@example.net' }).getByRole('button', { name: 'Remove the alias' }).click();
  await page.waitForURL(/view=aliases&q=sales/);
  await count.filter({ hasText: '0 aliases' }).waitFor();
  await page.goto(`${server.baseUrl}/admin?domain=example.net&view=aliases`);
  assert.equal(await count.innerText(), '1 alias', 'support@ is left');
});
