import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signUrl } from '../../src/core/sign-url.ts';
import { buildEdge } from '../../src/edge/build-edge.ts';
import { signerError } from '../helpers/errors.ts';
import { ECDSA, RSA, TRUSTED_KEYS } from '../helpers/fixtures.ts';
import {
  buildTestEdge,
  DISTRIBUTION,
  HOST,
  NOW,
  NOW_SECONDS,
  queryValue,
  sampleFile,
  signedCookieHeader,
  signedUrl,
  tamperSignature,
  targetOf,
} from './helpers.ts';

const CLOUDFRONT_403 = (code: string, message: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;

describe('the edge over a folder', () => {
  it('serves the exact bytes of a file to a valid signed URL, with its type, length, ETag and Last-Modified', async (t) => {
    const { edge } = await buildTestEdge(t);
    const response = await edge.inject({
      url: targetOf(signedUrl(`${DISTRIBUTION}/videos/intro.mp4`)),
      headers: { host: HOST },
    });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.rawPayload, sampleFile('videos/intro.mp4'));
    assert.equal(response.headers['content-type'], 'video/mp4');
    assert.equal(response.headers['content-length'], String(sampleFile('videos/intro.mp4').length));
    assert.equal(response.headers['accept-ranges'], 'bytes');
    assert.match(String(response.headers['etag']), /^W\/".+"$/);
    assert.ok(!Number.isNaN(Date.parse(String(response.headers['last-modified']))));
    assert.equal(response.headers['x-cfsign-reason'], undefined);
  });

  it('answers a byte range with 206, Content-Range and exactly those bytes', async (t) => {
    const { edge } = await buildTestEdge(t);
    const file = sampleFile('videos/intro.mp4');
    const response = await edge.inject({
      url: targetOf(signedUrl(`${DISTRIBUTION}/videos/intro.mp4`)),
      headers: { host: HOST, range: 'bytes=1000-1999' },
    });
    assert.equal(response.statusCode, 206);
    assert.equal(response.headers['content-range'], `bytes 1000-1999/${file.length}`);
    assert.equal(response.headers['content-length'], '1000');
    assert.deepEqual(response.rawPayload, file.subarray(1000, 2000));
    const tail = await edge.inject({
      url: targetOf(signedUrl(`${DISTRIBUTION}/videos/intro.mp4`)),
      headers: { host: HOST, range: 'bytes=-100' },
    });
    assert.equal(tail.statusCode, 206);
    assert.deepEqual(tail.rawPayload, file.subarray(file.length - 100));
  });

  it('answers an unsatisfiable range with 416 and Content-Range: bytes */size', async (t) => {
    const { edge } = await buildTestEdge(t);
    const size = sampleFile('videos/intro.mp4').length;
    const response = await edge.inject({
      url: targetOf(signedUrl(`${DISTRIBUTION}/videos/intro.mp4`)),
      headers: { host: HOST, range: `bytes=${size + 10}-` },
    });
    assert.equal(response.statusCode, 416);
    assert.equal(response.headers['content-range'], `bytes */${size}`);
  });

  it('ignores a Range header that does not parse and sends the whole file, as RFC 9110 says', async (t) => {
    const { edge } = await buildTestEdge(t);
    const target = targetOf(signedUrl(`${DISTRIBUTION}/hello.txt`));
    for (const range of ['bytes=abc', 'items=0-1', 'bytes=1-2-3']) {
      const response = await edge.inject({ url: target, headers: { host: HOST, range } });
      assert.equal(response.statusCode, 200, range);
      assert.deepEqual(response.rawPayload, sampleFile('hello.txt'), range);
    }
  });

  it('answers HEAD with the headers of the file and no body', async (t) => {
    const { edge } = await buildTestEdge(t);
    const response = await edge.inject({
      method: 'HEAD',
      url: targetOf(signedUrl(`${DISTRIBUTION}/images/poster.png`)),
      headers: { host: HOST },
    });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['content-type'], 'image/png');
    assert.equal(
      response.headers['content-length'],
      String(sampleFile('images/poster.png').length),
    );
    assert.equal(response.rawPayload.length, 0);
  });

  it('answers 304 to If-None-Match with the ETag it sent', async (t) => {
    const { edge } = await buildTestEdge(t);
    const target = targetOf(signedUrl(`${DISTRIBUTION}/hello.txt`));
    const first = await edge.inject({ url: target, headers: { host: HOST } });
    assert.equal(first.headers['content-type'], 'text/plain; charset=utf-8');
    const again = await edge.inject({
      url: target,
      headers: { host: HOST, 'if-none-match': String(first.headers['etag']) },
    });
    assert.equal(again.statusCode, 304);
    assert.equal(again.rawPayload.length, 0);
  });

  it('serves every file under videos/ to signed cookies for videos/* and refuses the rest with 403 AccessDenied', async (t) => {
    const { edge } = await buildTestEdge(t);
    const cookie = signedCookieHeader(`${DISTRIBUTION}/videos/*`);
    for (const [path, type] of [
      ['videos/intro.mp4', 'video/mp4'],
      ['videos/intro.vtt', 'text/vtt; charset=utf-8'],
    ] as const) {
      const response = await edge.inject({ url: `/${path}`, headers: { host: HOST, cookie } });
      assert.equal(response.statusCode, 200, path);
      assert.equal(response.headers['content-type'], type);
      assert.deepEqual(response.rawPayload, sampleFile(path));
    }
    for (const path of ['/images/poster.png', '/hello.txt', '/index.html', '/videos']) {
      const response = await edge.inject({ url: path, headers: { host: HOST, cookie } });
      assert.equal(response.statusCode, 403, path);
      assert.equal(response.body, CLOUDFRONT_403('AccessDenied', 'Access denied'));
      assert.equal(response.headers['x-cfsign-failure'], 'RESOURCE_MISMATCH');
      assert.equal(
        response.headers['x-cfsign-reason'],
        `resource 'http://edge.test/videos/*' does not match 'http://edge.test${path}'`,
      );
    }
  });

  it('refuses a signature with one character changed with 403 AccessDenied, naming the key but never the signature', async (t) => {
    const { edge } = await buildTestEdge(t);
    const tampered = tamperSignature(signedUrl(`${DISTRIBUTION}/hello.txt`));
    const response = await edge.inject({ url: targetOf(tampered), headers: { host: HOST } });
    assert.equal(response.statusCode, 403);
    assert.equal(response.headers['content-type'], 'text/xml');
    assert.equal(response.headers['cache-control'], 'no-store');
    assert.equal(response.body, CLOUDFRONT_403('AccessDenied', 'Access denied'));
    assert.equal(response.headers['x-cfsign-failure'], 'BAD_SIGNATURE');
    const reason = String(response.headers['x-cfsign-reason']);
    assert.match(reason, /does not match .* under key K2JCJMDEHXQW5F/);
    assert.ok(!reason.includes(queryValue(tampered, 'Signature').slice(0, 16)));
  });

  it('refuses a signature that is not CloudFront base64 with 403 MalformedSignature', async (t) => {
    const { edge } = await buildTestEdge(t);
    const url = signedUrl(`${DISTRIBUTION}/hello.txt`);
    const standardBase64 = url.replace(/Signature=([^&]*)/, (_all, value: string) => {
      return `Signature=${value.replace(/-/g, '+').replace(/~/g, '/').replace(/_/g, '=')}`;
    });
    const response = await edge.inject({ url: targetOf(standardBase64), headers: { host: HOST } });
    assert.equal(response.statusCode, 403);
    assert.equal(
      response.body,
      CLOUDFRONT_403('MalformedSignature', 'Could not unencode Signature'),
    );
    assert.equal(response.headers['x-cfsign-failure'], 'MALFORMED_SIGNATURE');
  });

  it('refuses a Key-Pair-Id outside the trusted key group with 403 InvalidKey', async (t) => {
    const { edge } = await buildTestEdge(t);
    const url = signUrl({
      ...RSA,
      keyPairId: 'KUNKNOWNKEY',
      url: `${DISTRIBUTION}/hello.txt`,
      expires: NOW_SECONDS + 60,
      now: NOW,
    }).url;
    const response = await edge.inject({ url: targetOf(url), headers: { host: HOST } });
    assert.equal(response.statusCode, 403);
    assert.equal(response.body, CLOUDFRONT_403('InvalidKey', 'Unknown Key'));
    assert.equal(
      response.headers['x-cfsign-reason'],
      "Key-Pair-Id 'KUNKNOWNKEY' is not one of the trusted public keys",
    );
  });

  it('refuses a request with neither a signed URL nor signed cookies with 403 MissingKey', async (t) => {
    const { edge } = await buildTestEdge(t);
    for (const headers of [{ host: HOST }, { host: HOST, cookie: 'session=abc; theme=dark' }]) {
      const response = await edge.inject({ url: '/hello.txt?lang=en', headers });
      assert.equal(response.statusCode, 403);
      assert.equal(
        response.body,
        CLOUDFRONT_403('MissingKey', 'Missing Key-Pair-Id query parameter or cookie value'),
      );
      assert.equal(response.headers['x-cfsign-failure'], 'MISSING_PARAMETER');
      assert.match(String(response.headers['x-cfsign-reason']), /Key-Pair-Id is missing/);
    }
  });

  it('refuses an expired link with 403 AccessDenied and says when it expired', async (t) => {
    const url = signedUrl(`${DISTRIBUTION}/hello.txt`, { expires: NOW_SECONDS + 600 });
    const { edge } = await buildTestEdge(t, undefined, new Date((NOW_SECONDS + 912) * 1000));
    const response = await edge.inject({ url: targetOf(url), headers: { host: HOST } });
    assert.equal(response.statusCode, 403);
    assert.equal(response.body, CLOUDFRONT_403('AccessDenied', 'Access denied'));
    assert.equal(response.headers['x-cfsign-failure'], 'EXPIRED');
    assert.equal(
      response.headers['x-cfsign-reason'],
      'expired 312 s ago (at 2026-06-01T12:10:00Z)',
    );
  });

  it('judges the URL and ignores the cookies whenever the URL carries CloudFront parameters', async (t) => {
    const { edge } = await buildTestEdge(t);
    const validCookies = signedCookieHeader(`${DISTRIBUTION}/*`);
    const tampered = tamperSignature(signedUrl(`${DISTRIBUTION}/hello.txt`));
    const urlLoses = await edge.inject({
      url: targetOf(tampered),
      headers: { host: HOST, cookie: validCookies },
    });
    assert.equal(urlLoses.statusCode, 403);
    assert.equal(urlLoses.headers['x-cfsign-failure'], 'BAD_SIGNATURE');
    const brokenCookies =
      'CloudFront-Expires=1; CloudFront-Signature=AAAA; CloudFront-Key-Pair-Id=KNOPE';
    const urlWins = await edge.inject({
      url: targetOf(signedUrl(`${DISTRIBUTION}/hello.txt`)),
      headers: { host: HOST, cookie: brokenCookies },
    });
    assert.equal(urlWins.statusCode, 200);
    assert.deepEqual(urlWins.rawPayload, sampleFile('hello.txt'));
  });

  it('judges the link against the Host header the viewer sent, as CloudFront does against its domain', async (t) => {
    const { edge } = await buildTestEdge(t);
    const target = targetOf(
      signedUrl(`${DISTRIBUTION}/hello.txt`, { resource: `${DISTRIBUTION}/*` }),
    );
    const otherHost = await edge.inject({ url: target, headers: { host: 'other.test' } });
    assert.equal(otherHost.statusCode, 403);
    assert.equal(otherHost.headers['x-cfsign-failure'], 'RESOURCE_MISMATCH');
    assert.equal(
      otherHost.headers['x-cfsign-reason'],
      "resource 'http://edge.test/*' does not match 'http://other.test/hello.txt'",
    );
    // A canned policy names the URL itself, so under another host the signature fails.
    const canned = targetOf(signedUrl(`${DISTRIBUTION}/hello.txt`));
    const cannedElsewhere = await edge.inject({ url: canned, headers: { host: 'other.test' } });
    assert.equal(cannedElsewhere.headers['x-cfsign-failure'], 'BAD_SIGNATURE');
    for (const host of ['edge.test/hello.txt?', 'user@edge.test', 'edge test']) {
      const response = await edge.inject({ url: target, headers: { host } });
      assert.equal(response.statusCode, 400, host);
    }
  });

  it("keeps the viewer's own query in the URL judged, so a signed query cannot be changed", async (t) => {
    const { edge } = await buildTestEdge(t);
    const url = signedUrl(`${DISTRIBUTION}/hello.txt?lang=en`);
    const response = await edge.inject({ url: targetOf(url), headers: { host: HOST } });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.rawPayload, sampleFile('hello.txt'));
    const changed = await edge.inject({
      url: targetOf(url).replace('lang=en', 'lang=fr'),
      headers: { host: HOST },
    });
    assert.equal(changed.statusCode, 403);
    assert.equal(changed.headers['x-cfsign-failure'], 'BAD_SIGNATURE');
  });

  it("checks a policy's IP condition against the viewer's address", async (t) => {
    const { edge } = await buildTestEdge(t);
    const url = signedUrl(`${DISTRIBUTION}/hello.txt`, { ipAddress: '203.0.113.0/24' });
    const inside = await edge.inject({
      url: targetOf(url),
      headers: { host: HOST },
      remoteAddress: '203.0.113.7',
    });
    assert.equal(inside.statusCode, 200);
    const outside = await edge.inject({
      url: targetOf(url),
      headers: { host: HOST },
      remoteAddress: '198.51.100.1',
    });
    assert.equal(outside.statusCode, 403);
    assert.equal(outside.headers['x-cfsign-failure'], 'IP_MISMATCH');
  });

  it('verifies links signed with any key of its key group, ECDSA and SHA-256 included', async (t) => {
    const { edge } = await buildTestEdge(t);
    const url = signUrl({
      ...ECDSA,
      url: `${DISTRIBUTION}/hello.txt`,
      expires: NOW_SECONDS + 60,
      now: NOW,
    }).url;
    assert.match(url, /Hash-Algorithm=SHA256/);
    const response = await edge.inject({ url: targetOf(url), headers: { host: HOST } });
    assert.equal(response.statusCode, 200);
  });

  it('answers 404 NoSuchKey to a valid signature for a file that does not exist', async (t) => {
    const { edge } = await buildTestEdge(t);
    const response = await edge.inject({
      url: targetOf(signedUrl(`${DISTRIBUTION}/videos/missing.mp4`)),
      headers: { host: HOST },
    });
    assert.equal(response.statusCode, 404);
    assert.match(response.body, /<Code>NoSuchKey<\/Code>/);
    assert.equal(response.headers['x-cfsign-reason'], 'no file /videos/missing.mp4 under the root');
  });

  it('never lists a folder: a valid signature for / or videos/ gets 404', async (t) => {
    const { edge } = await buildTestEdge(t);
    const cookie = signedCookieHeader(`${DISTRIBUTION}/*`);
    for (const path of ['/', '/videos/', '/videos', '/images//poster.png']) {
      const response = await edge.inject({ url: path, headers: { host: HOST, cookie } });
      assert.equal(response.statusCode, 404, path);
      assert.doesNotMatch(response.body, /intro/);
    }
  });

  it('refuses methods other than GET and HEAD with 403, as a distribution allowing GET and HEAD does', async (t) => {
    const { edge } = await buildTestEdge(t);
    const target = targetOf(signedUrl(`${DISTRIBUTION}/hello.txt`));
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE'] as const) {
      const response = await edge.inject({ method, url: target, headers: { host: HOST } });
      assert.equal(response.statusCode, 403, method);
      assert.equal(
        response.headers['x-cfsign-reason'],
        `the edge allows only GET and HEAD, not ${method}`,
      );
    }
  });

  it('refuses methods the router does not know (PROPFIND, MKCOL) with the same 403', async (t) => {
    const { edge } = await buildTestEdge(t);
    const target = targetOf(signedUrl(`${DISTRIBUTION}/hello.txt`));
    for (const method of ['PROPFIND', 'MKCOL', 'LOCK'] as const) {
      const response = await edge.inject({ method, url: target, headers: { host: HOST } });
      assert.equal(response.statusCode, 403, method);
      assert.equal(
        response.headers['x-cfsign-reason'],
        `the edge allows only GET and HEAD, not ${method}`,
      );
    }
  });

  it('refuses a request with two Host headers with 400', async (t) => {
    const { edge } = await buildTestEdge(t);
    const target = targetOf(signedUrl(`${DISTRIBUTION}/hello.txt`));
    const response = await edge.inject({
      url: target,
      headers: { host: [HOST, 'evil.example'] as unknown as string },
    });
    assert.equal(response.statusCode, 400);
    assert.match(String(response.headers['x-cfsign-reason']), /one valid Host header/);
  });

  it('keeps a signature out of the log even when the link arrives with its ? escaped', async (t) => {
    const { edge, logText } = await buildTestEdge(t);
    const signed = signedUrl(`${DISTRIBUTION}/hello.txt`);
    const escaped = targetOf(signed).replace('?', '%3F').replaceAll('&', '%26');
    const response = await edge.inject({ url: escaped, headers: { host: HOST } });
    assert.equal(response.statusCode, 403);
    assert.ok(!logText().includes(queryValue(signed, 'Signature').slice(0, 24)));
    assert.doesNotMatch(logText(), /Signature/);
  });

  it('logs one line per request with its path only: never the query, a signature, a policy or a cookie', async (t) => {
    const { edge, logText } = await buildTestEdge(t);
    const url = signedUrl(`${DISTRIBUTION}/hello.txt`, { resource: `${DISTRIBUTION}/*` });
    const cookie = signedCookieHeader(`${DISTRIBUTION}/videos/*`);
    await edge.inject({ url: targetOf(url), headers: { host: HOST } });
    await edge.inject({ url: targetOf(tamperSignature(url)), headers: { host: HOST } });
    await edge.inject({ url: '/videos/intro.vtt', headers: { host: HOST, cookie } });
    const lines = logText()
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line['msg'] === 'request');
    assert.deepEqual(
      lines.map(({ path, status, credential, failure }) => ({ path, status, credential, failure })),
      [
        { path: '/hello.txt', status: 200, credential: 'url', failure: undefined },
        { path: '/hello.txt', status: 403, credential: 'url', failure: 'BAD_SIGNATURE' },
        { path: '/videos/intro.vtt', status: 200, credential: 'cookies', failure: undefined },
      ],
    );
    const secrets = [
      queryValue(url, 'Signature'),
      queryValue(url, 'Policy'),
      ...cookie
        .split('; ')
        .filter((pair) => /^CloudFront-(Policy|Signature)=/.test(pair))
        .map((pair) => pair.slice(pair.indexOf('=') + 1)),
    ];
    assert.equal(secrets.length, 4);
    for (const secret of secrets) assert.ok(!logText().includes(secret.slice(0, 24)));
    assert.doesNotMatch(logText(), /Signature=|Policy=|Expires=/);
  });
});

