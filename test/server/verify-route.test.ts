import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { signUrl } from '../../src/core/sign-url.ts';
import type { App } from '../../src/server/context.ts';
import { DISTRIBUTION, OTHER_RSA, RSA } from '../helpers/fixtures.ts';
import {
  assertAccepted,
  assertCookiesAccepted,
  AUTH,
  build,
  NOW,
  NOW_SECONDS,
} from '../helpers/server.ts';

interface VerdictBody {
  valid: boolean;
  reason: string;
  failure?: string;
  cloudFrontError?: string;
  warnings: string[];
  policyType?: string;
  keyPairId?: string;
  hash?: string;
  requestUrl?: string;
  resource?: string;
  expiresAt?: number;
  notBefore?: number;
  ipAddress?: string;
}

interface ErrorBody {
  error: string;
  message: string;
  requestId: string;
}

const VERDICT_FIELDS = new Set([
  'valid',
  'reason',
  'failure',
  'cloudFrontError',
  'warnings',
  'policyType',
  'keyPairId',
  'hash',
  'requestUrl',
  'resource',
  'expiresAt',
  'notBefore',
  'ipAddress',
]);

async function generate(app: App, objectKey: string): Promise<string> {
  const response = await app.inject({
    method: 'GET',
    url: '/generate-signed-url',
    query: { object_key: objectKey },
    headers: AUTH,
  });
  assert.equal(response.statusCode, 200, response.body);
  const { signed_url: url } = response.json<{ signed_url: string }>();
  assertAccepted(url);
  return url;
}

async function signCookies(app: App): Promise<Record<string, string>> {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/signed-cookies',
    headers: AUTH,
    payload: { resource: 'videos/*', expiresIn: 600 },
  });
  assert.equal(response.statusCode, 200, response.body);
  const { cookies } = response.json<{ cookies: Record<string, string> }>();
  assertCookiesAccepted(`${DISTRIBUTION}/videos/x.mp4`, cookies);
  return cookies;
}

async function verify(
  app: App,
  payload: Record<string, unknown>,
  headers: Record<string, string> = AUTH,
): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/v1/verify', headers, payload });
}

