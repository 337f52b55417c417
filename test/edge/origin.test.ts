import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import {
  buildTestEdge,
  DISTRIBUTION,
  HOST,
  signedCookieHeader,
  signedUrl,
  tamperSignature,
  targetOf,
} from './helpers.ts';

interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

const CLIP = Buffer.from(Array.from({ length: 256 }, (_, index) => index));

/** A loopback origin that records each request; /clip.bin honours a single byte range. */
async function startOrigin(t: TestContext): Promise<{ url: string; seen: SeenRequest[] }> {
  const seen: SeenRequest[] = [];
  const server: Server = createServer((request, response) => {
    seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers });
    const range = /^bytes=(\d+)-(\d+)$/.exec(request.headers.range ?? '');
    if (request.url?.endsWith('/clip.bin') === true && range !== null) {
      const [start, end] = [Number(range[1]), Number(range[2])];
      response.writeHead(206, {
        'content-type': 'application/octet-stream',
        'content-range': `bytes ${start}-${end}/${CLIP.length}`,
        'content-length': String(end - start + 1),
      });
      response.end(CLIP.subarray(start, end + 1));
      return;
    }
    response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'x-origin': 'yes' });
    response.end(`origin saw ${request.method ?? ''} ${request.url ?? ''}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen };
}

describe('the edge in front of an origin', () => {
  it("forwards an accepted request to the origin path with the viewer's query, without CloudFront's parameters or the cookies", async (t) => {
    const origin = await startOrigin(t);
    const { edge } = await buildTestEdge(t, { origin: `${origin.url}/base/` });
    const url = signedUrl(`${DISTRIBUTION}/api/items?color=red&size=m`);
    const response = await edge.inject({
      url: targetOf(url),
      headers: {
        host: HOST,
        cookie: 'session=abc',
        authorization: 'Bearer viewer-secret',
        forwarded: 'for=10.9.9.9',
        'x-forwarded-for': '10.9.9.9',
        'x-forwarded-host': 'evil.example',
      },
      remoteAddress: '127.0.0.1',
    });
    assert.equal(response.statusCode, 200);
    assert.equal(response.body, 'origin saw GET /base/api/items?color=red&size=m');
    assert.equal(response.headers['x-origin'], 'yes');
    assert.equal(origin.seen.length, 1);
    const forwarded = origin.seen[0];
    assert.ok(forwarded !== undefined);
    assert.equal(forwarded.headers.host, new URL(origin.url).host);
    assert.equal(forwarded.headers.cookie, undefined);
    assert.equal(forwarded.headers.authorization, undefined);
    assert.equal(forwarded.headers.forwarded, undefined);
    assert.equal(forwarded.headers['x-forwarded-host'], undefined);
    assert.equal(forwarded.headers['x-forwarded-for'], '127.0.0.1');
  });

  it('forwards an accepted request carried by signed cookies, and no cookie reaches the origin', async (t) => {
    const origin = await startOrigin(t);
    const { edge } = await buildTestEdge(t, { origin: origin.url });
    const response = await edge.inject({
      url: '/videos/a.m3u8',
      headers: { host: HOST, cookie: signedCookieHeader(`${DISTRIBUTION}/videos/*`) },
    });
    assert.equal(response.statusCode, 200);
    assert.equal(response.body, 'origin saw GET /videos/a.m3u8');
    assert.equal(origin.seen[0]?.headers.cookie, undefined);
  });

  it('passes Range and HEAD through and returns the origin status and headers', async (t) => {
    const origin = await startOrigin(t);
    const { edge } = await buildTestEdge(t, { origin: origin.url });
    const target = targetOf(signedUrl(`${DISTRIBUTION}/media/clip.bin`));
    const ranged = await edge.inject({
      url: target,
      headers: { host: HOST, range: 'bytes=16-31' },
    });
    assert.equal(ranged.statusCode, 206);
    assert.equal(ranged.headers['content-range'], 'bytes 16-31/256');
    assert.deepEqual(ranged.rawPayload, CLIP.subarray(16, 32));
    const head = await edge.inject({ method: 'HEAD', url: target, headers: { host: HOST } });
    assert.equal(head.statusCode, 200);
    assert.equal(origin.seen.at(-1)?.method, 'HEAD');
  });

  it('never contacts the origin for a refused request', async (t) => {
    const origin = await startOrigin(t);
    const { edge } = await buildTestEdge(t, { origin: origin.url });
    const tampered = tamperSignature(signedUrl(`${DISTRIBUTION}/api/items`));
    for (const target of [
      targetOf(tampered),
      '/api/items',
      '/api/items?Key-Pair-Id=K2JCJMDEHXQW5F',
    ]) {
      const response = await edge.inject({ url: target, headers: { host: HOST } });
      assert.equal(response.statusCode, 403, target);
    }
    assert.equal(origin.seen.length, 0);
  });

  it('answers 502 with the reason when the origin does not answer', async (t) => {
    // Nothing listens on port 1 of the loopback: the connection is refused.
    const { edge } = await buildTestEdge(t, { origin: 'http://127.0.0.1:1' });
    const response = await edge.inject({
      url: targetOf(signedUrl(`${DISTRIBUTION}/api/items`)),
      headers: { host: HOST },
    });
    assert.equal(response.statusCode, 502);
    assert.match(String(response.headers['x-cfsign-reason']), /^the origin did not answer \(/);
    assert.match(response.body, /^bad gateway \(request [0-9a-f-]{36}\)\n$/);
  });
});
