// F8 / issue 12: app passwords from the browser. Create one in the settings page, log in with
// it over IMAPS with Python's imaplib, see "last used" filled in, remove it, and see the same
// login refused. A second page in French checks the page's words follow Accept-Language.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startServer, facteurBinary } from '../lib/server.mjs';
import { accountMenu, openBrowser, waitForHydration, login } from '../lib/browser.mjs';

const ANA = { address: 'ana@example.org', password: 'correct horse 42' };
let server;
let browser;

before(async () => {
  server = await startServer({ users: [ANA], imap: true });
  browser = await openBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Logs in over IMAPS with imaplib; returns "OK" or the server's refusal. */
function imapLogin(password) {
  const script = `
import imaplib, ssl, sys
context = ssl.create_default_context(cafile=sys.argv[2])
imap = imaplib.IMAP4_SSL("localhost", int(sys.argv[1]), ssl_context=context)
try:
    imap.login(sys.argv[3], sys.argv[4])
    print("OK")
    imap.logout()
except imaplib.IMAP4.error as e:
    print("NO", e)
`;
  const result = spawnSync('python3', ['-c', script, String(server.imapsPort), server.certPath, ANA.address, password], {
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, `imaplib failed:\n${result.stderr}`);
  return result.stdout.trim();
}

test('create an app password, log in with it over IMAP, remove it', async () => {
  const page = await browser.context.newPage();
  await login(page, server.baseUrl, ANA.address, ANA.password);
  await waitForHydration(page);
  await (await accountMenu(page)).getByRole('link', { name: 'App passwords' }).click();
  await page.waitForURL(/\/settings\/app-passwords$/);
  await page.getByRole('heading', { name: 'App passwords', level: 1 }).waitFor();
  await waitForHydration(page);
  assert.match(await page.locator('main').innerText(), /No app password yet\./);

  await page.getByLabel('Program').fill('Thunderbird at home');
  await page.locator('form').filter({ has: page.getByLabel('Program') }).getByRole('button').click();
  const shown = page.locator('.new-token code');
  await shown.waitFor();
  const token = (await shown.innerText()).trim();
  assert.match(token, /^[A-Za-z0-9]{4}(-[A-Za-z0-9]{4}){4}$/, `an app password is five groups of four: ${token}`);
  const row = page.getByRole('row', { name: /Thunderbird at home/ });
  await row.waitFor();
  assert.match(await row.innerText(), /never/);

  // The same name twice is refused with a clear message.
  await page.getByLabel('Program').fill('Thunderbird at home');
  await page.locator('form').filter({ has: page.getByLabel('Program') }).getByRole('button').click();
  await page.getByRole('alert').filter({ hasText: 'This name is already used.' }).waitFor();

  assert.equal(imapLogin(token), 'OK');
  await page.reload();
  await waitForHydration(page);
  assert.doesNotMatch(await page.getByRole('row', { name: /Thunderbird at home/ }).innerText(), /never/);
  assert.equal(await page.locator('.new-token').count(), 0, 'the password is shown once, not after a reload');

  await page.getByRole('button', { name: 'Remove Thunderbird at home' }).click();
  await page.getByText('No app password yet.').waitFor();
  assert.match(imapLogin(token), /^NO/);
  // The account's own password still works.
  assert.equal(imapLogin(ANA.password), 'OK');
  await page.close();
});

test('without JavaScript, in French: the list is rendered on the server and removing works', async () => {
  const made = spawnSync(facteurBinary(), ['admin', '--data', server.dataDir, 'app-password', 'add', ANA.address, 'Téléphone'], {
    encoding: 'utf8',
  });
  assert.equal(made.status, 0, made.stderr);
  const token = made.stdout.match(/app password: (.+)/)[1].trim();
  const plain = await openBrowser({ javaScriptEnabled: false, extraHTTPHeaders: { 'Accept-Language': 'fr-FR,fr;q=0.9' } });
  try {
    const page = await plain.context.newPage();
    await page.goto(`${server.baseUrl}/login`);
    await page.getByLabel('Adresse e-mail').fill(ANA.address);
    await page.getByLabel('Mot de passe').fill(ANA.password);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.waitForURL(/\/mail$/);
    await (await accountMenu(page)).getByRole('link', { name: "Mots de passe d'application" }).click();
    await page.getByRole('heading', { name: "Mots de passe d'application", level: 1 }).waitFor();
    const row = page.getByRole('row', { name: /Téléphone/ });
    assert.match(await row.innerText(), /jamais/);
    await page.getByRole('button', { name: 'Supprimer Téléphone' }).click();
    await page.waitForURL(/\/settings\/app-passwords$/);
    await page.getByRole('heading', { name: "Mots de passe d'application", level: 1 }).waitFor();
    assert.equal(await page.getByRole('row', { name: /Téléphone/ }).count(), 0, 'removed');
    assert.match(imapLogin(token), /^NO/);
  } finally {
    await plain.close();
  }
});
