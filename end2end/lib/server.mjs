// Starts a real `facteur` binary for one test file: a fresh data folder, a domain, users, and
// HTTP + SMTP on ephemeral loopback ports (read back from the binary's stdout).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The binary under test: $FACTEUR_BIN, else the debug build in the cargo target folder. */
export function facteurBinary() {
  if (process.env.FACTEUR_BIN) return process.env.FACTEUR_BIN;
  const targetDir = process.env.CARGO_TARGET_DIR
    ? resolve(repoRoot, process.env.CARGO_TARGET_DIR)
    : join(repoRoot, 'target');
  return join(targetDir, 'debug', 'facteur');
}

function admin(bin, dataDir, args, input) {
  const result = spawnSync(bin, ['admin', '--data', dataDir, ...args], { input, encoding: 'utf8', cwd: repoRoot });
  if (result.status !== 0) {
    throw new Error(`facteur admin ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  }
  return result.stdout;
}

/**
 * Starts the server. `users` are `{ address, password }`; their domains are created first.
 * `aliases` are `{ address, targets: [...] }`; `domainAdmins` are `{ domain, address }` (issue 18).
 * `imap: true` also opens IMAPS. Mail for other
 * servers goes to `relay` (HOST:PORT, e.g. an SMTP peer of `peer.mjs`), by default a closed
 * port on loopback: never to the internet. `undoSendSeconds` is the web client's undo delay.
 * Returns `{ baseUrl, smtpPort, imapsPort, certPath, dataDir, stop }`.
 */
export async function startServer({ users, aliases = [], domainAdmins = [], imap = false, relay = '127.0.0.1:9', undoSendSeconds = 0, dnsServer, hostname }) {
  const bin = facteurBinary();
  if (!existsSync(bin)) {
    throw new Error(`${bin} does not exist: run scripts/build-site.sh && cargo build -p server (or set FACTEUR_BIN)`);
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'facteur-e2e-'));
  const domains = [...new Set(users.map((u) => u.address.split('@')[1]))];
  for (const domain of domains) admin(bin, dataDir, ['domain', 'add', domain]);
  for (const user of users) {
    const quota = user.quotaMb ? ['--quota-mb', String(user.quotaMb)] : [];
    admin(bin, dataDir, ['user', 'add', user.address, '--password-stdin', ...quota], `${user.password}\n`);
  }
  for (const alias of aliases) admin(bin, dataDir, ['alias', 'add', alias.address, ...alias.targets]);
  for (const { domain, address } of domainAdmins) admin(bin, dataDir, ['domain', 'admin-add', domain, address]);

  const child = spawn(
    bin,
    ['serve', '--data', dataDir, '--http', '127.0.0.1:0', '--smtp', '127.0.0.1:0', '--imap', 'off', '--imaps', imap ? '127.0.0.1:0' : 'off',
      '--submission', 'off', '--submissions', 'off'],
    // No DNS lookups of senders (SPF, DKIM, DMARC) nor of MX hosts from tests: never the internet.
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      // No undo delay unless a test asks: a message sent is on its way at once.
      env: {
        ...process.env,
        FACTEUR_SENDER_CHECKS: 'false',
        FACTEUR_RELAY: relay,
        FACTEUR_UNDO_SEND_SECONDS: String(undoSendSeconds),
        // A stub name server on loopback (lib/dns.mjs), for the pages that look records up.
        ...(dnsServer ? { FACTEUR_DNS_SERVER: dnsServer } : {}),
        ...(hostname ? { FACTEUR_HOSTNAME: hostname } : {}),
      },
    },
  );
  let stderr = '';
  // A panic in a request closes its connection with no answer: the browser sees only an empty
  // response. What the server said is kept, and a panic fails the test file.
  let panic = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-8000);
    if (!panic && stderr.includes('panicked')) panic = stderr.slice(Math.max(0, stderr.indexOf('panicked') - 200));
    else if (panic && panic.length < 4000) panic += chunk;
  });

  const ports = await new Promise((resolvePorts, reject) => {
    const found = {};
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`facteur did not get ready in 30 s\n${stderr}`)), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`facteur exited early (${code})\n${stderr}`));
    });
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      let newline;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        const listening = line.match(/^facteur: (\w+) listening on 127\.0\.0\.1:(\d+)$/);
        if (listening) found[listening[1]] = Number(listening[2]);
        if (line === 'facteur: ready') {
          clearTimeout(timer);
          if (!found.http || !found.smtp || (imap && !found.imaps)) reject(new Error(`ports missing from stdout: ${JSON.stringify(found)}`));
          else resolvePorts(found);
        }
      }
    });
  });
  child.removeAllListeners('exit');

  return {
    baseUrl: `http://127.0.0.1:${ports.http}`,
    smtpPort: ports.smtp,
    imapsPort: ports.imaps,
    certPath: join(dataDir, 'tls', 'cert.pem'),
    dataDir,
    /** Runs `facteur admin ARGS...` on this server's data (beside it, as an operator would). */
    admin: (args, input) => admin(bin, dataDir, args, input),
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timeout = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timeout);
      }
      rmSync(dataDir, { recursive: true, force: true });
      if (panic) {
        // Not thrown: the caller still has peers to stop. The file fails by its exit code.
        console.error(`facteur panicked:\n${panic}`);
        process.exitCode = 1;
      }
    },
  };
}
