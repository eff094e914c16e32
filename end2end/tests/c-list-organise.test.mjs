// The message list as a user organises mail (issue 16), and live updates: C1 sorting by each key both ways,
// remembered per folder; C2 pages of 100 and "unread only"; C6 marking read, unread and flagged;
// D4 moving to a folder; D5 deleting into Trash, for good from Trash after a confirmation, and
// emptying Trash (its folders too) after a confirmation. Mail arrives over SMTP; what the buttons did is checked over IMAP with Python's
// imaplib (the web client and IMAP share one store), and an IMAP client's `\Deleted` shows
// struck through.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { imap as imapAs } from '../lib/imap.mjs';
import { sendMail, htmlMessage } from '../lib/smtp.mjs';
import { openBrowser, signIn, closeBrowsers, waitForHydration } from '../lib/browser.mjs';

const ANA = { address: 'ana@example.org', password: 'correct horse 42' };
const BOB = { address: 'bob@example.org', password: 'battery staple 7' };
const CARL = { address: 'carl@example.org', password: 'pale blue dot 3' };
const DORA = { address: 'dora@example.org', password: 'quiet meadow 8' };
const ELSA = { address: 'elsa@example.org', password: 'north wind 5' };
const FRED = { address: 'fred@example.org', password: 'long river 6' };
let server;

before(async () => {
  server = await startServer({ users: [ANA, BOB, CARL, DORA, ELSA, FRED], imap: true });
});

after(async () => {
  await closeBrowsers();
  await server?.stop();
});

/** A plain message with its own date, sender and body. */
function message({ from, to, subject, date, text }) {
  return [
    `From: ${from}`,
    `To: ${to}`,
    `Subject: ${subject}`,
    `Date: ${date.toUTCString()}`,
    `Message-ID: <${Math.random().toString(36).slice(2)}@end2end.test>`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    text,
    '',
  ].join('\r\n');
}

/** Runs `code` in Python with imaplib logged in as `user` (see lib/imap.mjs). */
const imap = (user, code) => imapAs(server, user, code);

/** The subjects the list shows, in order, without the words only screen readers hear. */
const rowSubjects = (page) => page.locator('.message-row .subject').evaluateAll((spans) => spans.map((span) => {
  const copy = span.cloneNode(true);
  copy.querySelectorAll('.visually-hidden, .priority').forEach((hidden) => hidden.remove());
  return copy.textContent.trim();
}));

/** Waits until the list's first row is the message `subject` (robust across page loads). */
const firstRowIs = (page, subject) => page.locator('.message-row').first().filter({ hasText: subject }).waitFor();