/** The verdict, after checking it carries no policy and none of the given secrets. */
function verdictOf(response: LightMyRequestResponse, ...secrets: string[]): VerdictBody {
  assert.equal(response.statusCode, 200, response.body);
  assert.equal(response.headers['cache-control'], 'no-store');
  const body = response.json<VerdictBody>();
  assert.equal('policy' in body, false);
  for (const field of Object.keys(body)) assert.ok(VERDICT_FIELDS.has(field), field);
  assert.doesNotMatch(response.body, /"policy"|\{\\"Statement\\"/);
  for (const secret of secrets) {
    assert.ok(secret.length > 20);
    assert.equal(response.body.includes(secret), false, 'the response repeats a secret');
  }
  return body;
}

function signatureOf(url: string): string {
  const signature = new URL(url).searchParams.get('Signature');
  assert.ok(signature !== null && signature !== '');
  return signature;
}

describe('POST /v1/verify', () => {
  it('says a link from /generate-signed-url is valid, without its signature or policy', async (t) => {
    const { app } = await build(t);
    const url = await generate(app, 'videos/intro.mp4');
    const verdict = verdictOf(await verify(app, { url }), signatureOf(url));
    assert.equal(verdict.valid, true);
    assert.equal(verdict.reason, 'valid until 2026-06-01T13:00:00Z (expires in 60 min)');
    assert.equal(verdict.failure, undefined);
    assert.equal(verdict.policyType, 'canned');
    assert.equal(verdict.keyPairId, RSA.keyPairId);
    assert.equal(verdict.hash, 'sha1');
    assert.equal(verdict.requestUrl, `${DISTRIBUTION}/videos/intro.mp4`);
    assert.equal(verdict.expiresAt, NOW_SECONDS + 3600);
    assert.deepEqual(verdict.warnings, []);
  });

  it('says a link for a key with spaces and a question mark is valid', async (t) => {
    const { app } = await build(t);
    const url = await generate(app, 'talks/ünï code?.mp4');
    const verdict = verdictOf(await verify(app, { url }), signatureOf(url));
    assert.equal(verdict.valid, true, verdict.reason);
    assert.equal(verdict.requestUrl, `${DISTRIBUTION}/talks/%C3%BCn%C3%AF%20code%3F.mp4`);
  });

  it('says a link whose path was changed is refused, with the failure, reason and CloudFront error', async (t) => {
    const { app } = await build(t);
    const url = await generate(app, 'videos/intro.mp4');
    const tampered = url.replace('/videos/intro.mp4?', '/videos/outro.mp4?');
    const verdict = verdictOf(await verify(app, { url: tampered }), signatureOf(url));
    assert.equal(verdict.valid, false);
    assert.equal(verdict.failure, 'BAD_SIGNATURE');
    assert.equal(verdict.cloudFrontError, 'AccessDenied');
    assert.match(verdict.reason, /signature does not match/);
  });

  it('says a link whose expiry was pushed back is refused', async (t) => {
    const { app } = await build(t);
    const url = await generate(app, 'videos/intro.mp4');
    const tampered = url.replace(`Expires=${NOW_SECONDS + 3600}`, `Expires=${NOW_SECONDS + 7200}`);
    assert.notEqual(tampered, url);
    const verdict = verdictOf(await verify(app, { url: tampered }));
    assert.equal(verdict.valid, false);
    assert.equal(verdict.failure, 'BAD_SIGNATURE');
    assert.equal(verdict.cloudFrontError, 'AccessDenied');
  });

  it('says a percent-encoded signature is malformed', async (t) => {
    const { app } = await build(t);
    const url = await generate(app, 'videos/intro.mp4');
    const signature = signatureOf(url);
    const tampered = url.replace(signature, `${signature.slice(0, -2)}%3D`);
    const verdict = verdictOf(await verify(app, { url: tampered }), signature);
    assert.equal(verdict.failure, 'MALFORMED_SIGNATURE');
    assert.equal(verdict.cloudFrontError, 'MalformedSignature');
    assert.match(verdict.reason, /percent-encoded/);
  });

  it('says a link signed by a key the service does not hold has an unknown key', async (t) => {
    const { app } = await build(t);
    const { url } = signUrl({
      ...OTHER_RSA,
      url: `${DISTRIBUTION}/videos/intro.mp4`,
      expires: '1h',
      now: NOW,
    });
    const verdict = verdictOf(await verify(app, { url }), signatureOf(url));
    assert.equal(verdict.valid, false);
    assert.equal(verdict.failure, 'UNKNOWN_KEY');
    assert.equal(verdict.cloudFrontError, 'InvalidKey');
    assert.match(verdict.reason, /K3OTHERRSAKEY/);
  });

  it('says a link without its signature is missing a parameter', async (t) => {
    const { app } = await build(t);
    const url = await generate(app, 'videos/intro.mp4');
    const stripped = url.replace(/&Signature=[^&]*/, '');
    const verdict = verdictOf(await verify(app, { url: stripped }));
    assert.equal(verdict.failure, 'MISSING_PARAMETER');
    assert.equal(verdict.cloudFrontError, 'MissingKey');
  });

  for (const [form, at] of [
    ['epoch seconds', NOW_SECONDS + 3600],
    ['ISO-8601', '2026-06-01T13:00:00Z'],
  ] as const) {
    it(`says a link is expired at its expiry given as ${form}`, async (t) => {
      const { app } = await build(t);
      const url = await generate(app, 'videos/intro.mp4');
      const verdict = verdictOf(await verify(app, { url, at }), signatureOf(url));
      assert.equal(verdict.valid, false);
      assert.equal(verdict.failure, 'EXPIRED');
      assert.equal(verdict.cloudFrontError, 'AccessDenied');
      assert.match(verdict.reason, /^expired .*2026-06-01T13:00:00Z/);
    });
  }

  it('says a link is still valid one second before its expiry', async (t) => {
    const { app } = await build(t);
    const url = await generate(app, 'videos/intro.mp4');
    const verdict = verdictOf(await verify(app, { url, at: NOW_SECONDS + 3599 }));
    assert.equal(verdict.valid, true, verdict.reason);
  });

  it('checks an IP condition against the viewer address given', async (t) => {
    const { app } = await build(t);
    const signed = await app.inject({
      method: 'POST',
      url: '/v1/signed-urls',
      headers: AUTH,
      payload: { items: [{ key: 'videos/a.mp4', ipAddress: '203.0.113.0/24' }] },
    });
    const [item] = signed.json<{ items: { url: string }[] }>().items;
    assert.ok(item);
    assertAccepted(item.url, NOW, '203.0.113.1');
    const unchecked = verdictOf(await verify(app, { url: item.url }));
    assert.equal(unchecked.valid, true);
    assert.match(unchecked.warnings.join('\n'), /203\.0\.113\.0\/24.*not checked/);
    const inside = verdictOf(await verify(app, { url: item.url, ipAddress: '203.0.113.1' }));
    assert.equal(inside.valid, true);
    assert.deepEqual(inside.warnings, []);
    const outside = verdictOf(await verify(app, { url: item.url, ipAddress: '198.51.100.1' }));
    assert.equal(outside.failure, 'IP_MISMATCH');
  });

  it('judges signed cookies given as name-value pairs', async (t) => {
    const { app } = await build(t);
    const cookies = await signCookies(app);
    const signature = cookies['CloudFront-Signature'] ?? '';
    const policy = cookies['CloudFront-Policy'] ?? '';
    const inside = verdictOf(
      await verify(app, { url: `${DISTRIBUTION}/videos/x.mp4`, cookies }),
      signature,
      policy,
    );
    assert.equal(inside.valid, true, inside.reason);
    assert.equal(inside.policyType, 'custom');
    assert.equal(inside.resource, `${DISTRIBUTION}/videos/*`);
    assert.equal(inside.expiresAt, NOW_SECONDS + 600);
    const outside = verdictOf(
      await verify(app, { url: `${DISTRIBUTION}/audio/x.mp3`, cookies }),
      signature,
      policy,
    );
    assert.equal(outside.valid, false);
    assert.equal(outside.failure, 'RESOURCE_MISMATCH');
    assert.equal(outside.cloudFrontError, 'AccessDenied');
  });

  it('judges signed cookies given as a Cookie header', async (t) => {
    const { app } = await build(t);
    const cookies = await signCookies(app);
    const header = [
      'session=abc',
      ...Object.entries(cookies).map(([name, value]) => `${name}=${value}`),
    ].join('; ');
    const verdict = verdictOf(
      await verify(app, { url: `${DISTRIBUTION}/videos/x.mp4`, cookies: header }),
      cookies['CloudFront-Signature'] ?? '',
    );
    assert.equal(verdict.valid, true, verdict.reason);
    const expired = verdictOf(
      await verify(app, {
        url: `${DISTRIBUTION}/videos/x.mp4`,
        cookies: header,
        at: NOW_SECONDS + 600,
      }),
    );
    assert.equal(expired.failure, 'EXPIRED');
  });

  it('says cookies sent twice are refused', async (t) => {
    const { app } = await build(t);
    const cookies = await signCookies(app);
    const once = Object.entries(cookies).map(([name, value]) => `${name}=${value}`);
    const verdict = verdictOf(
      await verify(app, {
        url: `${DISTRIBUTION}/videos/x.mp4`,
        cookies: [...once, once[0] ?? ''].join('; '),
      }),
    );
    assert.equal(verdict.failure, 'DUPLICATE_PARAMETER');
  });

  it('refuses a request without a url', async (t) => {
    const { app } = await build(t);
    const response = await verify(app, { at: NOW_SECONDS });
    assert.equal(response.statusCode, 400);
    const body = response.json<ErrorBody>();
    assert.deepEqual(Object.keys(body).sort(), ['error', 'message', 'requestId']);
    assert.equal(body.error, 'ERR_REQUEST_INVALID');
    assert.match(body.message, /missing required field 'url'/);
  });

  it('refuses an at that is not a time', async (t) => {
    const { app } = await build(t);
    const url = await generate(app, 'videos/intro.mp4');
    const response = await verify(app, { url, at: 'tomorrow' });
    assert.equal(response.statusCode, 400);
    const body = response.json<ErrorBody>();
    assert.equal(body.error, 'ERR_DATE_INVALID');
    assert.match(body.message, /'tomorrow' is not epoch seconds/);
  });

  it('refuses a request without a token with 401, saying nothing about the link', async (t) => {
    const { app } = await build(t);
    const url = await generate(app, 'videos/intro.mp4');
    const response = await verify(app, { url }, {});
    assert.equal(response.statusCode, 401);
    assert.equal(response.headers['cache-control'], 'no-store');
    const body = response.json<ErrorBody>();
    assert.deepEqual(Object.keys(body).sort(), ['error', 'message', 'requestId']);
    assert.equal(body.error, 'ERR_AUTH_REQUIRED');
    assert.match(body.message, /Bearer/);
    assert.doesNotMatch(response.body, /"valid"|"reason"|Signature|intro\.mp4/);
  });
});

describe('POST /v1/verify viewer address', () => {
  it('refuses a viewer address that is not an IP address with 400 ERR_IP_INVALID', async (t) => {
    const { app } = await build(t);
    const signed = (
      await app.inject({ url: '/generate-signed-url?object_key=a.mp4', headers: AUTH })
    ).json<{ signed_url: string }>().signed_url;
    const response = await app.inject({
      method: 'POST',
      url: '/v1/verify',
      headers: AUTH,
      payload: { url: signed, ipAddress: 'garbage' },
    });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json<{ error: string }>().error, 'ERR_IP_INVALID');
  });
});
