// Issue 18, A1 and roles: domains in the browser. A server administrator adds a domain (its
// DKIM key made at once) and lands on its DNS page, where each record to publish is checked
// live against a stub name server on loopback (lib/dns.mjs) with a verdict per record; records
// published meanwhile are seen on "Check again". An empty domain is removed, one with mailboxes
// is not. A mailbox is made a domain administrator and back. A domain administrator sees their
// domain's DNS page in French and gets 403 from adding or removing domains.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { startDnsStub } from '../lib/dns.mjs';
import { accountMenu, signIn, signInFrench, closeBrowsers, waitForHydration } from '../lib/browser.mjs';

const ANA = { address: 'ana@example.org', password: 'correct horse 42' };
const BOB = { address: 'bob@example.org', password: 'battery staple 7' };
const ZOE = { address: 'zoe@example.net', password: 'riverbank 1234' };
let server;
let dns;

before(async () => {
  dns = await startDnsStub();
  server = await startServer({
    users: [ANA, BOB, ZOE],
    domainAdmins: [{ domain: 'example.net', address: ZOE.address }],
    dnsServer: dns.server,
    hostname: 'mail.example.org',
  });
});

after(async () => {
  await closeBrowsers();
  await server?.stop();
  await dns?.stop();
});

/** The DNS table's rows as { name, kind, value, status }. */
async function dnsRows(page) {
  return page.locator('.dns-records tbody tr').evaluateAll((rows) =>
    rows.map((row) => {
      const cells = [...row.querySelectorAll('td')].map((cell) => cell.innerText.trim());
      return { name: cells[0], kind: cells[1], value: cells[2], status: cells[4] };
    }));
}

function statusOf(rows, name, kind) {
  const row = rows.find((r) => r.name === name && r.kind === kind);
  assert.ok(row, `${kind} ${name} in ${JSON.stringify(rows)}`);
  return row.status;
}