test('C1 and C2: sort by each key both ways, remembered per folder; pages of 100; unread only', async () => {
  const start = Date.UTC(2026, 0, 1, 9, 0, 0);
  // The oldest message is the biggest, and its subject comes first from A to Z.
  await sendMail({
    port: server.smtpPort,
    from: 'zed@example.net',
    to: ANA.address,
    message: message({
      from: 'Zed <zed@example.net>',
      to: ANA.address,
      subject: 'Big report',
      date: new Date(start),
      text: 'x'.repeat(20_000),
    }),
  });
  for (let i = 1; i <= 104; i++) {
    const number = String(i).padStart(3, '0');
    await sendMail({
      port: server.smtpPort,
      from: 'amy@example.net',
      to: ANA.address,
      message: message({
        from: `Amy ${number} <amy@example.net>`,
        to: ANA.address,
        subject: `Message ${number}`,
        date: new Date(start + i * 60_000),
        text: `Body ${number}`,
      }),
    });
  }

  const { page } = await signIn(server.baseUrl, ANA);
  await waitForHydration(page);
  const list = page.locator('.list-pane');
  await list.getByText('1–100 of 105').waitFor();
  assert.equal(await page.locator('.message-row').count(), 100);
  let subjects = await rowSubjects(page);
  assert.equal(subjects[0], 'Message 104', 'newest first by default');
  assert.equal(subjects[99], 'Message 005');

  await list.getByRole('link', { name: /Next page/ }).click();
  await list.getByText('101–105 of 105').waitFor();
  assert.deepEqual(await rowSubjects(page), ['Message 004', 'Message 003', 'Message 002', 'Message 001', 'Big report']);
  assert.equal(await list.getByRole('link', { name: /Next page/ }).count(), 0);
  await list.getByRole('link', { name: /Previous page/ }).click();
  await list.getByText('1–100 of 105').waitFor();

  // Oldest first, then by subject both ways, then by size (biggest first on the first click).
  const sorts = page.getByRole('navigation', { name: 'Sort by' });
  await sorts.getByRole('link', { name: /^Date/ }).click();
  await page.waitForURL(/sort=date-asc/);
  await firstRowIs(page, 'Big report');
  assert.match(await sorts.getByRole('link', { name: /^Date/ }).innerText(), /↑/);
  await sorts.getByRole('link', { name: /^Subject/ }).click();
  await page.waitForURL(/sort=subject-asc/);
  subjects = await rowSubjects(page);
  assert.deepEqual(subjects.slice(0, 3), ['Big report', 'Message 001', 'Message 002']);
  await sorts.getByRole('link', { name: /^Subject/ }).click();
  await page.waitForURL(/sort=subject-desc/);
  await firstRowIs(page, 'Message 104');
  await sorts.getByRole('link', { name: /^Sender/ }).click();
  await page.waitForURL(/sort=sender-asc/);
  await page.locator('.message-row').first().locator('.sender', { hasText: /^Amy 001$/ }).waitFor();
  await sorts.getByRole('link', { name: /^Size/ }).click();
  await page.waitForURL(/sort=size-desc/);
  await firstRowIs(page, 'Big report');

  // The order is kept for the folder: another folder, then back to the Inbox by its plain link.
  await page.getByRole('navigation', { name: 'Mail folders' }).getByRole('link', { name: /Sent/ }).click();
  await page.waitForURL(/\/mail\/\d+$/);
  await page.getByRole('navigation', { name: 'Mail folders' }).getByRole('link', { name: /Inbox/ }).click();
  await page.locator('.sort-link.current', { hasText: /^Size/ }).waitFor();
  assert.equal((await rowSubjects(page))[0], 'Big report');
  // ...and by a fresh load of the folder's address without an order.
  await page.goto(`${server.baseUrl}${new URL(page.url()).pathname}`);
  assert.equal((await rowSubjects(page))[0], 'Big report');

  // Opening a message keeps the list as it was; "unread only" leaves out the one read.
  await page.locator('.message-row', { hasText: 'Message 050' }).getByRole('link').click();
  await page.waitForURL(/\/mail\/\d+\/\d+$/);
  await page.locator('.reader-pane').getByRole('heading', { name: 'Message 050' }).waitFor();
  await page.getByRole('link', { name: 'Unread only' }).click();
  await page.waitForURL(/unread=1/);
  await list.getByText('1–100 of 104').waitFor();
  assert.equal(await page.locator('.message-row.unread').count(), 100);
  assert.ok(!(await rowSubjects(page)).includes('Message 050'));
  await page.close();
});

