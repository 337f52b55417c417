import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { setImmediate } from 'node:timers/promises';
import type { Environment } from '../../src/config/load-config.ts';
import type { App } from '../../src/server/context.ts';
import { bearer, MULTI_TENANT_CONFIG, writeConfigFile } from '../helpers/config-file.ts';
import {
  assertAccepted,
  AUTH,
  build,
  NOW,
  NOW_SECONDS,
  PRODUCTION_ENV,
} from '../helpers/server.ts';

const WINDOW = 300;
// The tests below count on NOW being a window edge.
assert.equal(NOW_SECONDS % WINDOW, 0);

/** A server whose clock the test moves. */
async function withClock(t: TestContext, env: Environment) {
  const clock = new Date(NOW);
  const server = await build(t, env, clock);
  return {
    ...server,
    at(seconds: number): void {
      clock.setTime((NOW_SECONDS + seconds) * 1000);
    },
    clock,
  };
}

async function signedUrl(
  app: App,
  key: string,
  query = '',
  headers: Record<string, string> = AUTH,
) {
  const response = await app.inject({
    url: `/generate-signed-url?object_key=${encodeURIComponent(key)}${query}`,
    headers,
  });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<{ signed_url: string }>().signed_url;
}

async function counters(app: App): Promise<{ signatures: number; hits: number }> {
  const text = (await app.inject({ url: '/metrics' })).body;
  const sum = (name: string) =>
    [...text.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\d+)$`, 'gm'))].reduce(
      (total, match) => total + Number(match[1]),
      0,
    );
  return {
    signatures: sum('cfsign_signatures_total'),
    hits: sum('cfsign_signature_cache_hits_total'),
  };
}

/** The multi-tenant configuration with a link window on every distribution. */
function windowedConfig() {
  return {
    ...MULTI_TENANT_CONFIG,
    distributions: MULTI_TENANT_CONFIG.distributions.map((distribution) => ({
      ...distribution,
      linkWindow: WINDOW,
    })),
  };
}

function expiresOf(url: string): number {
  return Number(new URL(url).searchParams.get('Expires'));
}

describe('stable links (CFSIGN_LINK_WINDOW)', () => {
  const env = { ...PRODUCTION_ENV, CFSIGN_LINK_WINDOW: '5m' };

  it('gives every request in one window the same URL, signed once, and a new one after', async (t) => {
    const server = await withClock(t, env);
    server.at(10);
    const first = await signedUrl(server.app, 'videos/a b.mp4', '&ttl=600');
    assert.equal(expiresOf(first), NOW_SECONDS + 900);
    assertAccepted(first, server.clock);
    server.at(250);
    assert.equal(await signedUrl(server.app, 'videos/a b.mp4', '&ttl=600'), first);
    assert.deepEqual(await counters(server.app), { signatures: 1, hits: 1 });

    server.at(310);
    const next = await signedUrl(server.app, 'videos/a b.mp4', '&ttl=600');
    assert.equal(expiresOf(next), NOW_SECONDS + 1200);
    assertAccepted(next, server.clock);
    // Another object in the same window is its own link.
    const other = await signedUrl(server.app, 'videos/b.mp4', '&ttl=600');
    assert.notEqual(other, next);
    assert.deepEqual(await counters(server.app), { signatures: 3, hits: 1 });
  });

  it("never rounds past the distribution's maximum lifetime", async (t) => {
    const server = await withClock(t, { ...env, CFSIGN_MAX_TTL: '700' });
    server.at(10);
    const url = await signedUrl(server.app, 'a.mp4', '&ttl=600');
    assert.equal(expiresOf(url), NOW_SECONDS + 610);
    const response = await server.app.inject({
      url: '/generate-signed-url?object_key=a.mp4&ttl=701',
      headers: AUTH,
    });
    assert.equal(response.statusCode, 400);
  });

  it("never rounds past the client's own maximum lifetime", async (t) => {
    const config = windowedConfig();
    const server = await withClock(t, { CFSIGN_CONFIG: writeConfigFile(t, config) });
    server.at(10);
    // acme may ask for at most 3600 s: the edge at +3900 would pass it.
    const capped = await signedUrl(server.app, 'tenants/acme/a.mp4', '&ttl=3600', bearer('acme'));
    assert.equal(expiresOf(capped), NOW_SECONDS + 3610);
    const rounded = await signedUrl(server.app, 'tenants/acme/a.mp4', '&ttl=600', bearer('acme'));
    assert.equal(expiresOf(rounded), NOW_SECONDS + 900);
  });

  it('serves links and cookies it has already signed while the signing gate is full, and sheds new ones', async (t) => {
    const config = { ...windowedConfig(), server: { maxSigningInFlight: 1 } };
    const server = await withClock(t, { CFSIGN_CONFIG: writeConfigFile(t, config) });
    server.at(10);
    const get = (key: string) =>
      server.app.inject({
        url: `/generate-signed-url?object_key=${encodeURIComponent(key)}`,
        headers: bearer('broad'),
      });
    const cookies = () =>
      server.app.inject({
        method: 'POST',
        url: '/v1/signed-cookies',
        headers: bearer('cookie'),
        payload: { resource: 'videos/*' },
      });
    const hot = await get('videos/hot.mp4');
    assert.equal(hot.statusCode, 200, hot.body);
    const hotCookies = await cookies();
    assert.equal(hotCookies.statusCode, 200, hotCookies.body);
    const signedBefore = (await counters(server.app)).signatures;

    // A batch larger than the cap runs alone and holds the gate while it signs.
    const items = Array.from({ length: 60 }, (_, index) => ({ key: `videos/b${index}.mp4` }));
    const state = { done: false };
    const batch = server.app
      .inject({
        method: 'POST',
        url: '/v1/signed-urls',
        headers: bearer('broad'),
        payload: { items },
      })
      .finally(() => {
        state.done = true;
      });
    const gateHeld = async () =>
      /^cfsign_signing_in_flight 60$/m.test((await server.app.inject({ url: '/metrics' })).body);
    while (!(await gateHeld())) {
      assert.ok(!state.done, 'the batch held the gate at some point');
      await setImmediate();
    }
    const [again, againCookies, fresh] = await Promise.all([
      get('videos/hot.mp4'),
      cookies(),
      get('videos/new.mp4'),
    ]);
    assert.ok(!state.done, 'the batch was still signing');
    assert.equal(again.statusCode, 200, again.body);
    assert.equal(again.body, hot.body);
    assert.equal(againCookies.statusCode, 200, againCookies.body);
    assert.equal(againCookies.body, hotCookies.body);
    assert.equal(fresh.statusCode, 503, fresh.body);
    assert.equal(fresh.json<{ error: string }>().error, 'ERR_OVERLOADED');
    assert.equal((await batch).statusCode, 200);
    // 60 for the batch and none for the links and cookies served again.
    assert.equal((await counters(server.app)).signatures, signedBefore + 60);
  });

  it('spends a rate-limit token on a link it serves again, and refuses it once they are gone', async (t) => {
    const config = {
      ...windowedConfig(),
      clients: MULTI_TENANT_CONFIG.clients.map((client) =>
        client.name === 'broad' ? { ...client, rateLimit: { perSecond: 0.001, burst: 2 } } : client,
      ),
      server: { maxBatchSize: 2 },
    };
    const server = await withClock(t, { CFSIGN_CONFIG: writeConfigFile(t, config) });
    server.at(10);
    const get = () =>
      server.app.inject({
        url: '/generate-signed-url?object_key=videos/hot.mp4',
        headers: bearer('broad'),
      });
    assert.equal((await get()).statusCode, 200);
    assert.equal((await get()).statusCode, 200);
    const refused = await get();
    assert.equal(refused.statusCode, 429, refused.body);
    assert.deepEqual(await counters(server.app), { signatures: 1, hits: 2 });
  });

  it('rounds cookie expiries and batch items too, reusing one signature for equal policies', async (t) => {
    const config = windowedConfig();
    const server = await withClock(t, { CFSIGN_CONFIG: writeConfigFile(t, config) });
    server.at(10);
    const cookies = async () => {
      const response = await server.app.inject({
        method: 'POST',
        url: '/v1/signed-cookies',
        headers: bearer('cookie'),
        payload: { resource: 'videos/*', expiresIn: 600 },
      });
      assert.equal(response.statusCode, 200, response.body);
      return response.json<{ cookies: Record<string, string>; expiresAt: number }>();
    };
    const first = await cookies();
    assert.equal(first.expiresAt, NOW_SECONDS + 900);
    server.at(20);
    assert.deepEqual(await cookies(), first);

    const batch = await server.app.inject({
      method: 'POST',
      url: '/v1/signed-urls',
      headers: bearer('broad'),
      payload: { items: [{ key: 'videos/x.mp4' }, { key: 'videos/x.mp4' }, { key: 'thumbs/x' }] },
    });
    assert.equal(batch.statusCode, 200, batch.body);
    const items = batch.json<{ items: { url: string; expiresAt: number }[] }>().items;
    assert.equal(items[0]?.url, items[1]?.url);
    assert.equal(items[0]?.expiresAt, NOW_SECONDS + 900);
    // One cookie signature, then two for the batch's two distinct objects.
    assert.deepEqual(await counters(server.app), { signatures: 3, hits: 2 });
  });
});

// A reload that switches keys signs the same policy anew with the new key: the cache lives in
// the signer of one key (test/server/reload.test.ts, 'switches the active key').
describe('signature reuse without a window', () => {
  it('signs concurrent requests for one policy once, and each second anew', async (t) => {
    const server = await withClock(t, PRODUCTION_ENV);
    const urls = await Promise.all(
      Array.from({ length: 20 }, () => signedUrl(server.app, 'hot.mp4')),
    );
    assert.equal(new Set(urls).size, 1);
    assertAccepted(urls[0] ?? '', server.clock);
    assert.deepEqual(await counters(server.app), { signatures: 1, hits: 19 });
    server.at(1);
    const later = await signedUrl(server.app, 'hot.mp4');
    assert.notEqual(later, urls[0]);
    assert.equal(expiresOf(later), expiresOf(urls[0] ?? '') + 1);
    assertAccepted(later, server.clock);
  });
});
