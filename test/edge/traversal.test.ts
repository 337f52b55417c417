import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildTestEdge, signedCookieHeader, signedUrl } from './helpers.ts';

const SECRET = 'the secret outside the root';
const PUBLIC = 'a public file inside the root';

/** A folder holding a secret file, and beside it the root: a file, a hidden file, symlinks. */
function makeRoot(): string {
  const base = mkdtempSync(join(tmpdir(), 'cfsign-edge-'));
  writeFileSync(join(base, 'secret.txt'), SECRET);
  const root = join(base, 'root');
  mkdirSync(join(root, 'sub'), { recursive: true });
  writeFileSync(join(root, 'public.txt'), PUBLIC);
  writeFileSync(join(root, '.env'), SECRET);
  symlinkSync(join(base, 'secret.txt'), join(root, 'link-out.txt'));
  symlinkSync(base, join(root, 'dir-out'));
  symlinkSync(join(root, 'public.txt'), join(root, 'sub', 'link-in.txt'));
  return root;
}

/** A GET whose request target is sent byte for byte, as curl --path-as-is sends it. */
function rawGet(
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, path, headers }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, body });
      });
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

describe('the edge on a real port', () => {
  it('judges the bytes it received, not the form a browser would have sent them in', async (t) => {
    const { edge } = await buildTestEdge(t);
    await edge.listen({ host: '127.0.0.1', port: 0 });
    const { port } = edge.server.address() as AddressInfo;
    const host = `127.0.0.1:${port}`;
    const signed = signedUrl(`http://${host}/hello.txt`);
    const query = signed.slice(signed.indexOf('?'));
    assert.equal((await rawGet(port, `/hello.txt${query}`, { host })).status, 200);
    // Each resolves to /hello.txt in a URL parser, but none is the URL that was signed, and
    // CloudFront compares what it receives.
    for (const path of ['/x/../hello.txt', '/./hello.txt', '/%2E/hello.txt', '/hello%2Etxt']) {
      const response = await rawGet(port, `${path}${query}`, { host });
      assert.equal(response.status, 403, path);
      assert.match(response.body, /<Code>AccessDenied<\/Code>/, path);
    }
  });

  it('never serves a file outside its root, whatever the spelling, even to cookies for every path', async (t) => {
    const { edge } = await buildTestEdge(t, { root: makeRoot() });
    await edge.listen({ host: '127.0.0.1', port: 0 });
    const { port } = edge.server.address() as AddressInfo;
    const host = `127.0.0.1:${port}`;
    // A policy for `*` matches any URL, so only the edge's own path rules stand in the way.
    const cookie = signedCookieHeader(`http://${host}/*`);
    const headers = { host, cookie };

    const allowed = await rawGet(port, '/public.txt', headers);
    assert.deepEqual(allowed, { status: 200, body: PUBLIC });
    const linkInside = await rawGet(port, '/sub/link-in.txt', headers);
    assert.deepEqual(linkInside, { status: 200, body: PUBLIC });

    for (const path of [
      '/../secret.txt',
      '/sub/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E/%2e%2e/secret.txt',
      '/sub/%2e%2e/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/sub%2F..%2F..%2Fsecret.txt',
      '/..%5csecret.txt',
      '/%252e%252e/secret.txt',
      '/link-out.txt',
      '/dir-out/secret.txt',
      '/.env',
      '/%2eenv',
      '//secret.txt',
      '/public.txt%00.png',
      '/sub/',
      '/dir-out/',
    ]) {
      const response = await rawGet(port, path, headers);
      assert.ok([400, 404].includes(response.status), `${path}: ${response.status}`);
      assert.ok(!response.body.includes(SECRET), path);
    }
  });
});
