// The web client's assets over plain HTTP (no browser): precompressed brotli or gzip as the
// client accepts, the same bytes once decoded, and 304 without a body when nothing changed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { startServer } from '../lib/server.mjs';

let server;

before(async () => {
  server = await startServer({ users: [] });
});

after(async () => {
  await server?.stop();
});

/** GET `path` with `headers`; node:http does not decode, so the body is the bytes sent. */
function get(path, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = request(`${server.baseUrl}${path}`, { headers }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('assets are sent precompressed as accepted, identical once decoded', async () => {
  for (const path of ['/pkg/facteur_bg.wasm', '/pkg/facteur.js', '/facteur.css']) {
    const plain = await get(path);
    assert.equal(plain.status, 200, path);
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.headers.vary, 'accept-encoding');
    assert.ok(plain.body.length > 1000, `${path} has content`);

    const br = await get(path, { 'accept-encoding': 'gzip, deflate, br, zstd' });
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(br.headers['content-type'], plain.headers['content-type']);
    assert.ok(br.body.length < plain.body.length);
    assert.ok(brotliDecompressSync(br.body).equals(plain.body), `${path}: brotli decodes to the original`);

    const gz = await get(path, { 'accept-encoding': 'br;q=0, gzip' });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.ok(gunzipSync(gz.body).equals(plain.body), `${path}: gzip decodes to the original`);

    // Each variant has its own validator, and a matching one gets 304 and no body.
    assert.notEqual(br.headers.etag, plain.headers.etag);
    const again = await get(path, { 'accept-encoding': 'br', 'if-none-match': br.headers.etag });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    assert.equal(again.headers.etag, br.headers.etag);
    const stale = await get(path, { 'accept-encoding': 'br', 'if-none-match': plain.headers.etag });
    assert.equal(stale.status, 200);
  }
  const wasm = await get('/pkg/facteur_bg.wasm');
  assert.equal(wasm.headers['content-type'], 'application/wasm');
  assert.equal((await get('/no/such/file.js')).status, 404);
});

test("pages without mail are compressed, for the reader's own requests only (BREACH)", async () => {
  const accept = { 'accept-encoding': 'gzip, br' };
  const own = await get('/login', { ...accept, 'sec-fetch-site': 'same-origin' });
  assert.equal(own.status, 200);
  assert.equal(own.headers['content-encoding'], 'br');
  const html = brotliDecompressSync(own.body).toString('utf8');
  assert.match(html, /^<!DOCTYPE html>/);
  const typed = await get('/login', { 'accept-encoding': 'gzip', 'sec-fetch-site': 'none' });
  assert.equal(typed.headers['content-encoding'], 'gzip');
  assert.match(gunzipSync(typed.body).toString('utf8'), /<form/);
  // A request another site made, or one from a browser that does not say, is sent as it is.
  for (const site of ['cross-site', 'same-site', undefined]) {
    const headers = site ? { ...accept, 'sec-fetch-site': site } : accept;
    const plain = await get('/login', headers);
    assert.equal(plain.headers['content-encoding'], undefined, String(site));
    assert.match(plain.body.toString('utf8'), /^<!DOCTYPE html>/);
  }
  // A page that is not one of those without mail is sent as it is, even to our own pages.
  const other = await get('/no-such-page', { ...accept, 'sec-fetch-site': 'same-origin' });
  assert.equal(other.status, 404);
  assert.equal(other.headers['content-encoding'], undefined);
});
