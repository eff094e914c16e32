// Waiting for something outside the page (a message at the SMTP peer, a file on disk).

/** Polls `check` every 100 ms until it is true; throws after `timeout` ms, naming `what`. */
export async function waitFor(what, check, timeout = 20_000) {
  const start = Date.now();
  for (;;) {
    if (await check()) return;
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