test('C6, D4, D5: mark read and unread, flag, move, delete, empty Trash; IMAP sees each', async () => {
  const when = Date.UTC(2026, 5, 1, 9, 0, 0);
  for (const [i, subject] of ['Invoice', 'Minutes', 'Newsletter', 'Party'].entries()) {
    await sendMail({
      port: server.smtpPort,
      from: 'carl@example.net',
      to: BOB.address,
      message: message({ from: 'Carl <carl@example.net>', to: BOB.address, subject, date: new Date(when + i * 60_000), text: subject }),
    });
  }
  imap(BOB, 'imap.create("Projects")\nprint("null")');

  const { page } = await signIn(server.baseUrl, BOB);
  await waitForHydration(page);
  const row = (subject) => page.locator('.message-row', { hasText: subject });
  const tick = (subject) => row(subject).getByRole('checkbox').check();
  const toolbar = page.getByRole('toolbar', { name: 'Chosen messages' });

  // C6: two messages marked read, one flagged.
  await tick('Invoice');
  await tick('Minutes');
  await toolbar.getByRole('button', { name: 'Mark read' }).click();
  // The page comes back from the form's post: no third unread row any more.
  await page.locator('.message-row.unread').nth(2).waitFor({ state: 'detached' });
  await tick('Party');
  await toolbar.getByRole('button', { name: 'Flag', exact: true }).click();
  await row('Party').locator('.mark.flag').waitFor();
  let flags = imap(BOB, 'print(json.dumps(flags_by_subject("INBOX")))');
  assert.match(flags.Invoice, /\\Seen/);
  assert.match(flags.Minutes, /\\Seen/);
  assert.doesNotMatch(flags.Newsletter, /\\Seen/);
  assert.match(flags.Party, /\\Flagged/);
  assert.doesNotMatch(flags.Party, /\\Seen/);

  // An IMAP client's \Deleted is shown struck through.
  imap(BOB, `
imap.select("INBOX")
typ, data = imap.search(None, 'SUBJECT "Newsletter"')
imap.store(data[0].decode(), "+FLAGS", "\\\\Deleted")
print("null")`);
  await page.reload();
  await row('Newsletter').and(page.locator('.deleted')).waitFor();
  assert.equal(
    await row('Newsletter').locator('.subject').evaluate((el) => getComputedStyle(el).textDecorationLine),
    'line-through',
  );

  // The reading pane: mark unread goes back to the list with the message bold again.
  await row('Invoice').getByRole('link').click();
  await page.locator('.reader-pane').getByRole('heading', { name: 'Invoice' }).waitFor();
  await page.locator('.reader-pane').getByRole('button', { name: 'Mark unread' }).click();
  await page.waitForURL(/\/mail\/\d+$/);
  await row('Invoice').and(page.locator('.unread')).waitFor();

  // D4: moved to a folder by the menu.
  await tick('Minutes');
  await toolbar.getByRole('combobox', { name: 'Move to' }).selectOption({ label: 'Projects' });
  await toolbar.getByRole('button', { name: 'Move', exact: true }).click();
  await row('Minutes').waitFor({ state: 'detached' });
  assert.deepEqual(Object.keys(imap(BOB, 'print(json.dumps(flags_by_subject("Projects")))')), ['Minutes']);

  // D5: deleted into Trash, then for good from there, then Trash emptied after a confirmation.
  await tick('Party');
  await tick('Invoice');
  await toolbar.getByRole('button', { name: 'Delete' }).click();
  await row('Party').waitFor({ state: 'detached' });
  await page.getByRole('navigation', { name: 'Mail folders' }).getByRole('link', { name: /Trash/ }).click();
  await row('Party').waitFor();
  await tick('Invoice');
  await toolbar.getByRole('button', { name: 'Delete for good' }).click();
  // Asked first; cancelled, nothing goes.
  const askDelete = page.getByRole('alertdialog');
  await askDelete.getByText('Delete the chosen messages for good?').waitFor();
  await askDelete.getByRole('link', { name: 'Cancel' }).click();
  await askDelete.waitFor({ state: 'detached' });
  assert.deepEqual(Object.keys(imap(BOB, 'print(json.dumps(flags_by_subject("Trash")))')).sort(), ['Invoice', 'Party']);
  await tick('Invoice');
  await toolbar.getByRole('button', { name: 'Delete for good' }).click();
  await askDelete.getByRole('button', { name: 'Delete for good' }).click();
  await row('Invoice').waitFor({ state: 'detached' });
  assert.deepEqual(Object.keys(imap(BOB, 'print(json.dumps(flags_by_subject("Trash")))')), ['Party']);

  // A folder in Trash (as a deleted folder is) goes with it when Trash is emptied.
  imap(BOB, 'imap.create("Trash/Old")\nimap.append("Trash/Old", None, None, b"Subject: Kept\\r\\n\\r\\nold\\r\\n")\nprint("true")');
  const trashFolders = () => imap(BOB, 'typ, data = imap.list(\'""\', "Trash/*")\nprint(json.dumps([d.decode() for d in data if d]))');
  assert.equal(trashFolders().length, 1);
  await toolbar.getByRole('button', { name: 'Empty Trash' }).click();
  const ask = page.getByRole('alertdialog');
  await ask.getByText('Delete every message and folder in Trash for good?').waitFor();
  await ask.getByRole('link', { name: 'Cancel' }).click();
  await ask.waitFor({ state: 'detached' });
  await row('Party').waitFor();
  await toolbar.getByRole('button', { name: 'Empty Trash' }).click();
  await ask.getByRole('button', { name: 'Empty Trash' }).click();
  await row('Party').waitFor({ state: 'detached' });
  await page.getByText('No messages in this folder.').waitFor();
  assert.deepEqual(imap(BOB, 'print(json.dumps(flags_by_subject("Trash")))'), {});
  assert.deepEqual(trashFolders(), []);
  // What reached Trash after the page asked is not emptied with it: the confirmation names the
  // messages shown (UIDs below the one the page saw next).
  const trash = await page.locator('input[name="folder"]').first().inputValue();
  imap(BOB, 'imap.select("Projects")\nimap.uid("MOVE", "1:*", "Trash")\nprint("true")');
  const late = await page.request.post(`${server.baseUrl}/actions`, {
    form: { folder: trash, action: 'empty', confirm: 'yes', below: '1' },
    headers: { origin: server.baseUrl },
    maxRedirects: 0,
  });
  assert.equal(late.status(), 303);
  assert.deepEqual(Object.keys(imap(BOB, 'print(json.dumps(flags_by_subject("Trash")))')), ['Minutes']);
  await page.close();
});

