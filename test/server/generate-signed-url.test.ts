import assert from 'node:assert/strict';
import { connect, type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { buildObjectUrl } from '../../src/core/signable-url.ts';
import { verifyUrl } from '../../src/core/verify.ts';
import { DISTRIBUTION, RSA } from '../helpers/fixtures.ts';
import {
  assertAccepted,
  AUTH,
  build,
  NOW,
  NOW_SECONDS,
  PRODUCTION_ENV,
  TOKENS,
} from '../helpers/server.ts';

function query(objectKey: string, extra = ''): string {
  return `/generate-signed-url?object_key=${encodeURIComponent(objectKey)}${extra}`;
}

describe('GET /generate-signed-url (the Flask contract)', () => {
  const keys = [
    'videos/a.mp4',
    'dir/a b.mp4',
    'ünï/çödé.txt',
    'q?x#y.txt',
    '100%.txt',
    'x+y=z&w.txt',
    'a*b.mp4',
    'emoji/🎬.mp4',
  ];
  for (const objectKey of keys) {
    it(`answers {"signed_url"} opening exactly ${JSON.stringify(objectKey)}`, async (t) => {
      const { app } = await build(t);
      const response = await app.inject({ url: query(objectKey), headers: AUTH });
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.headers['cache-control'], 'no-store');
      assert.match(String(response.headers['content-type']), /^application\/json/);
      const body = response.json<{ signed_url: string }>();
      assert.deepEqual(Object.keys(body), ['signed_url']);
      const objectUrl = buildObjectUrl(DISTRIBUTION, objectKey);
      assert.ok(
        body.signed_url.startsWith(`${objectUrl}?Expires=${NOW_SECONDS + 3600}&Signature=`),
      );
      const verdict = assertAccepted(body.signed_url);
      assert.equal(verdict.requestUrl, objectUrl);
      assert.equal(verdict.policyType, 'canned');
    });
  }

  it('never lets a * or ? in a key open another object', async (t) => {
    const { app } = await build(t);
    const body = (await app.inject({ url: query('clips/*.mp4'), headers: AUTH })).json<{
      signed_url: string;
    }>();
    const other = body.signed_url.replace('/clips/%2A.mp4', '/clips/secret.mp4');
    const verdict = verifyUrl(other, { keys: new Map([[RSA.keyPairId, RSA.publicKey]]), now: NOW });
    assert.equal(verdict.valid, false);
  });

  it('uses ttl seconds when given', async (t) => {
    const { app } = await build(t);
    const response = await app.inject({ url: query('a.mp4', '&ttl=60'), headers: AUTH });
    assert.equal(
      assertAccepted(response.json<{ signed_url: string }>().signed_url).expiresAt,
      NOW_SECONDS + 60,
    );
  });

  it('takes its default and maximum TTL from CFSIGN_DEFAULT_TTL and CFSIGN_MAX_TTL', async (t) => {
    const { app } = await build(t, {
      ...PRODUCTION_ENV,
      CFSIGN_DEFAULT_TTL: '15m',
      CFSIGN_MAX_TTL: '1h',
    });
    const response = await app.inject({ url: query('a.mp4'), headers: AUTH });
    assert.equal(
      assertAccepted(response.json<{ signed_url: string }>().signed_url).expiresAt,
      NOW_SECONDS + 900,
    );
    const tooLong = await app.inject({ url: query('a.mp4', '&ttl=3601'), headers: AUTH });
    assert.equal(tooLong.statusCode, 400);
    assert.equal(tooLong.json<{ error: string }>().error, 'ERR_TTL_TOO_LONG');
    assert.match(
      tooLong.json<{ message: string }>().message,
      /3601 s is above this distribution's maximum of 3600 s/,
    );
  });

  it('signs with SHA-256 when CFSIGN_HASH=sha256', async (t) => {
    const { app } = await build(t, { ...PRODUCTION_ENV, CFSIGN_HASH: 'sha256' });
    const url = (await app.inject({ url: query('a.mp4'), headers: AUTH })).json<{
      signed_url: string;
    }>().signed_url;
    assert.match(url, /&Hash-Algorithm=SHA256$/);
    assertAccepted(url);
  });

  const badTtls = ['1e400', 'Infinity', '0x10', '60.5', '-1', '0', '', ' 60', '60s', '01'];
  for (const ttl of badTtls) {
    it(`refuses ttl=${JSON.stringify(ttl)} with 400 ERR_REQUEST_INVALID, never coerced`, async (t) => {
      const { app } = await build(t);
      const response = await app.inject({
        url: query('a.mp4', `&ttl=${encodeURIComponent(ttl)}`),
        headers: AUTH,
      });
      assert.equal(response.statusCode, 400, response.body);
      assert.deepEqual(Object.keys(response.json<object>()), ['error', 'message', 'requestId']);
      assert.equal(response.json<{ error: string }>().error, 'ERR_REQUEST_INVALID');
      assert.equal(response.headers['cache-control'], 'no-store');
    });
  }

  const badRequests: [string, string, string, RegExp][] = [
    [
      'a missing object_key',
      '/generate-signed-url',
      'ERR_REQUEST_INVALID',
      /missing required parameter 'object_key'/,
    ],
    [
      'an empty object_key',
      '/generate-signed-url?object_key=',
      'ERR_REQUEST_INVALID',
      /object_key must be one non-empty object key/,
    ],
    [
      'a repeated object_key',
      '/generate-signed-url?object_key=a&object_key=b',
      'ERR_REQUEST_INVALID',
      /'object_key' is given more than once/,
    ],
    [
      'an unknown parameter',
      '/generate-signed-url?object_key=a&expires=9',
      'ERR_REQUEST_INVALID',
      /unknown parameter 'expires'/,
    ],
    [
      'escapes that are not UTF-8',
      '/generate-signed-url?object_key=%FF.mp4',
      'ERR_REQUEST_INVALID',
      /not UTF-8/,
    ],
    [
      'a dot segment',
      `/generate-signed-url?object_key=${encodeURIComponent('a/../b')}`,
      'ERR_OBJECT_KEY_INVALID',
      /'\.' or '\.\.' path segment/,
    ],
    [
      'a control character',
      '/generate-signed-url?object_key=a%0Ab',
      'ERR_OBJECT_KEY_INVALID',
      /control character U\+000A/,
    ],
    [
      'a bidi override',
      '/generate-signed-url?object_key=a%E2%80%AEb',
      'ERR_OBJECT_KEY_INVALID',
      /U\+202E/,
    ],
    [
      'a key over 1,024 bytes',
      `/generate-signed-url?object_key=${'%C3%BC'.repeat(513)}`,
      'ERR_OBJECT_KEY_INVALID',
      /1026 bytes of UTF-8/,
    ],
  ];
  for (const [what, url, code, message] of badRequests) {
    it(`answers 400 ${code} for ${what}`, async (t) => {
      const { app } = await build(t);
      const response = await app.inject({ url, headers: AUTH });
      assert.equal(response.statusCode, 400, response.body);
      const body = response.json<{ error: string; message: string; requestId: string }>();
      assert.equal(body.error, code);
      assert.match(body.message, message);
      assert.equal(body.requestId, response.headers['request-id'] ?? body.requestId);
    });
  }
});

