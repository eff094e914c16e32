// The accessibility audit (issue 16): axe-core run in Chromium on the main screens, in English
// and French, light and dark: no serious or critical violation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AxeBuilder } from '@axe-core/playwright';
import { startServer } from '../lib/server.mjs';
import { startDnsStub } from '../lib/dns.mjs';
import { sendMail, htmlMessage } from '../lib/smtp.mjs';
import { imap } from '../lib/imap.mjs';
import { openBrowser, closeBrowsers, waitForHydration } from '../lib/browser.mjs';

const ANA = { address: 'ana@example.org', password: 'correct horse 42', quotaMb: 10 };
const CARL = { address: 'carl@example.org', password: 'mountain pass 3' };
let server;
// The DNS page looks records up: from a stub on loopback, never the internet.
let dns;

before(async () => {
  dns = await startDnsStub();
  dns.publish('example.org. 1 IN MX 10 mail.example.org.\nexample.org. 1 IN TXT "v=spf1 +all"\n');
  server = await startServer({ users: [ANA, CARL], imap: true, dnsServer: dns.server });
  await sendMail({
    port: server.smtpPort,
    from: 'bob@example.net',
    to: ANA.address,
    message: htmlMessage({
      from: 'Bob <bob@example.net>',
      to: ANA.address,
      subject: 'Agenda',
      html: '<p>Hello <b>Ana</b>, <img src="https://tracker.example/p.gif"> see you.</p>',
    }),
  });
  // Tags in most colours (Thunderbird's labels, and a keyword of its own in grey), for their
  // contrast in both schemes.
  // A list with a member and a post held for approval (A7, A8).
  server.admin(['list', 'create', 'club@example.org', '--kind', 'discussion', '--name', 'Le Club']);
  server.admin(['list', 'add', 'club@example.org', CARL.address, '--owner']);
  // A group with a member and its administrator (A11).
  server.admin(['group', 'create', 'example.org', 'Bureau', '--description', 'Le bureau']);
  server.admin(['group', 'add', 'example.org', 'Bureau', CARL.address, '--admin']);
  await sendMail({
    port: server.smtpPort,
    from: 'someone@outside.test',
    to: 'club@example.org',
    message: htmlMessage({ from: 'someone@outside.test', to: 'club@example.org', subject: 'Question', html: '<p>?</p>' }),
  });
  imap(server, ANA, 'imap.select("INBOX")\nimap.store("1", "+FLAGS", "($label1 $label2 $label3 $label4 $label5 projet)")\nprint("true")');
});

after(async () => {
  await closeBrowsers();
  await server?.stop();
  await dns?.stop();
});

/** The serious and critical violations on the page as it is, one line each. */
async function violations(page) {
  // Legacy mode runs in the page itself: the default opens a new tab, which this
  // persistent context refuses.
  const results = await new AxeBuilder({ page }).setLegacyMode(true).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
}

for (const [scheme, locale] of [['light', 'en-GB'], ['dark', 'fr-FR']]) {
  test(`main screens, ${scheme}, ${locale}`, async () => {
    const browser = await openBrowser({ colorScheme: scheme, locale });
    const page = await browser.context.newPage();
    await page.goto(`${server.baseUrl}/login`);
    await waitForHydration(page);
    const french = locale.startsWith('fr');
    await page.getByLabel(french ? 'Adresse e-mail' : 'Email address').fill(ANA.address);
    await page.getByLabel(french ? 'Mot de passe' : 'Password').fill(ANA.password);
    await page.getByRole('button', { name: french ? 'Se connecter' : 'Sign in' }).click();
    await page.waitForURL(/\/mail(\/|$)/);
    const found = {};
    const audit = async (name) => {
      await waitForHydration(page);
      const seen = await violations(page);
      if (seen.length) found[name] = seen;
    };
    await audit('mail');
    // The account menu, open; Escape closes it and gives the focus back to its button, and so
    // does a click elsewhere (the focus aside).
    const menu = page.getByRole('banner').locator('details.account-menu');
    await menu.locator('summary').click();
    await menu.getByRole('navigation').getByRole('link', { name: french ? 'Préférences' : 'Preferences' }).waitFor();
    await audit('account menu');
    await page.keyboard.press('Escape');
    await menu.getByRole('navigation').waitFor({ state: 'hidden' });
    assert.equal(await menu.locator('summary').evaluate((summary) => summary === document.activeElement), true);
    await menu.locator('summary').click();
    await menu.getByRole('navigation').waitFor();
    await page.locator('.list-pane .pane-head').click({ position: { x: 2, y: 2 } });
    await menu.getByRole('navigation').waitFor({ state: 'hidden' });
    await page.locator('.message-row').first().getByRole('link').click();
    await page.locator('.reader-pane .message-subject').waitFor();
    await audit('message');
    // Search results, with the advanced search form open (E3).
    await page.goto(`${server.baseUrl}/mail/search?q=agenda`);
    await page.locator('.advanced-search > summary').click();
    await audit('search');
    for (const path of ['/admin', '/admin?domain=example.org&view=aliases', '/admin?domain=example.org&view=dns', '/admin?domain=example.org&view=lists', '/admin/list?id=1', '/admin/list?id=1&confirm=delete', '/lists/1', '/admin?domain=example.org&view=groups', '/admin/group?id=1', '/admin?domain=example.org&view=mailbox&mailbox=carl%40example.org&confirm=delete', '/compose', '/settings/folders', '/settings/signatures', '/settings/app-passwords', '/settings/tags', '/settings/preferences', '/settings/import', '/scheduled', '/no-such-page']) {
      await page.goto(`${server.baseUrl}${path}`);
      if (path === '/no-such-page' || path === '/lists/1') {
        const seen = await violations(page);
        if (seen.length) found[path] = seen;
      } else {
        await audit(path);
      }
    }
    await browser.close();
    const signedOut = await openBrowser({ colorScheme: scheme, locale });
    const login = await signedOut.context.newPage();
    await login.goto(`${server.baseUrl}/login`);
    await waitForHydration(login);
    const seen = await violations(login);
    if (seen.length) found['/login'] = seen;
    await signedOut.close();
    assert.deepEqual(found, {});
  });
}
