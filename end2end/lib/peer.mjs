// Another mail server for the tests: the aiosmtpd peer of the Rust tests
// (server/tests/peers/smtp_peer.py) on a loopback port, to which the server under test relays
// mail for other domains. What it accepted is read back from the JSON files it writes.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './server.mjs';

/** Starts `server/tests/peers/SCRIPT` with `args`; resolves once it printed "port N" (the
 * loopback port it listens on): `{ child, port }`. */
export async function startPythonPeer(script, args) {
  const child = spawn('python3', [join(repoRoot, 'server', 'tests', 'peers', script), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      const match = buffer.match(/^port (\d+)\n/);
      if (match) resolve(Number(match[1]));
    });
    child.on('exit', (code) => reject(new Error(`${script} exited (${code})`)));
  });
  child.removeAllListeners('exit');
  return { child, port };
}

/** Starts the peer; returns `{ relay, messages(), stop() }`. */
export async function startPeer() {
  const dir = mkdtempSync(join(tmpdir(), 'facteur-peer-'));
  const { child, port } = await startPythonPeer('smtp_peer.py', [dir]);
  return {
    relay: `127.0.0.1:${port}`,
    /** The messages accepted so far: `{ mail_from, rcpt_tos, tls, data }`, in order. */
    messages() {
      return readdirSync(dir)
        .map((name) => name.match(/^msg-(\d+)\.json$/))
        .filter(Boolean)
        .sort((a, b) => Number(a[1]) - Number(b[1]))
        .map((match) => JSON.parse(readFileSync(join(dir, match[0]), 'utf8')));
    },
    async stop() {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