describe('buildEdge', () => {
  it('refuses to build without exactly one of a root folder and an origin, with ERR_USAGE', async () => {
    await assert.rejects(
      buildEdge({ keys: TRUSTED_KEYS } as unknown as Parameters<typeof buildEdge>[0]),
      signerError('ERR_USAGE', 'give the edge either a root folder or an origin URL'),
    );
    await assert.rejects(
      buildEdge({
        root: '.',
        origin: 'http://127.0.0.1:1',
        keys: TRUSTED_KEYS,
      } as unknown as Parameters<typeof buildEdge>[0]),
      signerError('ERR_USAGE', 'give the edge either a root folder or an origin URL'),
    );
  });

  it('refuses a root that is missing or not a folder, and an origin that is not a plain http(s) URL', async () => {
    await assert.rejects(
      buildEdge({ root: '/nonexistent/cfsign-edge-root', keys: TRUSTED_KEYS }),
      signerError('ERR_USAGE', 'the root folder does not exist'),
    );
    await assert.rejects(
      buildEdge({ root: new URL(import.meta.url).pathname, keys: TRUSTED_KEYS }),
      signerError('ERR_USAGE', 'the root is not a folder'),
    );
    for (const origin of ['127.0.0.1:3000', 'ftp://127.0.0.1/', 'http://127.0.0.1:3000/?a=b']) {
      await assert.rejects(
        buildEdge({ origin, keys: TRUSTED_KEYS }),
        { code: 'ERR_USAGE' },
        origin,
      );
    }
  });
});
