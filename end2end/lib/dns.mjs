// A stub name server for the browser tests: the dnslib stub of the Rust tests
// (server/tests/peers/dns_stub.py) on a loopback port, answering from a zone file that the test
// rewrites as it goes (the stub reads it again when it changes). Lookups never leave loopback.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './server.mjs';

/** Starts the stub with no records; returns `{ server, publish(zoneText), stop() }`. */
export async function startDnsStub() {
  const dir = mkdtempSync(join(tmpdir(), 'facteur-dns-'));
  const zone = join(dir, 'zone');
  writeFileSync(zone, '');
  const child = spawn('python3', [join(repoRoot, 'server', 'tests', 'peers', 'dns_stub.py'), zone], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      const match = buffer.match(/^port (\d+)\n/);
      if (match) resolve(Number(match[1]));
    });
    child.on('exit', (code) => reject(new Error(`the DNS stub exited (${code})`)));
  });
  child.removeAllListeners('exit');
  return {
    server: `127.0.0.1:${port}`,
    /** Replaces the zone (dnslib's master file format, absolute names). */
    publish(text) {
      writeFileSync(zone, text);
    },
    async stop() {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
