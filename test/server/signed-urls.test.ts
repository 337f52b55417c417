import assert from 'node:assert/strict';
import { generateKeyPair } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { LightMyRequestResponse } from 'fastify';
import { verifyUrl } from '../../src/core/verify.ts';
import type { App } from '../../src/server/context.ts';
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
import { defaultSigner } from '../helpers/server.ts';

interface SignedItem {
  key: string;
  url: string;
  expiresAt: number;
}

interface ErrorBody {
  error: string;
  message: string;
  requestId: string;
}

const DEFAULT_TTL = 3600;
const MAX_TTL = 86_400;
const ONE_MIB = 1024 * 1024;

/** Percent-encodes a key the way the README promises, built from encodeURIComponent. */
function expectedPath(key: string): string {
  return key
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment).replace(
        /[!'()*]/g,
        (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
      ),
    )
    .join('/');
}

async function signUrls(app: App, payload: unknown): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: '/v1/signed-urls',
    headers: AUTH,
    payload: payload as Record<string, unknown>,
  });
}

async function signRaw(
  app: App,
  body: string,
  contentType = 'application/json',
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: '/v1/signed-urls',
    headers: { ...AUTH, 'content-type': contentType },
    payload: body,
  });
}

function signedItems(response: LightMyRequestResponse): SignedItem[] {
  assert.equal(response.statusCode, 200, response.body);
  const body = response.json<{ items: SignedItem[] }>();
  assert.deepEqual(Object.keys(body), ['items']);
  return body.items;
}

/** Asserts an error response: status, code, a part of the message, and exactly three fields. */
function assertError(
  response: LightMyRequestResponse,
  status: number,
  code: string,
  message: RegExp,
): ErrorBody {
  assert.equal(response.statusCode, status, response.body);
  const body = response.json<ErrorBody>();
  assert.deepEqual(Object.keys(body).sort(), ['error', 'message', 'requestId']);
  assert.equal(body.error, code);
  assert.match(body.message, message);
  assert.equal(typeof body.requestId, 'string');
  assert.notEqual(body.requestId, '');
  assert.equal(response.headers['cache-control'], 'no-store');
  return body;
}

function only(items: SignedItem[]): SignedItem {
  assert.equal(items.length, 1);
  const [item] = items;
  assert.ok(item);
  return item;
}

function at(seconds: number): Date {
  return new Date(seconds * 1000);
}