test('the buttons work without JavaScript, and a stranger cannot use them', async () => {
  await sendMail({
    port: server.smtpPort,
    from: 'dora@example.net',
    to: BOB.address,
    message: message({ from: 'dora@example.net', to: BOB.address, subject: 'No script', date: new Date(), text: 'hello' }),
  });
  const noScript = await openBrowser({ javaScriptEnabled: false });
  const page = await noScript.context.newPage();
  await page.goto(`${server.baseUrl}/login`);
  await page.getByLabel('Email address').fill(BOB.address);
  await page.getByLabel('Password').fill(BOB.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const row = page.locator('.message-row', { hasText: 'No script' });
  await row.getByRole('checkbox').check();
  await page.getByRole('toolbar', { name: 'Chosen messages' }).getByRole('button', { name: 'Mark read' }).click();
  await row.and(page.locator('.message-row:not(.unread)')).waitFor();
  assert.match(imap(BOB, 'print(json.dumps(flags_by_subject("INBOX")))')['No script'], /\\Seen/);

  // Ana, with Bob's folder and message ids, changes nothing.
  const folder = await page.locator('input[name="folder"]').first().inputValue();
  const id = await row.getByRole('checkbox').inputValue();
  const { page: anaPage } = await signIn(server.baseUrl, ANA);
  const answer = await anaPage.request.post(`${server.baseUrl}/actions`, {
    form: { folder, id, action: 'unread', back: '/mail' },
    headers: { origin: server.baseUrl },
  });
  assert.equal(answer.status(), 404);
  assert.match(imap(BOB, 'print(json.dumps(flags_by_subject("INBOX")))')['No script'], /\\Seen/);
  await anaPage.close();
  await page.close();
});

test("dates are shown in the reader's time zone, as their browser names it", async () => {
  await sendMail({
    port: server.smtpPort,
    from: 'erin@example.net',
    to: ANA.address,
    message: message({
      from: 'erin@example.net',
      to: ANA.address,
      subject: 'Time zones',
      date: new Date(Date.UTC(2026, 2, 10, 9, 5, 0)),
      text: 'What time is it?',
    }),
  });
  // 10 March 2026, 09:05 UTC: 22:05 in Auckland (summer time), 05:05 in New York (summer time
  // began two days before), whatever the server's own zone.
  for (const [zone, want] of [['Pacific/Auckland', 'Tue 10 Mar 2026 22:05'], ['America/New_York', 'Tue 10 Mar 2026 05:05']]) {
    const { browser, page } = await signIn(server.baseUrl, ANA, { timezoneId: zone });
    // Newest first (the first test left the Inbox sorted by size).
    const inbox = await page.getByRole('navigation', { name: 'Mail folders' }).getByRole('link', { name: /Inbox/ }).getAttribute('href');
    await page.goto(`${server.baseUrl}${inbox}?sort=date-desc`);
    const row = page.locator('.message-row', { hasText: 'Time zones' });
    assert.equal(await row.locator('time').getAttribute('title'), want);
    await row.getByRole('link').click();
    await page.locator('.reader-pane').getByRole('heading', { name: 'Time zones' }).waitFor();
    assert.match(await page.locator('.message-headers').innerText(), new RegExp(want));
    const cookies = await browser.context.cookies();
    assert.equal(cookies.find((c) => c.name === 'facteur_tz')?.value, zone);
    await browser.close();
  }
});

test('live: a message delivered by SMTP and a flag set over IMAP show without a reload', async () => {
  const { page } = await signIn(server.baseUrl, CARL);
  await waitForHydration(page);
  await page.getByText('No messages in this folder.').waitFor();
  await page.evaluate(() => { window.sameDocument = true; });

  await sendMail({
    port: server.smtpPort,
    from: 'dan@example.net',
    to: CARL.address,
    message: message({ from: 'Dan <dan@example.net>', to: CARL.address, subject: 'Live one', date: new Date(), text: 'hi' }),
  });
  const row = page.locator('.message-row', { hasText: 'Live one' });
  await row.waitFor({ timeout: 5000 });
  assert.match(await row.getAttribute('class'), /\bunread\b/);
  await page.locator('.folder.current .count', { hasText: '1' }).waitFor({ timeout: 5000 });

  imap(CARL, `
imap.select("INBOX")
imap.store("1", "+FLAGS", "\\\\Flagged")
print("null")`);
  await row.locator('.mark.flag').waitFor({ timeout: 5000 });

  // Open, it is read; marked unread over IMAP, it shows unread, and the live update that says
  // so (or a later one) does not mark it read again as opening it did.
  await row.getByRole('link').click();
  await page.locator('.reader-pane').getByRole('heading', { name: 'Live one' }).waitFor();
  await page.locator('.message-row.unread').waitFor({ state: 'detached' });
  imap(CARL, `
imap.select("INBOX")
imap.store("1", "-FLAGS", "\\\\Seen")
print("null")`);
  await row.and(page.locator('.unread')).waitFor({ timeout: 5000 });
  await sendMail({
    port: server.smtpPort,
    from: 'dan@example.net',
    to: CARL.address,
    message: message({ from: 'Dan <dan@example.net>', to: CARL.address, subject: 'Live two', date: new Date(), text: 'hi' }),
  });
  await page.locator('.message-row', { hasText: 'Live two' }).waitFor({ timeout: 5000 });
  assert.match(await row.getAttribute('class'), /\bunread\b/);
  assert.doesNotMatch(imap(CARL, 'print(json.dumps(flags_by_subject("INBOX")))')['Live one'], /\\Seen/);
  assert.equal(await page.evaluate(() => window.sameDocument), true, 'the page was not reloaded');
  await page.close();
});

test('live: a message delivered after the page was written but before it runs shows once it runs', async () => {
  const { page } = await signIn(server.baseUrl, ELSA);
  await waitForHydration(page);
  // The page's WASM is held back (routing also turns the cache off), so the page is written
  // and shown, then a message arrives, and only then does the page run and subscribe.
  let release;
  const released = new Promise((resolve) => { release = resolve; });
  await page.route('**/pkg/facteur_bg.wasm', async (route) => {
    await released;
    await route.continue();
  });
  await page.goto(`${server.baseUrl}/mail`, { waitUntil: 'domcontentloaded' });
  await page.getByText('No messages in this folder.').waitFor();
  await sendMail({
    port: server.smtpPort,
    from: 'dan@example.net',
    to: ELSA.address,
    message: message({ from: 'Dan <dan@example.net>', to: ELSA.address, subject: 'Early one', date: new Date(), text: 'hi' }),
  });
  release();
  await waitForHydration(page);
  await page.locator('.message-row', { hasText: 'Early one' }).waitFor({ timeout: 5000 });
  await page.close();
});

test('C5, C4: the rows and the open message are in the page once, not again in its hydration data; a live update keeps the focus; an empty list shows none', async () => {
  const start = Date.UTC(2026, 2, 1, 9, 0, 0);
  for (const [i, subject] of ['Kept tick', 'Other row', 'Third row'].entries()) {
    await sendMail({
      port: server.smtpPort,
      from: 'eve@example.net',
      to: DORA.address,
      message: message({ from: 'eve@example.net', to: DORA.address, subject, date: new Date(start + i * 60_000), text: subject }),
    });
  }
  const { page } = await signIn(server.baseUrl, DORA);
  await waitForHydration(page);
  const row = (subject) => page.locator('.message-row', { hasText: subject });

  // The page as the server sends it: three rows, and the data Leptos hydrates from (the
  // scripts) holds the list's count but none of its rows.
  const html = await (await page.request.get(page.url())).text();
  assert.equal(html.split('class="message-row').length - 1, 3);
  const scripts = [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n');
  assert.match(scripts, /row_count\W+3\b/, 'the hydration data is in the page');
  assert.doesNotMatch(scripts, /Kept tick|Other row|Third row/);

  // A message delivered while a row's link has the focus: the live update brings the rows anew
  // from the server, and the focus stays on that message's link.
  const other = await row('Other row').getAttribute('data-id');
  await row('Other row').getByRole('link').focus();
  await sendMail({
    port: server.smtpPort,
    from: 'eve@example.net',
    to: DORA.address,
    message: message({ from: 'eve@example.net', to: DORA.address, subject: 'Fourth row', date: new Date(), text: 'later' }),
  });
  await row('Fourth row').waitFor({ timeout: 5000 });
  const focused = await page.evaluate(() => {
    const element = document.activeElement;
    return `${element?.tagName} ${element?.closest('.message-row')?.dataset.id}`;
  });
  assert.equal(focused, `A ${other}`);

  // The open message's body is in the page once too, an HTML one in its frame's srcdoc, a
  // text one as text; and each still shows after the page runs and as the reader moves on.
  await sendMail({
    port: server.smtpPort,
    from: 'eve@example.net',
    to: DORA.address,
    message: htmlMessage({ from: 'eve@example.net', to: DORA.address, subject: 'Html body', html: '<p>Quarterly figures attached</p>' }),
  });
  await sendMail({
    port: server.smtpPort,
    from: 'eve@example.net',
    to: DORA.address,
    message: message({ from: 'eve@example.net', to: DORA.address, subject: 'Plain body', date: new Date(), text: 'Plain words <here>' }),
  });
  await row('Plain body').waitFor({ timeout: 5000 });
  await page.goto(new URL(await row('Html body').getByRole('link').getAttribute('href'), server.baseUrl).href);
  await waitForHydration(page);
  const frameText = page.frameLocator('iframe.html-body').getByText('Quarterly figures attached');
  await frameText.waitFor();
  const opened = await (await page.request.get(page.url())).text();
  assert.match(opened, /srcdoc="[^"]*Quarterly figures attached/);
  const openedScripts = [...opened.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n');
  assert.match(openedScripts, /Html body/, 'the hydration data names the message');
  assert.doesNotMatch(openedScripts, /Quarterly figures/);
  await row('Plain body').getByRole('link').click();
  await page.locator('.reader-pane .text-body', { hasText: 'Plain words <here>' }).waitFor();
  await row('Html body').getByRole('link').click();
  await frameText.waitFor();

  // An empty list reached within the page (Drafts): the rows shown before go with it.
  await page.evaluate(() => { window.sameDocument = true; });
  await page.getByRole('navigation', { name: 'Folders' }).getByRole('link', { name: /^Drafts/ }).click();
  await page.getByText('No messages in this folder.').waitFor();
  assert.equal(await page.locator('.message-row').count(), 0);
  assert.equal(await page.evaluate(() => window.sameDocument), true, 'the page was not reloaded');
  await page.close();
});

test('C5: ticks stay while a message is opened, from /mail as from a folder', async () => {
  for (const subject of ['Tick one', 'Tick two', 'Tick three']) {
    await sendMail({
      port: server.smtpPort,
      from: 'eve@example.net',
      to: FRED.address,
      message: message({ from: 'eve@example.net', to: FRED.address, subject, date: new Date(), text: subject }),
    });
  }
  const { page } = await signIn(server.baseUrl, FRED);
  await waitForHydration(page);
  assert.match(page.url(), /\/mail$/);
  const checks = page.locator('.message-row .row-check');
  await checks.nth(2).waitFor();
  await checks.nth(0).check();
  await checks.nth(1).check();
  const subject = (await rowSubjects(page))[2];
  await page.locator('.message-row').nth(2).getByRole('link').click();
  await page.locator('.reader-pane .message-subject').filter({ hasText: subject }).waitFor();
  assert.doesNotMatch(page.url(), /\/mail$/);
  assert.deepEqual(await checks.evaluateAll((all) => all.map((c) => c.checked)), [true, true, false]);
  await page.close();
});

test('keyboard and mouse shortcuts: j/k, x, #, ?, shift-click, ctrl-click, select all', async () => {
  const start = Date.UTC(2026, 6, 1, 9, 0, 0);
  for (const [i, subject] of ['Short one', 'Short two', 'Short three', 'Short four'].entries()) {
    await sendMail({
      port: server.smtpPort,
      from: 'eve@example.net',
      to: CARL.address,
      message: message({ from: 'eve@example.net', to: CARL.address, subject, date: new Date(start + i * 60_000), text: subject }),
    });
  }
  const { page } = await signIn(server.baseUrl, CARL);
  await waitForHydration(page);
  const heading = page.locator('.reader-pane .message-subject');
  const checks = page.locator('.message-row .row-check');
  await page.locator('.message-row', { hasText: 'Short four' }).waitFor();
  const subjects = await rowSubjects(page);

  // j opens the first message, then the next; k goes back.
  await page.keyboard.press('j');
  await heading.filter({ hasText: subjects[0] }).waitFor();
  await page.keyboard.press('j');
  await heading.filter({ hasText: subjects[1] }).waitFor();
  await page.keyboard.press('k');
  await heading.filter({ hasText: subjects[0] }).waitFor();
  // x ticks the message in hand.
  await page.keyboard.press('x');
  assert.equal(await checks.nth(0).isChecked(), true);
  await page.keyboard.press('x');
  assert.equal(await checks.nth(0).isChecked(), false);

  // Shift-click ticks a range; "All" ticks and unticks the page.
  await checks.nth(0).click();
  await checks.nth(3).click({ modifiers: ['Shift'] });
  assert.deepEqual(await checks.evaluateAll((all) => all.map((c) => c.checked)), [true, true, true, true, false, false]);
  await page.getByLabel('All', { exact: true }).check();
  assert.deepEqual(await checks.evaluateAll((all) => all.map((c) => c.checked)), [true, true, true, true, true, true]);
  await page.getByLabel('All', { exact: true }).uncheck();
  assert.deepEqual(await checks.evaluateAll((all) => all.map((c) => c.checked)), [false, false, false, false, false, false]);

  // Ctrl-click ticks a row instead of opening it.
  const url = page.url();
  await page.locator('.message-row').nth(2).getByRole('link').click({ modifiers: ['Control'] });
  assert.equal(await checks.nth(2).isChecked(), true);
  assert.equal(page.url(), url);
  await checks.nth(2).uncheck();

  // ? lists the shortcuts; Escape closes the list.
  await page.keyboard.press('?');
  const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await help.waitFor();
  await page.keyboard.press('Escape');
  await help.waitFor({ state: 'detached' });

  // # deletes the message open (nothing ticked): into Trash.
  await page.locator('.message-row', { hasText: subjects[0] }).getByRole('link').focus();
  await page.keyboard.press('#');
  await page.locator('.message-row', { hasText: subjects[0] }).waitFor({ state: 'detached' });
  assert.deepEqual(Object.keys(imap(CARL, 'print(json.dumps(flags_by_subject("Trash")))')), [subjects[0]]);
  await page.close();
});
