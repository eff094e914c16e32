// The web client end to end: login (wrong then right password), a message delivered over SMTP
// shows unread, opening it shows the body and marks it read, attachments download, logout.
// Also: the page hydrates, forms work without JavaScript, French follows Accept-Language.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { sendMail, textMessage } from '../lib/smtp.mjs';
import { accountMenu, openBrowser, waitForHydration, login } from '../lib/browser.mjs';

const ANA = { address: 'ana@example.org', password: 'correct horse 42' };
let server;
let browser;

before(async () => {
  server = await startServer({ users: [ANA] });
  browser = await openBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function fontWeight(locator) {
  return Number(await locator.evaluate((el) => getComputedStyle(el).fontWeight));
}

test('wrong password, login, read a message, logout', async () => {
  await sendMail({
    port: server.smtpPort,
    from: 'bob@example.net',
    to: ANA.address,
    message: textMessage({
      from: 'Bob Martin <bob@example.net>',
      to: ANA.address,
      subject: 'Lunch on Friday',
      text: 'Hi Ana,\r\nSee you at noon <b>sharp</b>.\r\nBob',
    }),
  });

  const page = await browser.context.newPage();
  await page.goto(`${server.baseUrl}/mail`);
  await page.waitForURL(/\/login$/);
  await waitForHydration(page);

  await page.getByLabel('Email address').fill(ANA.address);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await assert.doesNotReject(
    page.getByRole('alert').filter({ hasText: 'Wrong email address or password.' }).waitFor(),
  );
  assert.match(page.url(), /\/login/);

  await login(page, server.baseUrl, ANA.address, ANA.password);
  await waitForHydration(page);
  const header = page.getByRole('banner');
  assert.match(await header.innerText(), /ana@example\.org/);
  assert.equal(await page.locator('.folder.current').innerText().then((t) => t.split('\n')[0]), 'Inbox');

  const row = page.locator('.message-row', { hasText: 'Lunch on Friday' });
  await row.waitFor();
  assert.match(await row.getAttribute('class'), /\bunread\b/);
  assert.ok((await fontWeight(row.locator('.subject'))) >= 700, 'an unread row is bold');
  assert.match(await row.innerText(), /Bob Martin/);
  const title = await row.locator('time').getAttribute('title');
  assert.match(title, /\d{4} \d{2}:\d{2}$/, 'the full date is in the title');

  await row.getByRole('link').click();
  await page.waitForURL(/\/mail\/\d+\/\d+$/);
  const [, inboxId] = page.url().match(/\/mail\/(\d+)\/\d+$/);
  const reader = page.locator('.reader-pane');
  await reader.getByRole('heading', { name: 'Lunch on Friday' }).waitFor();
  const body = reader.locator('.text-body');
  assert.equal(await body.innerText(), 'Hi Ana,\nSee you at noon <b>sharp</b>.\nBob');
  assert.equal(await body.locator('b').count(), 0, 'plain text is escaped');
  assert.match(await reader.locator('.message-headers').innerText(), /From\s+Bob Martin <bob@example\.net>/);

  // The list beside the reader no longer shows it bold, and neither does a fresh load.
  await page.waitForFunction(() => !document.querySelector('.message-row.selected.unread'));
  assert.ok((await fontWeight(row.locator('.subject'))) < 700);
  await page.goto(`${server.baseUrl}/mail`);
  await waitForHydration(page);
  const reloadedRow = page.locator('.message-row', { hasText: 'Lunch on Friday' });
  assert.doesNotMatch(await reloadedRow.getAttribute('class'), /\bunread\b/);
  assert.ok((await fontWeight(reloadedRow.locator('.subject'))) < 700);

  // Signed in, /login leads back to the mail; a message that does not exist is a 404 page.
  await page.goto(`${server.baseUrl}/login`);
  await page.waitForURL(/\/mail$/);
  for (const path of [`/mail/${inboxId}/999999`, '/mail/999999']) {
    const missing = await page.goto(`${server.baseUrl}${path}`);
    assert.equal(missing.status(), 404, path);
    await page.getByRole('alert').filter({ hasText: 'This folder or message does not exist (any more).' }).waitFor();
  }
  await page.goto(`${server.baseUrl}/mail`);

  await (await accountMenu(page)).getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL(/\/login$/);
  await page.goto(`${server.baseUrl}/mail`);
  await page.waitForURL(/\/login$/);
  await page.close();
});

test('attachments are listed and download with safe headers', async () => {
  const boundary = 'b-end2end';
  await sendMail({
    port: server.smtpPort,
    from: 'carl@example.net',
    to: ANA.address,
    message: [
      'From: Carl <carl@example.net>',
      `To: ${ANA.address}`,
      'Subject: The report',
      'MIME-Version: 1.0',
      `Content-Type: multipart/mixed; boundary="${boundary}"`,
      '',
      `--${boundary}`,
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Attached.',
      `--${boundary}`,
      'Content-Type: text/html; name="report.html"',
      'Content-Disposition: attachment; filename="../report.html"',
      '',
      '<script>window.top.__pwned=1</script>',
      `--${boundary}--`,
      '',
    ].join('\r\n'),
  });
  const page = await browser.context.newPage();
  await login(page, server.baseUrl, ANA.address, ANA.password);
  const row = page.locator('.message-row', { hasText: 'The report' });
  assert.equal(await row.locator('.clip').count(), 1, 'a paperclip marks the row');
  await row.getByRole('link').click();
  const link = page.locator('.attachments a');
  await link.waitFor();
  assert.match(await link.innerText(), /report\.html/);
  const response = await page.request.get(new URL(await link.getAttribute('href'), server.baseUrl).href);
  assert.equal(response.status(), 200);
  const headers = response.headers();
  assert.match(headers['content-disposition'], /^attachment; filename="_report\.html"/);
  assert.equal(headers['x-content-type-options'], 'nosniff');
  assert.equal(await response.text(), '<script>window.top.__pwned=1</script>');

  // Another browser (no session) gets nothing.
  const anonymous = await fetch(new URL(await link.getAttribute('href'), server.baseUrl));
  assert.equal(anonymous.status, 401);
  await page.close();
});

test('forms work without JavaScript, and French follows Accept-Language', async () => {
  const plain = await openBrowser({ javaScriptEnabled: false, extraHTTPHeaders: { 'Accept-Language': 'fr-FR,fr;q=0.9' } });
  try {
    const page = await plain.context.newPage();
    await page.goto(`${server.baseUrl}/login`);
    assert.equal(await page.locator('html').getAttribute('lang'), 'fr');
    await page.getByLabel('Adresse e-mail').fill(ANA.address);
    await page.getByLabel('Mot de passe').fill('wrong password');
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.getByRole('alert').filter({ hasText: 'Adresse e-mail ou mot de passe incorrect.' }).waitFor();
    await page.getByLabel('Adresse e-mail').fill(ANA.address);
    await page.getByLabel('Mot de passe').fill(ANA.password);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.waitForURL(/\/mail$/);
    const folders = page.getByRole('navigation', { name: 'Dossiers de messagerie' });
    for (const name of ['Boîte de réception', 'Brouillons', 'Envoyés', 'Modèles', 'Indésirables', 'Corbeille']) {
      await folders.getByRole('link', { name: new RegExp(`^${name}`) }).waitFor();
    }
    await (await accountMenu(page)).getByRole('button', { name: 'Se déconnecter' }).click();
    await page.waitForURL(/\/login$/);
  } finally {
    await plain.close();
  }
});

test('a state-changing request from another site is refused', async () => {
  const response = await fetch(`${server.baseUrl}/api/logout`, {
    method: 'POST',
    headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(response.status, 403);
});
