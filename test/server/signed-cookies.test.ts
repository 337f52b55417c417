import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { decodeCloudFrontBase64 } from '../../src/core/cloudfront-base64.ts';
import { verifyCookies } from '../../src/core/verify.ts';
import type { App } from '../../src/server/context.ts';
import { DISTRIBUTION, RSA } from '../helpers/fixtures.ts';
import {
  assertCookiesAccepted,
  AUTH,
  build,
  NOW,
  NOW_SECONDS,
  PRODUCTION_ENV,
} from '../helpers/server.ts';

interface CookiesBody {
  cookies: Record<string, string>;
  expiresAt: number;
}

interface ErrorBody {
  error: string;
  message: string;
  requestId: string;
}

const COOKIE_NAMES = ['CloudFront-Policy', 'CloudFront-Signature', 'CloudFront-Key-Pair-Id'];
const INSIDE = `${DISTRIBUTION}/videos/x.mp4`;
const OUTSIDE = `${DISTRIBUTION}/audio/x.mp3`;

async function signCookies(
  app: App,
  payload: unknown,
  headers: Record<string, string> = AUTH,
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: '/v1/signed-cookies',
    headers,
    payload: payload as Record<string, unknown>,
  });
}

function cookiesBody(response: LightMyRequestResponse): CookiesBody {
  assert.equal(response.statusCode, 200, response.body);
  const body = response.json<CookiesBody>();
  assert.deepEqual(Object.keys(body).sort(), ['cookies', 'expiresAt']);
  return body;
}

function setCookieHeaders(response: LightMyRequestResponse): string[] {
  const header = response.headers['set-cookie'];
  assert.ok(Array.isArray(header), `set-cookie is ${String(header)}`);
  return header;
}

/** name → value from Set-Cookie header values, as a browser would store them. */
function jarFrom(headers: string[]): Record<string, string> {
  const jar: Record<string, string> = {};
  for (const header of headers) {
    const [pair = ''] = header.split(';');
    const separator = pair.indexOf('=');
    jar[pair.slice(0, separator)] = pair.slice(separator + 1);
  }
  return jar;
}

function assertError(
  response: LightMyRequestResponse,
  status: number,
  code: string,
  message: RegExp,
): void {
  assert.equal(response.statusCode, status, response.body);
  const body = response.json<ErrorBody>();
  assert.deepEqual(Object.keys(body).sort(), ['error', 'message', 'requestId']);
  assert.equal(body.error, code);
  assert.match(body.message, message);
  assert.notEqual(body.requestId, '');
  assert.equal(response.headers['cache-control'], 'no-store');
  assert.equal(response.headers['set-cookie'], undefined);
}

