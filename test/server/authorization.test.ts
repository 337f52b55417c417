import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { verifyCookies, verifyUrl } from '../../src/core/verify.ts';
import { DISTRIBUTION, ECDSA, RSA } from '../helpers/fixtures.ts';
import {
  bearer,
  MULTI_TENANT_CONFIG,
  SECOND_DISTRIBUTION,
  writeConfigFile,
} from '../helpers/config-file.ts';
import { build, NOW, NOW_SECONDS, type TestServer } from '../helpers/server.ts';

const KEYS = new Map([
  [RSA.keyPairId, RSA.publicKey],
  [ECDSA.keyPairId, ECDSA.publicKey],
]);

async function multiTenant(
  t: TestContext,
  extra: Record<string, unknown> = {},
): Promise<TestServer> {
  return build(t, { CFSIGN_CONFIG: writeConfigFile(t, { ...MULTI_TENANT_CONFIG, ...extra }) });
}

function errorOf(
  response: { statusCode: number; body: string },
  status: number,
  code: string,
): string {
  assert.equal(response.statusCode, status, response.body);
  const body = JSON.parse(response.body) as { error: string; message: string };
  assert.equal(body.error, code);
  assert.doesNotMatch(response.body, /Signature=/);
  return body.message;
}

function signOne(
  server: TestServer,
  client: Parameters<typeof bearer>[0],
  key: string,
  extra = '',
) {
  return server.app.inject({
    url: `/generate-signed-url?object_key=${encodeURIComponent(key)}${extra}`,
    headers: bearer(client),
  });
}