/** Sends bytes as they are (two headers of one name, say) and returns the whole answer. */
function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(request));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    socket.on('end', () => {
      resolve(answer);
    });
    socket.on('error', reject);
  });
}

describe('authentication', () => {
  const failures: [string, Record<string, string>][] = [
    ['no Authorization header', {}],
    ['an unknown token', { authorization: 'Bearer tok-unknown-0123456789abcdef' }],
    ['a token of another length', { authorization: 'Bearer x' }],
    ['a token in another case', { authorization: `Bearer ${TOKENS.web.toUpperCase()}` }],
    [
      'Basic credentials',
      { authorization: `Basic ${Buffer.from(`web:${TOKENS.web}`).toString('base64')}` },
    ],
    // Node trims a trailing space off a real header, so only inner whitespace reaches cfsign.
    ['two spaces after the scheme', { authorization: `Bearer  ${TOKENS.web}` }],
    ['two tokens', { authorization: `Bearer ${TOKENS.web}, Bearer ${TOKENS.batch}` }],
  ];
  for (const [what, headers] of failures) {
    it(`answers the same 401 for ${what}`, async (t) => {
      const { app } = await build(t);
      const response = await app.inject({ url: '/generate-signed-url?object_key=a', headers });
      assert.equal(response.statusCode, 401);
      assert.equal(response.headers['www-authenticate'], 'Bearer');
      const { requestId, ...rest } = response.json<{ requestId: string }>();
      assert.equal(typeof requestId, 'string');
      assert.deepEqual(rest, {
        error: 'ERR_AUTH_REQUIRED',
        message: 'a valid API token is required: send Authorization: Bearer <token>',
      });
    });
  }

  it('answers 401 to a request with two Authorization headers, even if the first is valid', async (t) => {
    const server = await build(t);
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = server.app.server.address() as AddressInfo;
    const response = await rawRequest(
      port,
      `GET /generate-signed-url?object_key=a HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKENS.web}\r\nAuthorization: Bearer ${TOKENS.batch}\r\nConnection: close\r\n\r\n`,
    );
    assert.match(response, /^HTTP\/1\.1 401 /);
    assert.doesNotMatch(response, /signed_url/);
  });

  it('accepts every configured client and names it in the log', async (t) => {
    const server = await build(t);
    for (const [client, token] of Object.entries(TOKENS)) {
      const response = await server.app.inject({
        url: '/generate-signed-url?object_key=a',
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(response.statusCode, 200);
      assert.ok(server.logs.some((line) => line['client'] === client && line['status'] === 200));
    }
  });

  it('accepts the scheme in any case, as HTTP says', async (t) => {
    const { app } = await build(t);
    const response = await app.inject({
      url: '/generate-signed-url?object_key=a',
      headers: { authorization: `bearer ${TOKENS.web}` },
    });
    assert.equal(response.statusCode, 200);
  });

  it('authenticates before validating, so a bad request without a token is a 401', async (t) => {
    const { app } = await build(t);
    assert.equal((await app.inject({ url: '/generate-signed-url?ttl=abc' })).statusCode, 401);
  });

  it('needs no token with CFSIGN_AUTH=none', async (t) => {
    const { CFSIGN_API_KEYS: _keys, ...env } = PRODUCTION_ENV;
    const { app } = await build(t, { ...env, CFSIGN_AUTH: 'none' });
    assert.equal((await app.inject({ url: '/generate-signed-url?object_key=a' })).statusCode, 200);
  });
});

describe('logging', () => {
  it('writes one line per request without the token, the link, the signature or the key path', async (t) => {
    const server = await build(t);
    const response = await server.app.inject({
      url: '/generate-signed-url?object_key=videos/a.mp4',
      headers: AUTH,
    });
    const signedUrl = response.json<{ signed_url: string }>().signed_url;
    const signature = /Signature=([^&]+)/.exec(signedUrl)?.[1] ?? 'missing';
    await server.app.inject({
      url: '/generate-signed-url?object_key=b',
      headers: { authorization: 'Bearer wrong-token-0123456789' },
    });
    const lines = server.logs.filter((line) => line['msg'] === 'request');
    assert.equal(lines.length, 2);
    assert.deepEqual(
      {
        client: lines[0]?.['client'],
        route: lines[0]?.['route'],
        status: lines[0]?.['status'],
        keyPairId: lines[0]?.['keyPairId'],
      },
      { client: 'web', route: '/generate-signed-url', status: 200, keyPairId: RSA.keyPairId },
    );
    assert.equal(typeof lines[0]?.['latencyMs'], 'number');
    const text = server.logText();
    for (const secret of [
      TOKENS.web,
      'wrong-token-0123456789',
      signature,
      'Signature=',
      'rsa-2048.pkcs8.pem',
      'BEGIN',
    ]) {
      assert.ok(!text.includes(secret), `the log contains ${secret}`);
    }
  });

  it('keeps every secret out of the log at the trace level too, for every signing route', async (t) => {
    const server = await build(t, { ...PRODUCTION_ENV, CFSIGN_LOG_LEVEL: 'trace' });
    const responses = [
      await server.app.inject({
        url: '/generate-signed-url?object_key=videos/a.mp4',
        headers: AUTH,
      }),
      await server.app.inject({
        method: 'POST',
        url: '/v1/signed-urls',
        headers: AUTH,
        payload: { items: [{ key: 'videos/b.mp4', ipAddress: '203.0.113.0/24' }] },
      }),
      await server.app.inject({
        method: 'POST',
        url: '/v1/signed-cookies',
        headers: AUTH,
        payload: { resource: 'videos/*' },
      }),
    ];
    for (const response of responses) assert.equal(response.statusCode, 200, response.body);
    const secrets = responses.flatMap((response) => [
      ...response.body.matchAll(/(?:Signature|Policy)[=":]+([A-Za-z0-9~_-]{20,})/g),
    ]);
    assert.ok(secrets.length >= 4, 'no signature or policy found in the responses');
    const text = server.logText();
    for (const [, secret] of secrets)
      assert.ok(!text.includes(secret ?? ''), 'the log holds a signature or policy');
    for (const secret of [TOKENS.web, 'rsa-2048.pkcs8.pem', 'BEGIN', 'Signature=', 'Policy=']) {
      assert.ok(!text.includes(secret), `the log contains ${secret}`);
    }
  });
});
