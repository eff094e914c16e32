// Headless Chromium for the tests: the system browser (/usr/bin/chromium) driven by
// playwright-core, with a fresh profile and no background traffic.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The browsers open now, for `closeBrowsers`. */
const open = new Set();

/** What the page's WASM said when it panicked: a panic stops the whole page, whatever the test
 * was looking at, so any one fails the test file (by its exit code, when it ends). */
const panics = [];

function watchForPanics(page) {
  page.on('console', (message) => {
    if (message.type() === 'error' && message.text().includes('panicked at')) {
      panics.push(`${page.url()}: ${message.text().split('\n').slice(0, 3).join(' ')}`);
    }
  });
}

/** Opens a browser context on a fresh profile; `options` go to launchPersistentContext. */
export async function openBrowser(options = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'facteur-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 800 },
    ...options,
  });
  context.pages().forEach(watchForPanics);
  context.on('page', watchForPanics);
  const browser = {
    context,
    async close() {
      open.delete(browser);
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
  open.add(browser);
  return browser;
}

/** Closes every browser still open: a test that failed half-way left its own open, and an
 * open browser keeps the test file's process from ending. For `after()`. */
export async function closeBrowsers() {
  await Promise.all([...open].map((browser) => browser.close()));
}

process.on('exit', () => {
  if (panics.length) {
    console.error(`the web client panicked:\n${panics.join('\n')}`);
    process.exitCode = 1;
  }
});

/** Waits until the page's WASM has hydrated (the app sets data-hydrated on <body>). */
export async function waitForHydration(page) {
  await page.locator('body[data-hydrated="true"]').waitFor({ timeout: 20_000 });
}

/** Opens the header's account menu (the account's pages and "Log out") and returns it. */
export async function accountMenu(page) {
  const menu = page.getByRole('banner').locator('details.account-menu');
  if ((await menu.getAttribute('open')) === null) await menu.locator('summary').click();
  return menu.getByRole('navigation');
}

/** Logs in through the form and waits for the mail view. */
export async function login(page, baseUrl, address, password) {
  await page.goto(`${baseUrl}/login`);
  await waitForHydration(page);
  await page.getByLabel('Email address').fill(address);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/mail(\/|$)/);
  await page.getByRole('navigation', { name: 'Mail folders' }).waitFor();
}

/** A page signed in as `user` (`{ address, password }`) in a browser of its own, so with its
 * own session cookie; `options` go to the browser. Returns `{ browser, page }`. */
export async function signIn(baseUrl, user, options = {}) {
  const browser = await openBrowser(options);
  const page = await browser.context.newPage();
  await login(page, baseUrl, user.address, user.password);
  return { browser, page };
}

/** A page signed in as `user` in a browser without JavaScript: what a reader sees before the
 * WASM runs, or without it. Returns `{ browser, page }`. */
export async function signInWithoutScript(baseUrl, user) {
  const browser = await openBrowser({ javaScriptEnabled: false });
  const page = await browser.context.newPage();
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('Email address').fill(user.address);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/mail$/);
  return { browser, page };
}

/** A page signed in as `user` through the French login page (a browser in French). */
export async function signInFrench(baseUrl, user) {
  const browser = await openBrowser({ locale: 'fr-FR' });
  const page = await browser.context.newPage();
  await page.goto(`${baseUrl}/login`);
  await waitForHydration(page);
  await page.getByLabel('Adresse e-mail').fill(user.address);
  await page.getByLabel('Mot de passe').fill(user.password);
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.waitForURL(/\/mail(\/|$)/);
  return page;
}
