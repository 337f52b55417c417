import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import type { Inspection } from '../../src/core/inspect.ts';
import { signCookies } from '../../src/core/sign-cookies.ts';
import { signUrl } from '../../src/core/sign-url.ts';
import type { App } from '../../src/server/context.ts';
import {
  bearer,
  MULTI_TENANT_CONFIG,
  SECOND_DISTRIBUTION,
  writeConfigFile,
} from '../helpers/config-file.ts';
import { DISTRIBUTION, ECDSA, OTHER_RSA, RSA } from '../helpers/fixtures.ts';
import { seedSignedUrl } from '../helpers/seed-link.ts';
import { AUTH, build, NOW, NOW_SECONDS, TOKENS } from '../helpers/server.ts';

interface ErrorBody {
  error: string;
  message: string;
  requestId: string;
}

const INSPECTION_FIELDS = new Set([
  'ok',
  'source',
  'requestUrl',
  'policyType',
  'keyPairId',
  'hash',
  'resource',
  'expiresAt',
  'expiry',
  'notBefore',
  'start',
  'ipAddress',
  'policy',
  'problems',
  'verdict',
]);

async function inspect(
  app: App,
  payload: Record<string, unknown>,
  headers: Record<string, string> = AUTH,
): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/v1/inspect', headers, payload });
}

/** The inspection, after checking its shape and that it repeats none of the given secrets. */
function inspectionOf(response: LightMyRequestResponse, ...secrets: string[]): Inspection {
  assert.equal(response.statusCode, 200, response.body);
  assert.equal(response.headers['cache-control'], 'no-store');
  const body = response.json<Inspection>();
  for (const field of Object.keys(body)) assert.ok(INSPECTION_FIELDS.has(field), field);
  assert.ok(body.verdict !== undefined, 'the verdict is always there');
  assert.equal('policy' in body.verdict, false);
  for (const secret of secrets) {
    assert.ok(secret.length > 20);
    assert.equal(response.body.includes(secret), false, 'the response repeats a secret');
  }
  return body;
}

function signatureOf(url: string): string {
  const pair = url.split('&').find((candidate) => candidate.startsWith('Signature='));
  assert.ok(pair !== undefined);
  return pair.slice('Signature='.length);
}

function codes(inspection: Inspection): string[] {
  return inspection.problems.map((problem) =>
    problem.parameter === undefined ? problem.code : `${problem.code} ${problem.parameter}`,
  );
}

const URL_A = `${DISTRIBUTION}/videos/inspected-a.mp4`;