test('A1: a domain added, its DNS records checked live, published, checked again; an empty domain removed', async () => {
  const { page } = await signIn(server.baseUrl, ANA);
  await page.goto(`${server.baseUrl}/admin`);
  await waitForHydration(page);
  const domains = page.getByRole('region', { name: 'Domains' });
  await domains.getByLabel('Add a domain').fill('Asso.test');
  await domains.getByRole('button', { name: 'Add' }).click();
  await page.waitForURL(/domain=asso\.test&view=dns/);
  await page.getByRole('region', { name: 'DNS · asso.test' }).waitFor();

  // Nothing published yet: every record is missing, but for the POP3 one nobody needs.
  let rows = await dnsRows(page);
  assert.equal(statusOf(rows, 'asso.test.', 'MX'), 'Missing');
  assert.equal(statusOf(rows, '_pop3s._tcp.asso.test.', 'SRV'), 'Not needed');
  const dkim = rows.find((r) => r.name.endsWith('._domainkey.asso.test.'));
  assert.ok(dkim, 'a DKIM record, the key made with the domain');
  assert.match(dkim.value, /^"v=DKIM1; k=rsa; p=[A-Za-z0-9+/]{200,}/);
  assert.equal(rows.find((r) => r.kind === 'MX').value, '10 mail.example.org.');

  // Published, some of it wrong: the page says which and what it found.
  dns.publish([
    'asso.test. 1 IN MX 10 mail.example.org.',
    'asso.test. 1 IN TXT "v=spf1 +all"',
    'asso.test. 1 IN TXT "site-verification=abc"',
    `${dkim.name} 1 IN TXT ${dkim.value}`,
    '_dmarc.asso.test. 1 IN TXT "v=DMARC1; p=none"',
    '_submission._tcp.asso.test. 1 IN SRV 0 1 25 mail.example.org.',
    '_imaps._tcp.asso.test. 1 IN SRV 0 1 993 mail.example.org.',
    'autoconfig.asso.test. 1 IN CNAME mail.example.org.',
    '',
  ].join('\n'));
  await page.getByRole('link', { name: 'Check again' }).click();
  await page.waitForFunction(() => document.querySelector('.dns-records td:last-child')?.innerText.trim() === 'Published');
  rows = await dnsRows(page);
  assert.equal(statusOf(rows, 'asso.test.', 'MX'), 'Published');
  assert.equal(statusOf(rows, dkim.name, 'TXT'), 'Published');
  assert.equal(statusOf(rows, '_dmarc.asso.test.', 'TXT'), 'Published');
  assert.equal(statusOf(rows, '_imaps._tcp.asso.test.', 'SRV'), 'Published');
  assert.equal(statusOf(rows, 'asso.test.', 'TXT'), 'Different; found: v=spf1 +all');
  assert.equal(statusOf(rows, '_submission._tcp.asso.test.', 'SRV'), 'Different; found: port 25, mail.example.org');
  assert.equal(statusOf(rows, '_imap._tcp.asso.test.', 'SRV'), 'Missing');
  assert.equal(statusOf(rows, 'autoconfig.asso.test.', 'CNAME'), 'Published');
  assert.equal(statusOf(rows, 'autodiscover.asso.test.', 'CNAME'), 'Missing');
  // The same records as zone-file lines, to paste.
  await page.getByText('The same records as zone-file lines').click();
  assert.match(await page.locator('.dns-zone').innerText(), /asso\.test\.\t3600\tIN\tMX\t10 mail\.example\.org\./);

  // An empty domain is removed; one with mailboxes offers no such button, and refuses.
  await page.goto(`${server.baseUrl}/admin`);
  await waitForHydration(page);
  const asso = page.getByRole('region', { name: 'Domains' }).getByRole('listitem').filter({ hasText: 'asso.test' });
  await asso.getByRole('button', { name: 'Remove the domain' }).click();
  await page.getByRole('region', { name: 'Domains' }).getByRole('link', { name: 'asso.test' }).waitFor({ state: 'detached' });
  const org = page.getByRole('region', { name: 'Domains' }).getByRole('listitem').filter({ hasText: 'example.org' });
  assert.equal(await org.getByRole('button', { name: 'Remove the domain' }).count(), 0);
  const refused = await page.request.post(`${server.baseUrl}/api/admin_remove_domain`, {
    form: { name: 'example.org' }, headers: { origin: server.baseUrl }, maxRedirects: 0,
  });
  assert.ok(refused.status() >= 400 && (await refused.text()).includes('DomainNotEmpty'), await refused.text());
});

test('a mailbox made a domain administrator, and back', async () => {
  const { page } = await signIn(server.baseUrl, ANA);
  await page.goto(`${server.baseUrl}/admin?domain=example.org&view=mailbox&mailbox=bob%40example.org`);
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Make them an administrator of the domain' }).click();
  await page.getByText('Administers the domain.').waitFor();
  const { page: bob } = await signIn(server.baseUrl, BOB);
  await waitForHydration(bob);
  await (await accountMenu(bob)).getByRole('link', { name: 'Administration' }).click();
  await bob.getByRole('region', { name: /Mailboxes · example\.org/ }).waitFor();
  assert.equal(await bob.getByLabel('Add a domain').count(), 0, 'only a server administrator adds domains');
  await page.getByRole('button', { name: 'Take the domain\'s administration from them' }).click();
  await page.getByRole('button', { name: 'Make them an administrator of the domain' }).waitFor();
  assert.equal((await bob.goto(`${server.baseUrl}/admin`)).status(), 403);
});

test('a domain administrator: their DNS page in French, 403 for domains', async () => {
  const page = await signInFrench(server.baseUrl, ZOE);
  await page.goto(`${server.baseUrl}/admin?domain=example.net`);
  await page.getByRole('link', { name: 'DNS' }).click();
  await page.getByRole('region', { name: 'DNS · example.net' }).waitFor();
  const rows = await dnsRows(page);
  assert.equal(statusOf(rows, 'example.net.', 'MX'), 'Absent');
  assert.equal(statusOf(rows, '_pop3s._tcp.example.net.', 'SRV'), 'Inutile');
  assert.match(await page.locator('.dns-records').innerText(), /Le courrier du domaine arrive sur ce serveur\./);
  assert.equal(await page.getByLabel('Ajouter un domaine').count(), 0);

  const origin = { origin: server.baseUrl };
  const calls = [
    ['admin_view', { domain: 'example.org', filter: '', page: '1', view: 'dns' }],
    ['admin_add_domain', { name: 'zoe.test' }],
    ['admin_remove_domain', { name: 'example.net' }],
    ['admin_set_domain_admin', { address: BOB.address, admin: 'true' }],
  ];
  for (const [endpoint, form] of calls) {
    const response = await page.request.post(`${server.baseUrl}/api/${endpoint}`, { form, headers: origin, maxRedirects: 0 });
    assert.equal(response.status(), 403, `${endpoint}: ${await response.text()}`);
  }
  // Nothing changed: no domain was added or removed.
  const { page: ana } = await signIn(server.baseUrl, ANA);
  await ana.goto(`${server.baseUrl}/admin`);
  assert.deepEqual(await ana.getByRole('region', { name: 'Domains' }).getByRole('link').allInnerTexts(), ['example.net', 'example.org']);
});