describe('POST /v1/signed-urls', () => {
  describe('signing', () => {
    it('signs a batch of tricky keys into links that verify, each key echoed and encoded once', async (t) => {
      const { app } = await build(t);
      const keys = [
        'dir/a b.mp4',
        'ünï/çödé.txt',
        'q?x#y.txt',
        '100%.txt',
        'x+y=z&w.txt',
        'a*b.mp4',
      ];
      const response = await signUrls(app, { items: keys.map((key) => ({ key })) });
      const items = signedItems(response);
      assert.equal(response.headers['cache-control'], 'no-store');
      assert.deepEqual(
        items.map((item) => item.key),
        keys,
      );
      for (const [index, item] of items.entries()) {
        const key = keys[index] ?? '';
        assert.equal(item.expiresAt, NOW_SECONDS + DEFAULT_TTL);
        assert.ok(
          item.url.startsWith(`${DISTRIBUTION}/${expectedPath(key)}?Expires=`),
          `${key} → ${item.url}`,
        );
        const verdict = assertAccepted(item.url);
        assert.equal(verdict.policyType, 'canned');
        assert.equal(verdict.expiresAt, NOW_SECONDS + DEFAULT_TTL);
        assert.equal(verdict.keyPairId, RSA.keyPairId);
      }
    });

    it('never lets a star from a key act as a wildcard', async (t) => {
      const { app } = await build(t);
      const item = only(signedItems(await signUrls(app, { items: [{ key: 'a*b.mp4' }] })));
      assert.ok(item.url.includes('/a%2Ab.mp4?'));
      assertAccepted(item.url);
      const verdict = verifyUrl(item.url.replace('/a%2Ab.mp4?', '/aXb.mp4?'), {
        keys: new Map([[RSA.keyPairId, RSA.publicKey]]),
        now: NOW,
      });
      assert.equal(verdict.valid, false);
      assert.equal(verdict.failure, 'BAD_SIGNATURE');
    });

    it('gives each item its own expiresIn and the default TTL to the others', async (t) => {
      const { app } = await build(t);
      const items = signedItems(
        await signUrls(app, { items: [{ key: 'a.mp4', expiresIn: 600 }, { key: 'b.mp4' }] }),
      );
      assert.deepEqual(
        items.map((item) => item.expiresAt),
        [NOW_SECONDS + 600, NOW_SECONDS + DEFAULT_TTL],
      );
      const first = assertAccepted(items[0]?.url ?? '');
      assert.equal(first.expiresAt, NOW_SECONDS + 600);
      const late = verifyUrl(items[0]?.url ?? '', {
        keys: new Map([[RSA.keyPairId, RSA.publicKey]]),
        now: at(NOW_SECONDS + 600),
      });
      assert.equal(late.failure, 'EXPIRED');
    });

    it('accepts an expiresIn equal to the maximum lifetime', async (t) => {
      const { app } = await build(t);
      const item = only(
        signedItems(await signUrls(app, { items: [{ key: 'a.mp4', expiresIn: MAX_TTL }] })),
      );
      assert.equal(item.expiresAt, NOW_SECONDS + MAX_TTL);
      assertAccepted(item.url);
    });

    it('accepts the token of every configured client, with the scheme in any case', async (t) => {
      const { app } = await build(t);
      for (const authorization of [`Bearer ${TOKENS.batch}`, `bearer ${TOKENS.web}`]) {
        const response = await app.inject({
          method: 'POST',
          url: '/v1/signed-urls',
          headers: { authorization },
          payload: { items: [{ key: 'a.mp4' }] },
        });
        assertAccepted(only(signedItems(response)).url);
      }
    });

    it('accepts application/json with a charset parameter', async (t) => {
      const { app } = await build(t);
      const response = await signRaw(
        app,
        '{"items":[{"key":"a.mp4"}]}',
        'application/json; charset=utf-8',
      );
      assertAccepted(only(signedItems(response)).url);
    });
  });

  describe('custom policies', () => {
    it('makes a resource pattern link that also opens other keys under the pattern, and nothing else', async (t) => {
      const { app } = await build(t);
      const item = only(
        signedItems(
          await signUrls(app, { items: [{ key: 'videos/a.mp4', resource: 'videos/*' }] }),
        ),
      );
      assert.equal(item.key, 'videos/a.mp4');
      assert.ok(item.url.startsWith(`${DISTRIBUTION}/videos/a.mp4?Policy=`));
      const verdict = assertAccepted(item.url);
      assert.equal(verdict.policyType, 'custom');
      assert.equal(verdict.resource, `${DISTRIBUTION}/videos/*`);
      assertAccepted(item.url.replace('/videos/a.mp4?', '/videos/b.mp4?'));
      const elsewhere = verifyUrl(item.url.replace('/videos/a.mp4?', '/audio/x?'), {
        keys: new Map([[RSA.keyPairId, RSA.publicKey]]),
        now: NOW,
      });
      assert.equal(elsewhere.valid, false);
      assert.equal(elsewhere.failure, 'RESOURCE_MISMATCH');
    });

    it('refuses a resource that does not cover the key, naming the item', async (t) => {
      const { app } = await build(t);
      assertError(
        await signUrls(app, { items: [{ key: 'audio/x.mp3', resource: 'videos/*' }] }),
        400,
        'ERR_RESOURCE_MISMATCH',
        /^items\[0\]: .*does not match/,
      );
      assertError(
        await signUrls(app, {
          items: [{ key: 'videos/a.mp4' }, { key: 'videos/b.mp4' }, { key: 'b', resource: 'a*' }],
        }),
        400,
        'ERR_RESOURCE_MISMATCH',
        /^items\[2\]: /,
      );
    });

    it('restricts a link to an IP block: a viewer inside is accepted, one outside refused', async (t) => {
      const { app } = await build(t);
      const item = only(
        signedItems(
          await signUrls(app, { items: [{ key: 'videos/a.mp4', ipAddress: '203.0.113.0/24' }] }),
        ),
      );
      const verdict = assertAccepted(item.url, NOW, '203.0.113.77');
      assert.equal(verdict.ipAddress, '203.0.113.0/24');
      assert.equal(verdict.policyType, 'custom');
      const outside = verifyUrl(item.url, {
        keys: new Map([[RSA.keyPairId, RSA.publicKey]]),
        now: NOW,
        ipAddress: '203.0.114.1',
      });
      assert.equal(outside.valid, false);
      assert.equal(outside.failure, 'IP_MISMATCH');
    });

    it('refuses an IPv6 condition and a CIDR block with host bits set', async (t) => {
      const { app } = await build(t);
      assertError(
        await signUrls(app, { items: [{ key: 'a.mp4', ipAddress: '2001:db8::/32' }] }),
        400,
        'ERR_IP_V6_UNSUPPORTED',
        /^items\[0\]: .*IPv4/,
      );
      assertError(
        await signUrls(app, { items: [{ key: 'a.mp4', ipAddress: '203.0.113.5/24' }] }),
        400,
        'ERR_IP_INVALID',
        /^items\[0\]: /,
      );
    });

    for (const [form, notBefore] of [
      ['epoch seconds', NOW_SECONDS + 600],
      ['ISO-8601', '2026-06-01T12:10:00Z'],
      ['ISO-8601 with an offset', '2026-06-01T14:10:00+02:00'],
    ] as const) {
      it(`makes a link that is not valid before a future notBefore given as ${form}`, async (t) => {
        const { app } = await build(t);
        const item = only(
          signedItems(await signUrls(app, { items: [{ key: 'videos/a.mp4', notBefore }] })),
        );
        assert.equal(item.expiresAt, NOW_SECONDS + DEFAULT_TTL);
        const keys = new Map([[RSA.keyPairId, RSA.publicKey]]);
        for (const early of [NOW_SECONDS, NOW_SECONDS + 600]) {
          const verdict = verifyUrl(item.url, { keys, now: at(early) });
          assert.equal(verdict.valid, false);
          assert.equal(verdict.failure, 'NOT_YET_VALID');
          assert.equal(verdict.notBefore, NOW_SECONDS + 600);
        }
        assertAccepted(item.url, at(NOW_SECONDS + 601));
      });
    }

    it('refuses a notBefore that is not before the expiry', async (t) => {
      const { app } = await build(t);
      assertError(
        await signUrls(app, {
          items: [{ key: 'a.mp4', expiresIn: 600, notBefore: NOW_SECONDS + 600 }],
        }),
        400,
        'ERR_DATE_WINDOW_INVALID',
        /^items\[0\]: start .* must be before expiry/,
      );
    });
  });

  describe('batches', () => {
    it('signs a batch of exactly 100 items', async (t) => {
      const { app } = await build(t);
      const items = signedItems(
        await signUrls(app, {
          items: Array.from({ length: 100 }, (_, index) => ({ key: `k/${index}.mp4` })),
        }),
      );
      assert.equal(items.length, 100);
      items.forEach((item, index) => {
        assert.equal(item.key, `k/${index}.mp4`);
        assertAccepted(item.url);
      });
    });

    it('refuses a batch of 101 items whole, naming both numbers', async (t) => {
      const { app } = await build(t);
      assertError(
        await signUrls(app, {
          items: Array.from({ length: 101 }, (_, index) => ({ key: `k/${index}.mp4` })),
        }),
        400,
        'ERR_BATCH_TOO_LARGE',
        /101 items.*at most 100/,
      );
    });

    it('takes its batch limit from CFSIGN_MAX_BATCH', async (t) => {
      const { app } = await build(t, { ...PRODUCTION_ENV, CFSIGN_MAX_BATCH: '3' });
      assert.equal(
        signedItems(await signUrls(app, { items: [{ key: 'a' }, { key: 'b' }, { key: 'c' }] }))
          .length,
        3,
      );
      assertError(
        await signUrls(app, { items: [{ key: 'a' }, { key: 'b' }, { key: 'c' }, { key: 'd' }] }),
        400,
        'ERR_BATCH_TOO_LARGE',
        /4 items.*at most 3/,
      );
    });

    it('refuses the whole batch when one item among good ones is bad, signing nothing', async (t) => {
      const { app } = await build(t);
      let signatures = 0;
      const signPlanned = defaultSigner(app).signPlanned.bind(defaultSigner(app));
      defaultSigner(app).signPlanned = (input) => {
        signatures += 1;
        return signPlanned(input);
      };
      const response = await signUrls(app, {
        items: [{ key: 'a.mp4' }, { key: 'b.mp4' }, { key: 'c/../d.mp4' }, { key: 'e.mp4' }],
      });
      const body = assertError(response, 400, 'ERR_OBJECT_KEY_INVALID', /^items\[2\]: /);
      assert.equal('items' in body, false);
      assert.doesNotMatch(response.body, /Signature=/);
      assert.equal(signatures, 0);
      const metrics = await app.inject({ method: 'GET', url: '/metrics' });
      assert.doesNotMatch(metrics.body, /^cfsign_signatures_total\{/m);
      // The spy does see signing: a good batch goes through it once per item.
      assert.equal(
        (await signUrls(app, { items: [{ key: 'a.mp4' }, { key: 'b.mp4' }] })).statusCode,
        200,
      );
      assert.equal(signatures, 2);
    });

    // The signed link's length is known only with the signature; with an RSA-4096 key (RSA-2048+
    // is supported) a 1,024-byte key under a custom policy makes a link over 8,192 bytes. The
    // batch must still be refused whole before any item is signed, naming the item.
    it('refuses an item whose signed link would be too long before signing any item, naming it', async (t) => {
      const directory = mkdtempSync(join(tmpdir(), 'cfsign-rsa4096-'));
      t.after(() => {
        rmSync(directory, { recursive: true, force: true });
      });
      const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 4096 });
      const keyFile = join(directory, 'rsa-4096.pem');
      writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
      const { app } = await build(t, { ...PRODUCTION_ENV, PRIVATE_KEY_PATH: keyFile });
      const longKey = ' '.repeat(1024);
      const response = await signUrls(app, {
        items: [
          { key: 'a.mp4' },
          {
            key: longKey,
            resource: longKey,
            ipAddress: '203.0.113.0/24',
            notBefore: NOW_SECONDS + 60,
          },
        ],
      });
      assertError(response, 400, 'ERR_URL_INVALID', /^items\[1\]: .*8192/);
      const metrics = await app.inject({ method: 'GET', url: '/metrics' });
      assert.doesNotMatch(metrics.body, /^cfsign_signatures_total\{/m);
    });
  });

  describe('lifetimes', () => {
    for (const expiresIn of ['600', 60.5, 0, -1, null, true]) {
      it(`refuses expiresIn ${JSON.stringify(expiresIn)} without coercing it`, async (t) => {
        const { app } = await build(t);
        assertError(
          await signUrls(app, { items: [{ key: 'a.mp4', expiresIn }] }),
          400,
          'ERR_REQUEST_INVALID',
          /^body\.items\.0\.expiresIn /,
        );
      });
    }

    it('refuses a key that is not a string without coercing it', async (t) => {
      const { app } = await build(t);
      assertError(
        await signUrls(app, { items: [{ key: 123 }] }),
        400,
        'ERR_REQUEST_INVALID',
        /^body\.items\.0\.key must be string/,
      );
    });

    it('refuses an expiresIn above the maximum lifetime instead of clamping it', async (t) => {
      const { app } = await build(t);
      assertError(
        await signUrls(app, { items: [{ key: 'a.mp4', expiresIn: MAX_TTL + 1 }] }),
        400,
        'ERR_TTL_TOO_LONG',
        /^items\[0\]: a lifetime of 86401 s is above this distribution's maximum of 86400 s/,
      );
    });

    it('takes its default and maximum lifetimes from CFSIGN_DEFAULT_TTL and CFSIGN_MAX_TTL', async (t) => {
      const { app } = await build(t, {
        ...PRODUCTION_ENV,
        CFSIGN_DEFAULT_TTL: '300',
        CFSIGN_MAX_TTL: '600',
      });
      const items = signedItems(
        await signUrls(app, { items: [{ key: 'a.mp4' }, { key: 'b.mp4', expiresIn: 600 }] }),
      );
      assert.deepEqual(
        items.map((item) => item.expiresAt),
        [NOW_SECONDS + 300, NOW_SECONDS + 600],
      );
      items.forEach((item) => assertAccepted(item.url));
      assertError(
        await signUrls(app, { items: [{ key: 'a.mp4', expiresIn: 601 }] }),
        400,
        'ERR_TTL_TOO_LONG',
        /601 s is above this distribution's maximum of 600 s/,
      );
    });
  });

  describe('request validation', () => {
    it('refuses an unknown field in an item, naming it', async (t) => {
      const { app } = await build(t);
      assertError(
        await signUrls(app, { items: [{ key: 'a.mp4', expires: 600 }] }),
        400,
        'ERR_REQUEST_INVALID',
        /^body\.items\.0: unknown field 'expires'/,
      );
    });

    it('refuses an unknown top-level field, naming it', async (t) => {
      const { app } = await build(t);
      assertError(
        await signUrls(app, { items: [{ key: 'a.mp4' }], ttl: 600 }),
        400,
        'ERR_REQUEST_INVALID',
        /unknown field 'ttl'/,
      );
    });

    it('refuses an empty list of items', async (t) => {
      const { app } = await build(t);
      assertError(
        await signUrls(app, { items: [] }),
        400,
        'ERR_REQUEST_INVALID',
        /^body\.items must NOT have fewer than 1 items/,
      );
    });

    it('refuses a body without items', async (t) => {
      const { app } = await build(t);
      assertError(
        await signUrls(app, {}),
        400,
        'ERR_REQUEST_INVALID',
        /missing required field 'items'/,
      );
    });

    it('refuses an empty object key', async (t) => {
      const { app } = await build(t);
      assertError(
        await signUrls(app, { items: [{ key: '' }] }),
        400,
        'ERR_REQUEST_INVALID',
        /^body\.items\.0\.key /,
      );
    });

    it('refuses a key given twice in one JSON object instead of keeping the last', async (t) => {
      const { app } = await build(t);
      assertError(
        await signRaw(app, '{"items":[{"key":"a","key":"b"}]}'),
        400,
        'ERR_REQUEST_INVALID',
        /the key 'key' twice/,
      );
    });

    it('refuses duplicated keys however they are spelled or nested', async (t) => {
      const { app } = await build(t);
      assertError(
        await signRaw(app, '{"items":[{"key":"a","k\\u0065y":"b"}]}'),
        400,
        'ERR_REQUEST_INVALID',
        /the key 'key' twice/,
      );
      assertError(
        await signRaw(app, '{"items":[{"key":"a"}],"items":[{"key":"b"}]}'),
        400,
        'ERR_REQUEST_INVALID',
        /the key 'items' twice/,
      );
    });

    it('refuses a __proto__ or constructor key', async (t) => {
      const { app } = await build(t);
      assertError(
        await signRaw(app, '{"items":[{"key":"a","__proto__":{"expiresIn":999999}}]}'),
        400,
        'ERR_REQUEST_INVALID',
        /reserved key '__proto__'/,
      );
      assertError(
        await signRaw(app, '{"constructor":{},"items":[{"key":"a"}]}'),
        400,
        'ERR_REQUEST_INVALID',
        /reserved key 'constructor'/,
      );
    });

    for (const [what, body] of [
      ['text that is not JSON', 'items=a.mp4'],
      ['truncated JSON', '{"items":[{"key":"a"}'],
      ['JSON followed by garbage', '{"items":[{"key":"a"}]} x'],
      ['an empty body', ''],
    ] as const) {
      it(`refuses ${what} as invalid JSON`, async (t) => {
        const { app } = await build(t);
        assertError(
          await signRaw(app, body),
          400,
          'ERR_REQUEST_INVALID',
          /the body is not valid JSON/,
        );
      });
    }

    it('refuses a JSON body that is not an object', async (t) => {
      const { app } = await build(t);
      assertError(
        await signRaw(app, '[{"key":"a"}]'),
        400,
        'ERR_REQUEST_INVALID',
        /^body must be object/,
      );
    });

    it('refuses a text/plain body with 415 even when it holds JSON', async (t) => {
      const { app } = await build(t);
      assertError(
        await signRaw(app, '{"items":[{"key":"a.mp4"}]}', 'text/plain'),
        415,
        'ERR_MEDIA_TYPE_UNSUPPORTED',
        /application\/json/,
      );
    });

    it('refuses a form-encoded body with 415', async (t) => {
      const { app } = await build(t);
      assertError(
        await signRaw(app, 'items=a.mp4', 'application/x-www-form-urlencoded'),
        415,
        'ERR_MEDIA_TYPE_UNSUPPORTED',
        /application\/json/,
      );
    });

    it('accepts a body of exactly 1 MiB and refuses one byte more with 413', async (t) => {
      const { app } = await build(t);
      const json = '{"items":[{"key":"a.mp4"}]}';
      const exact = json + ' '.repeat(ONE_MIB - json.length);
      assert.equal(Buffer.byteLength(exact), ONE_MIB);
      assertAccepted(only(signedItems(await signRaw(app, exact))).url);
      assertError(
        await signRaw(app, `${exact} `),
        413,
        'ERR_BODY_TOO_LARGE',
        /larger than this service accepts/,
      );
    });

    it('refuses a body well over 1 MiB with 413', async (t) => {
      const { app } = await build(t);
      assertError(
        await signRaw(app, JSON.stringify({ items: [{ key: 'a'.repeat(2 * ONE_MIB) }] })),
        413,
        'ERR_BODY_TOO_LARGE',
        /larger than this service accepts/,
      );
    });
  });

  describe('authentication and caching', () => {
    it('sends Cache-Control: no-store with a signed batch', async (t) => {
      const { app } = await build(t);
      const response = await signUrls(app, { items: [{ key: 'a.mp4' }] });
      assertAccepted(only(signedItems(response)).url);
      assert.equal(response.headers['cache-control'], 'no-store');
    });

    it('sends Cache-Control: no-store with every kind of error', async (t) => {
      const { app } = await build(t);
      const responses = [
        await signUrls(app, { items: [] }),
        await signRaw(app, '{', 'text/plain'),
        await signRaw(app, 'x'.repeat(ONE_MIB + 1)),
        await app.inject({ method: 'POST', url: '/v1/signed-urls', payload: { items: [] } }),
      ];
      assert.deepEqual(
        responses.map((response) => response.statusCode),
        [400, 415, 413, 401],
      );
      for (const response of responses) {
        assert.equal(response.headers['cache-control'], 'no-store');
      }
    });

    it('refuses a request without a token with 401 and a Bearer challenge', async (t) => {
      const { app } = await build(t);
      const response = await app.inject({
        method: 'POST',
        url: '/v1/signed-urls',
        payload: { items: [{ key: 'a.mp4' }] },
      });
      assertError(response, 401, 'ERR_AUTH_REQUIRED', /Authorization: Bearer <token>/);
      assert.equal(response.headers['www-authenticate'], 'Bearer');
    });

    it('gives the same 401 body for a wrong token, another scheme and malformed headers', async (t) => {
      const { app } = await build(t);
      const headers = [
        { authorization: 'Bearer tok-web-0123456789abcdeX' },
        { authorization: `Basic ${TOKENS.web}` },
        { authorization: `Bearer  ${TOKENS.web}` },
        { authorization: 'Bearer ' },
        { authorization: `Bearer ${TOKENS.web}x` },
        { authorization: `Bearer ${TOKENS.web.toUpperCase()}` },
      ];
      const messages = new Set<string>();
      for (const header of headers) {
        const response = await app.inject({
          method: 'POST',
          url: '/v1/signed-urls',
          headers: header,
          payload: { items: [{ key: 'a.mp4' }] },
        });
        messages.add(assertError(response, 401, 'ERR_AUTH_REQUIRED', /token/).message);
        assert.doesNotMatch(response.body, /Signature=/);
      }
      assert.equal(messages.size, 1);
    });

    it('authenticates before reading the body', async (t) => {
      const { app } = await build(t);
      const response = await app.inject({
        method: 'POST',
        url: '/v1/signed-urls',
        headers: { 'content-type': 'text/plain' },
        payload: 'x'.repeat(ONE_MIB + 1),
      });
      assertError(response, 401, 'ERR_AUTH_REQUIRED', /token/);
    });
  });
});
