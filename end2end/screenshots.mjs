// Takes screenshots of the login page and the mail view at desktop and phone widths, light and
// dark, into test-results/ (for reviewing the design by eye; not a test).
// Usage: node screenshots.mjs
import { mkdirSync } from 'node:fs';
import { startServer } from './lib/server.mjs';
import { sendMail, htmlMessage, textMessage } from './lib/smtp.mjs';
import { openBrowser, waitForHydration, login } from './lib/browser.mjs';

const ANA = { address: 'ana@example.org', password: 'correct horse 42' };
const out = new URL('./test-results/', import.meta.url).pathname;
mkdirSync(out, { recursive: true });

const server = await startServer({ users: [ANA] });
try {
  const send = (message) => sendMail({ port: server.smtpPort, from: 'x@example.net', to: ANA.address, message });
  await send(textMessage({ from: 'Claire Dubois <claire@example.net>', to: ANA.address, subject: 'Minutes of the board meeting', text: 'Hello Ana,\n\nPlease find the minutes below.\n\n1. Budget approved.\n2. Next meeting on 12 March.\n\nClaire' }));
  await send(['From: Support <support@shop.example>', `To: ${ANA.address}`, 'Subject: Your invoice #2026-0042', 'X-Priority: 1', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b"', '', '--b', 'Content-Type: text/plain', '', 'Your invoice is attached.', '--b', 'Content-Type: application/pdf; name="invoice.pdf"', 'Content-Disposition: attachment; filename="invoice.pdf"', 'Content-Transfer-Encoding: base64', '', 'JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFI+PgpzdHJlYW0K', '--b--', ''].join('\r\n'));
  await send(htmlMessage({ from: 'Newsletter <news@example.com>', to: ANA.address, subject: 'This week in self-hosting', html: '<table width="100%" bgcolor="#f4f4f4"><tr><td style="padding:24px;font-family:Georgia,serif"><h1 style="color:#0b5394">This week in self-hosting</h1><img src="https://tracker.example/pixel.gif" width="1" height="1"><p>Five tips to keep your mail server healthy.</p><p><a href="https://example.com/read">Read more</a></p></td></tr></table>' }));
  await send(textMessage({ from: 'bob@example.net', to: ANA.address, subject: 'Lunch?', text: 'Friday at noon?' }));

  for (const scheme of ['light', 'dark']) {
    const desktop = await openBrowser({ colorScheme: scheme, viewport: { width: 1280, height: 800 } });
    const page = await desktop.context.newPage();
    await page.goto(`${server.baseUrl}/login`);
    await waitForHydration(page);
    await page.screenshot({ path: `${out}login-desktop-${scheme}.png` });
    await login(page, server.baseUrl, ANA.address, ANA.password);
    await page.locator('.message-row', { hasText: 'This week in self-hosting' }).getByRole('link').click();
    await page.locator('iframe.html-body').waitFor();
    await page.waitForTimeout(300);
    await page.screenshot({ path: `${out}mail-desktop-${scheme}.png` });
    await desktop.close();
  }

  const phone = await openBrowser({ viewport: { width: 390, height: 780 }, isMobile: true, hasTouch: true });
  const page = await phone.context.newPage();
  await page.goto(`${server.baseUrl}/login`);
  await waitForHydration(page);
  await page.screenshot({ path: `${out}login-phone.png` });
  await login(page, server.baseUrl, ANA.address, ANA.password);
  await page.screenshot({ path: `${out}phone-1-folders.png` });
  await page.getByRole('link', { name: /^Inbox/ }).click();
  await page.waitForURL(/\/mail\/\d+$/);
  await page.screenshot({ path: `${out}phone-2-list.png` });
  await page.locator('.message-row', { hasText: 'Your invoice' }).getByRole('link').click();
  await page.waitForURL(/\/mail\/\d+\/\d+$/);
  await page.screenshot({ path: `${out}phone-3-message.png` });
  await phone.close();
  console.log(`screenshots in ${out}`);
} finally {
  await server.stop();
}
