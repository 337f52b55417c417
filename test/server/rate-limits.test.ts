import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { bearer, MULTI_TENANT_CONFIG, writeConfigFile } from '../helpers/config-file.ts';
import { build, type TestServer } from '../helpers/server.ts';
import { RedisServer } from './rate-limit/redis-server.ts';

const LIMITED = {
  ...MULTI_TENANT_CONFIG,
  clients: MULTI_TENANT_CONFIG.clients.map((client) =>
    client.name === 'broad' ? { ...client, rateLimit: { perSecond: 0.001, burst: 4 } } : client,
  ),
  server: { maxBatchSize: 2 },
};

async function limited(
  t: TestContext,
  extra: Record<string, unknown> = {},
  env: Record<string, string> = {},
): Promise<TestServer> {
  return build(t, { CFSIGN_CONFIG: writeConfigFile(t, { ...LIMITED, ...extra }), ...env });
}

function signOne(server: TestServer, client: Parameters<typeof bearer>[0] = 'broad') {
  return server.app.inject({
    url: '/generate-signed-url?object_key=videos/a.mp4',
    headers: bearer(client),
  });
}

function batchOfTwo(server: TestServer) {
  return server.app.inject({
    method: 'POST',
    url: '/v1/signed-urls',
    headers: bearer('broad'),
    payload: { items: [{ key: 'videos/a' }, { key: 'videos/b' }] },
  });
}

function assertLimited(response: {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
}): void {
  assert.equal(response.statusCode, 429, response.body);
  assert.equal((JSON.parse(response.body) as { error: string }).error, 'ERR_RATE_LIMITED');
  assert.ok(Number(response.headers['retry-after']) >= 1);
}

describe('per-client rate limits', () => {
  it('counts signatures, so a batch of two costs two, and answers 429 with Retry-After when spent', async (t) => {
    const server = await limited(t);
    assert.equal((await batchOfTwo(server)).statusCode, 200);
    assert.equal((await signOne(server)).statusCode, 200);
    assert.equal((await signOne(server)).statusCode, 200);
    assertLimited(await signOne(server));
    assert.equal(
      (await signOne(server, 'acme')).statusCode,
      403,
      'another client has its own bucket',
    );
  });

  it('refuses a client whose burst could never fit a full batch, at start-up', async (t) => {
    const broken = { ...LIMITED, server: { maxBatchSize: 10 } };
    await assert.rejects(
      () => build(t, { CFSIGN_CONFIG: writeConfigFile(t, broken) }),
      /burst \(4\) is below the largest batch \(10\)/,
    );
  });
});

describe('per-address rate limit', () => {
  it('refuses a flood from one address before authentication', async (t) => {
    const server = await limited(t, { rateLimit: { ip: { perSecond: 0.001, burst: 2 } } });
    for (let i = 0; i < 2; i += 1) {
      assert.equal(
        (await server.app.inject({ url: '/generate-signed-url?object_key=a' })).statusCode,
        401,
      );
    }
    assertLimited(await server.app.inject({ url: '/generate-signed-url?object_key=a' }));
    assert.equal(
      (await server.app.inject({ url: '/healthz' })).statusCode,
      200,
      'health is never limited',
    );
  });
});

describe('shared limits in Redis', () => {
  it('shares one bucket between two instances, falls back when Redis goes away, and shares again when it returns', async (t) => {
    const redis = await RedisServer.start();
    t.after(() => redis.stop());
    const env = { CFSIGN_RATE_LIMIT_STORE: `redis://127.0.0.1:${redis.port}/0` };
    const first = await limited(t, {}, env);
    const second = await limited(t, {}, env);
    // Wait until both limiters are connected, so the first takes are shared.
    await sleep(300);
    assert.equal((await signOne(first)).statusCode, 200);
    assert.equal((await signOne(second)).statusCode, 200);
    assert.equal((await signOne(first)).statusCode, 200);
    assert.equal((await signOne(second)).statusCode, 200);
    assertLimited(await signOne(first));
    assertLimited(await signOne(second));

    await redis.kill();
    await sleep(1100);
    // Each instance now limits alone, in memory (a fresh bucket of 4), and never answers 5xx.
    const during = [await signOne(first), await signOne(second)];
    assert.deepEqual(
      during.map((response) => response.statusCode),
      [200, 200],
    );
    assert.ok(
      first.logs.some(
        (line) =>
          line['level'] === 40 &&
          /rate-limit store redis:\/\/127\.0\.0\.1:\d+\/0 is unavailable/.test(String(line['msg'])),
      ),
      'a warning names the store without credentials',
    );
    assert.equal(
      first.logs.filter((line) => /is unavailable/.test(String(line['msg']))).length,
      1,
      'warned once',
    );

    await redis.restart();
    const deadline = Date.now() + 5000;
    while (
      Date.now() < deadline &&
      !first.logs.some((line) => /limits are shared again/.test(String(line['msg'])))
    ) {
      // Recovery is noticed by the next take, as traffic arrives.
      await signOne(first);
      await sleep(100);
    }
    assert.ok(
      first.logs.some((line) => /limits are shared again/.test(String(line['msg']))),
      'recovery is logged',
    );
  });
});
