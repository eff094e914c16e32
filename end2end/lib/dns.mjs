// A stub name server for the browser tests: the dnslib stub of the Rust tests
// (server/tests/peers/dns_stub.py) on a loopback port, answering from a zone file that the test
// rewrites as it goes (the stub reads it again when it changes). Lookups never leave loopback.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPythonPeer } from './peer.mjs';

/** Starts the stub with no records; returns `{ server, publish(zoneText), stop() }`. */
export async function startDnsStub() {
  const dir = mkdtempSync(join(tmpdir(), 'facteur-dns-'));
  const zone = join(dir, 'zone');
  writeFileSync(zone, '');
  const { child, port } = await startPythonPeer('dns_stub.py', [zone]);
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