describe('authorization by client rules', () => {
  it('signs a key inside the prefix, and refuses a sibling whose name only starts the same', async (t) => {
    const server = await multiTenant(t);
    const inside = await signOne(server, 'acme', 'tenants/acme/a.mp4');
    assert.equal(inside.statusCode, 200);
    assert.equal(
      verifyUrl(inside.json<{ signed_url: string }>().signed_url, { keys: KEYS, now: NOW }).valid,
      true,
    );
    for (const key of [
      'tenants/acmecorp/x.mp4',
      'tenants/acme',
      'Tenants/acme/a.mp4',
      'tenants/other/a.mp4',
      'videos/a.mp4',
    ]) {
      const message = errorOf(await signOne(server, 'acme', key), 403, 'ERR_FORBIDDEN');
      assert.match(message, /outside this client's prefixes \('tenants\/acme\/'\)/, key);
    }
  });

  it("refuses a lifetime above the client's own cap, never clamping it", async (t) => {
    const server = await multiTenant(t);
    assert.equal((await signOne(server, 'acme', 'tenants/acme/a', '&ttl=3600')).statusCode, 200);
    const message = errorOf(
      await signOne(server, 'acme', 'tenants/acme/a', '&ttl=3601'),
      400,
      'ERR_TTL_TOO_LONG',
    );
    assert.match(message, /above this client's maximum of 3600 s/);
  });

  it('signs for the distribution asked, with its own key, and only where a rule allows it', async (t) => {
    const server = await multiTenant(t);
    const download = await signOne(server, 'broad', 'setup.exe', '&distribution=downloads');
    assert.equal(download.statusCode, 200, download.body);
    const url = download.json<{ signed_url: string }>().signed_url;
    assert.ok(url.startsWith(`${SECOND_DISTRIBUTION}/setup.exe?Expires=`));
    const verdict = verifyUrl(url, { keys: KEYS, now: NOW });
    assert.equal(verdict.valid, true, verdict.reason);
    assert.equal(verdict.keyPairId, ECDSA.keyPairId);
    assert.match(
      errorOf(
        await signOne(server, 'acme', 'tenants/acme/a', '&distribution=downloads'),
        403,
        'ERR_FORBIDDEN',
      ),
      /may not sign for distribution 'downloads'/,
    );
    assert.match(
      errorOf(
        await signOne(server, 'acme', 'tenants/acme/a', '&distribution=nowhere'),
        400,
        'ERR_DISTRIBUTION_UNKNOWN',
      ),
      /configured: media, downloads/,
    );
  });

  it('signs a batch and cookies for the distribution named in the body, and for the first without it', async (t) => {
    const server = await multiTenant(t, {
      clients: MULTI_TENANT_CONFIG.clients.map((client) =>
        client.name === 'cookie'
          ? {
              ...client,
              allow: [
                ...client.allow,
                { distribution: 'downloads', wildcards: true, cookies: true },
              ],
            }
          : client,
      ),
    });
    const batch = (distribution?: string) =>
      server.app.inject({
        method: 'POST',
        url: '/v1/signed-urls',
        headers: bearer('broad'),
        payload: { items: [{ key: 'videos/a.mp4' }], ...(distribution && { distribution }) },
      });
    const cookies = (distribution?: string) =>
      server.app.inject({
        method: 'POST',
        url: '/v1/signed-cookies',
        headers: bearer('cookie'),
        payload: { resource: 'videos/*', ...(distribution && { distribution }) },
      });
    const urlOf = async (response: Promise<{ statusCode: number; body: string }>) => {
      const { statusCode, body } = await response;
      assert.equal(statusCode, 200, body);
      const [item] = (JSON.parse(body) as { items: { url: string }[] }).items;
      return item?.url ?? '';
    };
    assert.ok((await urlOf(batch('downloads'))).startsWith(`${SECOND_DISTRIBUTION}/videos/a.mp4?`));
    assert.ok((await urlOf(batch())).startsWith(`${DISTRIBUTION}/videos/a.mp4?`));
    for (const [distribution, url] of [
      ['downloads', SECOND_DISTRIBUTION],
      [undefined, DISTRIBUTION],
    ] as const) {
      const granted = await cookies(distribution);
      assert.equal(granted.statusCode, 200, granted.body);
      const jar = granted.json<{ cookies: Record<string, string> }>().cookies;
      const verdict = verifyCookies(`${url}/videos/x.mp4`, jar, { keys: KEYS, now: NOW });
      assert.equal(verdict.valid, true, verdict.reason);
    }
  });

  it('allows wildcard patterns only with the right, and only inside the prefixes', async (t) => {
    const server = await multiTenant(t);
    const batch = (client: Parameters<typeof bearer>[0], resource: string, key = 'videos/a.mp4') =>
      server.app.inject({
        method: 'POST',
        url: '/v1/signed-urls',
        headers: bearer(client),
        payload: { items: [{ key, resource }] },
      });
    assert.match(
      errorOf(await batch('acme', 'tenants/acme/*', 'tenants/acme/a'), 403, 'ERR_FORBIDDEN'),
      /^items\[0\]: this client may not ask for wildcard resources/,
    );
    const allowed = await batch('broad', 'videos/*');
    assert.equal(allowed.statusCode, 200, allowed.body);
    for (const resource of ['vid*', '*', '*/a.mp4', 'videos*']) {
      assert.match(
        errorOf(await batch('broad', resource), 403, 'ERR_FORBIDDEN'),
        /reaches outside this client's prefixes/,
        resource,
      );
    }
  });

  it('allows cookies only with the cookie right, for a pattern inside the prefixes', async (t) => {
    const server = await multiTenant(t);
    const cookies = (client: Parameters<typeof bearer>[0], resource: string) =>
      server.app.inject({
        method: 'POST',
        url: '/v1/signed-cookies',
        headers: bearer(client),
        payload: { resource },
      });
    assert.match(
      errorOf(await cookies('broad', 'videos/*'), 403, 'ERR_FORBIDDEN'),
      /may not ask for signed cookies/,
    );
    const granted = await cookies('cookie', 'videos/*');
    assert.equal(granted.statusCode, 200, granted.body);
    const jar = granted.json<{ cookies: Record<string, string> }>().cookies;
    assert.equal(
      verifyCookies('https://d111111abcdef8.cloudfront.net/videos/x.mp4', jar, {
        keys: KEYS,
        now: NOW,
      }).valid,
      true,
    );
    assert.match(
      errorOf(await cookies('cookie', 'thumbs/*'), 403, 'ERR_FORBIDDEN'),
      /reaches outside/,
    );
  });

  it('verifies links made by any listed key of a distribution', async (t) => {
    const server = await multiTenant(t);
    const link = (await signOne(server, 'broad', 'a.exe', '&distribution=downloads')).json<{
      signed_url: string;
    }>().signed_url;
    const verdict = await server.app.inject({
      method: 'POST',
      url: '/v1/verify',
      headers: bearer('acme'),
      payload: { url: link },
    });
    assert.equal(verdict.json<{ valid: boolean }>().valid, true);
  });
});

describe('audit', () => {
  it('writes one line per issued link with client, distribution, key id, key and expiry, and never the link', async (t) => {
    const server = await multiTenant(t);
    const response = await server.app.inject({
      method: 'POST',
      url: '/v1/signed-urls',
      headers: bearer('broad'),
      payload: {
        items: [{ key: 'videos/a.mp4' }, { key: 'thumbs/b.jpg', ipAddress: '203.0.113.0/24' }],
      },
    });
    assert.equal(response.statusCode, 200, response.body);
    const audit = server.logs.filter((line) => line['audit'] === 'issued');
    assert.equal(audit.length, 2);
    assert.deepEqual(
      audit.map((line) => [
        line['client'],
        line['distribution'],
        line['keyPairId'],
        line['objectKey'],
        line['kind'],
        line['ipAddress'],
      ]),
      [
        ['broad', 'media', RSA.keyPairId, 'videos/a.mp4', 'url', undefined],
        ['broad', 'media', RSA.keyPairId, 'thumbs/b.jpg', 'url', '203.0.113.0/24'],
      ],
    );
    assert.ok(
      audit.every(
        (line) => typeof line['expiresAt'] === 'number' && typeof line['reqId'] === 'string',
      ),
    );
    assert.doesNotMatch(server.logText(), /Signature|Policy=|tok-broad/);
  });

  it('writes one line per cookie set and per pattern link, with the pattern, its conditions and the time, and never the cookies', async (t) => {
    const server = await multiTenant(t);
    const notBefore = NOW_SECONDS + 60;
    const cookies = await server.app.inject({
      method: 'POST',
      url: '/v1/signed-cookies',
      headers: bearer('cookie'),
      payload: { resource: 'videos/*', notBefore, ipAddress: '203.0.113.0/24' },
    });
    assert.equal(cookies.statusCode, 200, cookies.body);
    const pattern = await server.app.inject({
      method: 'POST',
      url: '/v1/signed-urls',
      headers: bearer('broad'),
      payload: { items: [{ key: 'videos/a.mp4', resource: 'videos/*' }] },
    });
    assert.equal(pattern.statusCode, 200, pattern.body);
    const audit = server.logs.filter((line) => line['audit'] === 'issued');
    assert.deepEqual(
      audit.map(({ time, reqId, hostname, pid, level, ...rest }) => rest),
      [
        {
          audit: 'issued',
          client: 'cookie',
          kind: 'cookies',
          distribution: 'media',
          keyPairId: RSA.keyPairId,
          keyPattern: 'videos/*',
          expiresAt: NOW_SECONDS + 600,
          notBefore,
          ipAddress: '203.0.113.0/24',
          msg: 'issued',
        },
        {
          audit: 'issued',
          client: 'broad',
          kind: 'url',
          distribution: 'media',
          keyPairId: RSA.keyPairId,
          objectKey: 'videos/a.mp4',
          keyPattern: 'videos/*',
          expiresAt: NOW_SECONDS + 600,
          msg: 'issued',
        },
      ],
    );
    for (const line of audit) {
      assert.ok(Math.abs(Number(line['time']) - Date.now()) < 60_000, 'the time it was issued');
      assert.match(String(line['reqId']), /^[0-9a-f-]{36}$/);
    }
    const jar = cookies.json<{ cookies: Record<string, string> }>().cookies;
    for (const value of Object.values(jar).filter((value) => value !== RSA.keyPairId)) {
      assert.ok(!server.logText().includes(value), 'no cookie value is logged');
    }
    assert.doesNotMatch(server.logText(), /Signature=|Policy=|CloudFront-/);
  });

  it('keeps writing audit lines when CFSIGN_LOG_LEVEL quiets everything else', async (t) => {
    for (const level of ['warn', 'silent']) {
      const server = await build(t, {
        CFSIGN_CONFIG: writeConfigFile(t, MULTI_TENANT_CONFIG),
        CFSIGN_LOG_LEVEL: level,
      });
      const response = await signOne(server, 'acme', 'tenants/acme/a.mp4');
      assert.equal(response.statusCode, 200, response.body);
      const lines = server.logs;
      assert.equal(lines.filter((line) => line['audit'] === 'issued').length, 1, level);
      assert.equal(lines.filter((line) => line['msg'] === 'request').length, 0, level);
      const [audit] = lines.filter((line) => line['audit'] === 'issued');
      assert.match(String(audit?.['reqId']), /^[0-9a-f-]{36}$/);
      assert.equal(audit?.['client'], 'acme');
    }
  });

  it('writes no audit line when nothing is issued', async (t) => {
    const server = await multiTenant(t);
    await signOne(server, 'acme', 'videos/a.mp4');
    assert.equal(server.logs.filter((line) => line['audit'] === 'issued').length, 0);
  });
});

describe('overload', () => {
  it('sheds signing beyond the in-flight cap with 503 and Retry-After, keeping /healthz fast', async (t) => {
    const server = await multiTenant(t, { server: { maxSigningInFlight: 1 } });
    const items = Array.from({ length: 50 }, (_, index) => ({ key: `videos/${index}.mp4` }));
    const requests = Array.from({ length: 4 }, () =>
      server.app.inject({
        method: 'POST',
        url: '/v1/signed-urls',
        headers: bearer('broad'),
        payload: { items },
      }),
    );
    const health = await server.app.inject({ url: '/healthz' });
    assert.equal(health.statusCode, 200);
    const responses = await Promise.all(requests);
    const statuses = responses.map((response) => response.statusCode).sort();
    assert.ok(statuses.includes(200), String(statuses));
    const shed = responses.find((response) => response.statusCode === 503);
    assert.ok(shed !== undefined, String(statuses));
    assert.equal(shed.headers['retry-after'], '1');
    // Every 5xx body says only "internal error"; the code and Retry-After tell the client more.
    assert.equal(errorOf(shed, 503, 'ERR_OVERLOADED'), 'internal error');
  });
});

describe('requests that must not sign', () => {
  it('answers HEAD with 404, signing and auditing nothing', async (t) => {
    const server = await multiTenant(t);
    const response = await server.app.inject({
      method: 'HEAD',
      url: '/generate-signed-url?object_key=videos/a.mp4',
      headers: bearer('broad'),
    });
    assert.equal(response.statusCode, 404);
    assert.equal(server.logs.filter((line) => line['audit'] === 'issued').length, 0);
  });

  it('spends no rate-limit tokens on a request shed with 503', async (t) => {
    const limited = {
      ...MULTI_TENANT_CONFIG,
      clients: MULTI_TENANT_CONFIG.clients.map((client) =>
        client.name === 'broad' ? { ...client, rateLimit: { perSecond: 0.001, burst: 2 } } : client,
      ),
      server: { maxSigningInFlight: 1, maxBatchSize: 2 },
    };
    const server = await build(t, { CFSIGN_CONFIG: writeConfigFile(t, limited) });
    const sign = (key = 'videos/a.mp4') =>
      server.app.inject({
        url: `/generate-signed-url?object_key=${key}`,
        headers: bearer('broad'),
      });
    // Two keys: a second request for the first one's policy would reuse its signature, slotless.
    const [first, second] = await Promise.all([sign(), sign('videos/b.mp4')]);
    assert.deepEqual([first.statusCode, second.statusCode].sort(), [200, 503]);
    assert.equal((await sign()).statusCode, 200, 'the shed request left its token');
    assert.equal((await sign()).statusCode, 429);
  });
});