describe('POST /v1/signed-cookies', () => {
  it('returns the three custom-policy cookies and their expiry as JSON', async (t) => {
    const { app } = await build(t);
    const body = cookiesBody(await signCookies(app, { resource: 'videos/*', expiresIn: 600 }));
    assert.deepEqual(Object.keys(body.cookies), COOKIE_NAMES);
    assert.equal(body.expiresAt, NOW_SECONDS + 600);
    assert.equal(body.cookies['CloudFront-Key-Pair-Id'], RSA.keyPairId);
    assert.equal(
      decodeCloudFrontBase64(body.cookies['CloudFront-Policy'] ?? '')?.toString('utf8'),
      `{"Statement":[{"Resource":"${DISTRIBUTION}/videos/*","Condition":{"DateLessThan":{"AWS:EpochTime":${NOW_SECONDS + 600}}}}]}`,
    );
    for (const value of Object.values(body.cookies)) assert.match(value, /^[A-Za-z0-9\-_~]+$/);
  });

  it('sends the same cookies as three Set-Cookie headers with Path=/, Secure and HttpOnly', async (t) => {
    const { app } = await build(t);
    const response = await signCookies(app, { resource: 'videos/*', expiresIn: 600 });
    const body = cookiesBody(response);
    const headers = setCookieHeaders(response);
    assert.equal(headers.length, 3);
    assert.deepEqual(
      headers,
      COOKIE_NAMES.map((name) => `${name}=${body.cookies[name] ?? ''}; Path=/; Secure; HttpOnly`),
    );
    for (const header of headers) assert.doesNotMatch(header, /Expires=|Max-Age=|Domain=/i);
  });

  it('adds the configured Domain and SameSite to the Set-Cookie headers', async (t) => {
    const { app } = await build(t, {
      ...PRODUCTION_ENV,
      CFSIGN_COOKIE_DOMAIN: 'media.example.com',
      CFSIGN_COOKIE_SAMESITE: 'Lax',
    });
    const response = await signCookies(app, { resource: 'videos/*', expiresIn: 600 });
    const body = cookiesBody(response);
    const headers = setCookieHeaders(response);
    assert.deepEqual(
      headers,
      COOKIE_NAMES.map(
        (name) =>
          `${name}=${body.cookies[name] ?? ''}; Domain=media.example.com; Path=/; Secure; HttpOnly; SameSite=Lax`,
      ),
    );
    assertCookiesAccepted(INSIDE, jarFrom(headers));
  });

  it('makes cookies that open objects under the pattern and nothing else', async (t) => {
    const { app } = await build(t);
    const response = await signCookies(app, { resource: 'videos/*', expiresIn: 600 });
    const { cookies } = cookiesBody(response);
    const verdict = assertCookiesAccepted(INSIDE, cookies);
    assert.equal(verdict.policyType, 'custom');
    assert.equal(verdict.resource, `${DISTRIBUTION}/videos/*`);
    assert.equal(verdict.expiresAt, NOW_SECONDS + 600);
    assertCookiesAccepted(`${DISTRIBUTION}/videos/deep/er/a%20b.mp4`, cookies);
    assertCookiesAccepted(INSIDE, jarFrom(setCookieHeaders(response)));
    const keys = new Map([[RSA.keyPairId, RSA.publicKey]]);
    const outside = verifyCookies(OUTSIDE, cookies, { keys, now: NOW });
    assert.equal(outside.valid, false);
    assert.equal(outside.failure, 'RESOURCE_MISMATCH');
    const late = verifyCookies(INSIDE, cookies, {
      keys,
      now: new Date((NOW_SECONDS + 600) * 1000),
    });
    assert.equal(late.failure, 'EXPIRED');
  });

  it('uses the default TTL when expiresIn is absent', async (t) => {
    const { app } = await build(t);
    const body = cookiesBody(await signCookies(app, { resource: 'videos/*' }));
    assert.equal(body.expiresAt, NOW_SECONDS + 3600);
    assertCookiesAccepted(INSIDE, body.cookies);
  });

  it('adds start and IP conditions when asked', async (t) => {
    const { app } = await build(t);
    const body = cookiesBody(
      await signCookies(app, {
        resource: 'videos/*',
        expiresIn: 600,
        notBefore: NOW_SECONDS + 60,
        ipAddress: '203.0.113.0/24',
      }),
    );
    const keys = new Map([[RSA.keyPairId, RSA.publicKey]]);
    const early = verifyCookies(INSIDE, body.cookies, { keys, now: NOW });
    assert.equal(early.failure, 'NOT_YET_VALID');
    const later = new Date((NOW_SECONDS + 61) * 1000);
    const verdict = verifyCookies(INSIDE, body.cookies, {
      keys,
      now: later,
      ipAddress: '203.0.113.9',
    });
    assert.equal(verdict.valid, true, verdict.reason);
    const outside = verifyCookies(INSIDE, body.cookies, {
      keys,
      now: later,
      ipAddress: '198.51.100.1',
    });
    assert.equal(outside.failure, 'IP_MISMATCH');
    assertCookiesAccepted(INSIDE, body.cookies, later);
  });

  it('refuses a body without a resource', async (t) => {
    const { app } = await build(t);
    assertError(
      await signCookies(app, { expiresIn: 600 }),
      400,
      'ERR_REQUEST_INVALID',
      /missing required field 'resource'/,
    );
  });

  it('refuses a resource with a question mark', async (t) => {
    const { app } = await build(t);
    assertError(
      await signCookies(app, { resource: 'videos/?.mp4', expiresIn: 600 }),
      400,
      'ERR_RESOURCE_INVALID',
      /not '\?'/,
    );
  });

  it('refuses an unknown field, naming it', async (t) => {
    const { app } = await build(t);
    assertError(
      await signCookies(app, { resource: 'videos/*', domain: 'evil.example' }),
      400,
      'ERR_REQUEST_INVALID',
      /unknown field 'domain'/,
    );
  });

  it('refuses an expiresIn above the maximum lifetime', async (t) => {
    const { app } = await build(t);
    assertError(
      await signCookies(app, { resource: 'videos/*', expiresIn: 86_401 }),
      400,
      'ERR_TTL_TOO_LONG',
      /86401 s is above this distribution's maximum of 86400 s/,
    );
  });

  it('refuses an expiresIn given as a string', async (t) => {
    const { app } = await build(t);
    assertError(
      await signCookies(app, { resource: 'videos/*', expiresIn: '600' }),
      400,
      'ERR_REQUEST_INVALID',
      /^body\.expiresIn must be integer/,
    );
  });

  it('sends Cache-Control: no-store on success and on errors', async (t) => {
    const { app } = await build(t);
    const success = await signCookies(app, { resource: 'videos/*', expiresIn: 600 });
    assertCookiesAccepted(INSIDE, cookiesBody(success).cookies);
    assert.equal(success.headers['cache-control'], 'no-store');
    const failure = await signCookies(app, { resource: 'videos/?' });
    assert.equal(failure.statusCode, 400);
    assert.equal(failure.headers['cache-control'], 'no-store');
  });

  it('refuses a request without a token with 401 and sets no cookie', async (t) => {
    const { app } = await build(t);
    assertError(
      await signCookies(app, { resource: 'videos/*' }, {}),
      401,
      'ERR_AUTH_REQUIRED',
      /Bearer/,
    );
  });
});