describe('POST /v1/inspect', () => {
  it('reads a good link and judges it with the service keys, without its signature', async (t) => {
    const { app } = await build(t);
    const response = await app.inject({
      url: '/generate-signed-url?object_key=videos/intro.mp4',
      headers: AUTH,
    });
    const { signed_url: url } = response.json<{ signed_url: string }>();
    const inspection = inspectionOf(await inspect(app, { url }), signatureOf(url));
    assert.equal(inspection.ok, true);
    assert.deepEqual(inspection.problems, []);
    assert.equal(inspection.source, 'url');
    assert.equal(inspection.policyType, 'canned');
    assert.equal(inspection.keyPairId, RSA.keyPairId);
    assert.equal(inspection.hash, 'sha1');
    assert.equal(inspection.requestUrl, `${DISTRIBUTION}/videos/intro.mp4`);
    assert.equal(inspection.expiresAt, NOW_SECONDS + 3600);
    assert.deepEqual(inspection.expiry, {
      utc: '2026-06-01T13:00:00Z',
      relative: 'expires in 60 min',
    });
    assert.match(inspection.policy ?? '', /^\{\n {2}"Statement": \[/);
    assert.equal(inspection.verdict?.valid, true);
    assert.equal(inspection.verdict.reason, 'valid until 2026-06-01T13:00:00Z (expires in 60 min)');
  });

  it("names every problem of a link made the seed's way, and the verdict", async (t) => {
    const { app } = await build(t);
    const seed = seedSignedUrl(DISTRIBUTION, 'videos/my clip.mp4', NOW_SECONDS + 600, RSA);
    const inspection = inspectionOf(await inspect(app, { url: seed.url }), seed.signatureBase64);
    assert.equal(inspection.ok, false);
    assert.deepEqual(codes(inspection), [
      'URL_UNENCODED_CHARACTERS',
      'STANDARD_BASE64 Signature',
      'STANDARD_BASE64 Policy',
      'RESOURCE_MISMATCH',
    ]);
    const [, signature] = inspection.problems;
    assert.deepEqual(Object.keys(signature ?? {}).sort(), [
      'cloudFrontError',
      'code',
      'message',
      'parameter',
      'severity',
    ]);
    assert.equal(signature?.cloudFrontError, 'MalformedSignature');
    assert.equal(inspection.resource, `${DISTRIBUTION}/videos/my clip.mp4`);
    assert.equal(inspection.verdict?.valid, false);
    assert.equal(inspection.verdict.failure, 'MALFORMED_URL');
  });

  it('judges against every key of every configured distribution', async (t) => {
    const { app } = await build(t, { CFSIGN_CONFIG: writeConfigFile(t, MULTI_TENANT_CONFIG) });
    const second = signUrl({
      ...ECDSA,
      url: `${SECOND_DISTRIBUTION}/files/a.zip`,
      expires: '10m',
      now: NOW,
    }).url;
    const valid = inspectionOf(await inspect(app, { url: second }, bearer('acme')));
    assert.equal(valid.ok, true, JSON.stringify(valid.verdict));
    assert.equal(valid.hash, 'sha256');
    const foreign = signUrl({ ...OTHER_RSA, url: URL_A, expires: '10m', now: NOW }).url;
    const unknown = inspectionOf(await inspect(app, { url: foreign }, bearer('acme')));
    assert.deepEqual(unknown.problems, []);
    assert.equal(unknown.ok, false);
    assert.equal(unknown.verdict?.failure, 'UNKNOWN_KEY');
    assert.equal(unknown.verdict.cloudFrontError, 'InvalidKey');
  });

  it('inspects signed cookies given as a Cookie header or as name-value pairs', async (t) => {
    const { app } = await build(t);
    const { cookies } = signCookies({
      ...RSA,
      resource: `${DISTRIBUTION}/videos/*`,
      expires: '10m',
      now: NOW,
    });
    const header = Object.entries(cookies)
      .map(([name, value]) => `${name}=${value}`)
      .join('; ');
    const signature = cookies['CloudFront-Signature'] ?? '';
    for (const given of [header, cookies]) {
      const inside = inspectionOf(await inspect(app, { url: URL_A, cookies: given }), signature);
      assert.equal(inside.ok, true, JSON.stringify(inside.problems));
      assert.equal(inside.source, 'cookies');
      assert.equal(inside.resource, `${DISTRIBUTION}/videos/*`);
    }
    const outside = inspectionOf(
      await inspect(app, { url: `${DISTRIBUTION}/audio/a.mp3`, cookies: header }),
      signature,
    );
    assert.deepEqual(codes(outside), ['RESOURCE_MISMATCH']);
    assert.equal(outside.verdict?.failure, 'RESOURCE_MISMATCH');
  });

  it('checks the IP condition against ipAddress, and the times at `at`', async (t) => {
    const { app } = await build(t);
    const url = signUrl({
      ...RSA,
      url: URL_A,
      ipAddress: '203.0.113.0/24',
      expires: NOW_SECONDS + 600,
      now: NOW,
    }).url;
    const outside = inspectionOf(await inspect(app, { url, ipAddress: '198.51.100.1' }));
    assert.deepEqual(codes(outside), ['IP_MISMATCH']);
    assert.equal(outside.verdict?.failure, 'IP_MISMATCH');
    const later = inspectionOf(await inspect(app, { url, at: NOW_SECONDS + 7800 }));
    assert.deepEqual(codes(later), ['EXPIRED']);
    assert.equal(later.expiry?.relative, 'expired 2 h ago');
  });

  it('answers 200 with the problem for text that is not a URL', async (t) => {
    const { app } = await build(t);
    const inspection = inspectionOf(await inspect(app, { url: 'not a link' }));
    assert.deepEqual(codes(inspection), ['URL_INVALID']);
    assert.equal(inspection.verdict?.failure, 'MALFORMED_URL');
  });

  it('refuses a request without a token with 401, saying nothing about the link', async (t) => {
    const { app } = await build(t);
    const url = signUrl({ ...RSA, url: URL_A, expires: '10m', now: NOW }).url;
    for (const headers of [{}, { authorization: 'Bearer tok-wrong-0123456789abcdef' }]) {
      const response = await inspect(app, { url }, headers);
      assert.equal(response.statusCode, 401);
      assert.equal(response.headers['cache-control'], 'no-store');
      const body = response.json<ErrorBody>();
      assert.deepEqual(Object.keys(body).sort(), ['error', 'message', 'requestId']);
      assert.equal(body.error, 'ERR_AUTH_REQUIRED');
      assert.doesNotMatch(response.body, /"problems"|Signature|inspected-a/);
    }
  });

  it('refuses unknown fields and mistyped values, never coercing them', async (t) => {
    const { app } = await build(t);
    const url = signUrl({ ...RSA, url: URL_A, expires: '10m', now: NOW }).url;
    for (const [payload, message] of [
      [{ url, verbose: true }, /unknown field 'verbose'/],
      [{ url: 123 }, /body\.url/],
      [{ url, ipAddress: 167772161 }, /body\.ipAddress/],
      [{ url, at: true }, /body\.at/],
      [{ url, cookies: { 'CloudFront-Signature': 1 } }, /body\.cookies/],
      [{}, /missing required field 'url'/],
    ] as const) {
      const response = await inspect(app, payload);
      assert.equal(response.statusCode, 400, JSON.stringify(payload));
      const body = response.json<ErrorBody>();
      assert.equal(body.error, 'ERR_REQUEST_INVALID');
      assert.match(body.message, message);
    }
    const badIp = await inspect(app, { url, ipAddress: 'garbage' });
    assert.equal(badIp.statusCode, 400);
    assert.equal(badIp.json<ErrorBody>().error, 'ERR_IP_INVALID');
    const badTime = await inspect(app, { url, at: 'tomorrow' });
    assert.equal(badTime.statusCode, 400);
    assert.equal(badTime.json<ErrorBody>().error, 'ERR_DATE_INVALID');
  });

  it('never logs the token, the link, its signature, its policy or its URL', async (t) => {
    const server = await build(t);
    const seed = seedSignedUrl(DISTRIBUTION, 'videos/secret-seed.mp4', NOW_SECONDS + 600, RSA);
    const good = signUrl({
      ...RSA,
      url: `${DISTRIBUTION}/videos/secret-good.mp4`,
      resource: `${DISTRIBUTION}/videos/secret-*`,
      expires: '10m',
      now: NOW,
    }).url;
    const policy = good.split('Policy=')[1]?.split('&')[0] ?? '';
    assert.ok(policy.length > 20);
    for (const payload of [{ url: seed.url }, { url: good }, { url: good, verbose: 1 }]) {
      await inspect(server.app, payload);
    }
    await inspect(server.app, { url: good }, {});
    const text = server.logText();
    const lines = server.logs.filter((line) => line['route'] === '/v1/inspect');
    assert.equal(lines.length, 4, 'one line per request');
    for (const secret of [
      TOKENS.web,
      seed.signatureBase64,
      seed.policyBase64,
      signatureOf(good),
      policy,
      'secret-seed',
      'secret-good',
      'secret-*',
      'Statement',
    ]) {
      assert.equal(text.includes(secret), false, `the logs contain ${secret.slice(0, 12)}…`);
    }
  });

  it('is in the OpenAPI document with its request and response schemas', async (t) => {
    const { app } = await build(t);
    const response = await app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(response.statusCode, 200);
    interface Schema {
      properties?: Record<string, Schema>;
      items?: Schema;
      enum?: string[];
      required?: string[];
    }
    const document = response.json<{
      paths: Record<
        string,
        Record<
          string,
          {
            requestBody?: { content: Record<string, { schema: Schema }> };
            responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
          }
        >
      >;
    }>();
    const operation = document.paths['/v1/inspect']?.['post'];
    assert.ok(operation !== undefined);
    const body = operation.requestBody?.content['application/json']?.schema;
    assert.deepEqual(Object.keys(body?.properties ?? {}), ['url', 'cookies', 'ipAddress', 'at']);
    const ok = operation.responses['200']?.content?.['application/json']?.schema;
    assert.deepEqual(Object.keys(ok?.properties ?? {}), [...INSPECTION_FIELDS]);
    assert.deepEqual(ok?.required, ['ok', 'source', 'problems', 'verdict']);
    const problem = ok.properties?.['problems']?.items?.properties;
    assert.ok(problem !== undefined);
    assert.ok(problem['code']?.enum?.includes('STANDARD_BASE64'));
    assert.match(JSON.stringify(problem['severity']), /"error".*"warning"/);
    for (const status of ['400', '401', '413', '415', '429', '500']) {
      assert.ok(status in operation.responses, status);
    }
  });
});
