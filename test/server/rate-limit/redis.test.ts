import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import {
  createMemoryRateLimiter,
  createRedisRateLimiter,
  describeRedisUrl,
  type RateDecision,
  type RateLimiter,
  type RateRule,
} from '../../../src/server/rate-limit/index.ts';
import { freePort, RedisServer, redisServerInstalled } from './redis-server.ts';

// These run against a real Redis, never skipped: .ci/run installs redis-server, and so must
// anyone running npm test (apt-get install redis-server).
assert.ok(redisServerInstalled(), 'redis-server is not installed: apt-get install redis-server');

function decision(allowed: boolean, retryAfterSeconds: number, remaining: number): RateDecision {
  return { allowed, retryAfterSeconds, remaining };
}

/** A memory limiter that counts the calls it gets: the Redis limiter's fallback. */
function countingFallback(): RateLimiter & { calls: number } {
  const inner = createMemoryRateLimiter();
  const spy = {
    calls: 0,
    take: (key: string, cost: number, rule: RateRule) => {
      spy.calls += 1;
      return inner.take(key, cost, rule);
    },
    close: () => inner.close(),
  };
  return spy;
}

/** A Redis limiter, its counting fallback, and the callbacks it made (with their times, in ms). */
interface Observed {
  limiter: RateLimiter;
  fallback: RateLimiter & { calls: number };
  problems: { at: number; message: string }[];
  recoveries: number[];
}

function observedLimiter(
  url: string,
  options: { warnIntervalMs?: number; commandTimeoutMs?: number; keyPrefix?: string } = {},
): Observed {
  const fallback = countingFallback();
  const problems: Observed['problems'] = [];
  const recoveries: number[] = [];
  const limiter = createRedisRateLimiter({
    url,
    fallback,
    onStoreProblem: (message) => problems.push({ at: performance.now(), message }),
    onStoreRecovered: () => recoveries.push(performance.now()),
    ...options,
  });
  return { limiter, fallback, problems, recoveries };
}

/**
 * Waits until the limiter answers from Redis (it connects in the background as it is made),
 * then zeroes its fallback count.
 */
async function ready(observed: Observed): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    const before = observed.fallback.calls;
    await observed.limiter.take('warm-up', 0, { perSecond: 1, burst: 1 });
    if (observed.fallback.calls === before) {
      observed.fallback.calls = 0;
      return;
    }
    await sleep(10);
  }
  throw new Error('the limiter never connected to Redis');
}

describe('redis rate limiter', () => {
  let server: RedisServer;
  let raw: Redis;
  /** Limiters on the shared server: they must never fall back nor report a problem. */
  const healthy: Observed[] = [];
  let next = 0;
  /** A bucket key no other test uses. */
  const freshKey = () => `client-${(next += 1)}`;

  before(async () => {
    server = await RedisServer.start();
    raw = new Redis(server.url);
  });

  afterEach(() => {
    for (const { fallback, problems } of healthy) {
      assert.deepEqual(problems, []);
      assert.equal(fallback.calls, 0, 'Redis was used for every take');
    }
  });

  after(async () => {
    await Promise.all(healthy.map(({ limiter }) => limiter.close()));
    await raw.quit();
    await server.stop();
  });

  /** A connected limiter on the shared server. */
  async function shared(keyPrefix?: string): Promise<RateLimiter> {
    const observed = observedLimiter(server.url, keyPrefix === undefined ? {} : { keyPrefix });
    healthy.push(observed);
    await ready(observed);
    return observed.limiter;
  }

  it('starts full: a burst passes, then the next take is refused', async () => {
    const limiter = await shared();
    const key = freshKey();
    const rule: RateRule = { perSecond: 1, burst: 5 };
    for (const remaining of [4, 3, 2, 1, 0]) {
      assert.deepEqual(await limiter.take(key, 1, rule), decision(true, 0, remaining));
    }
    assert.deepEqual(await limiter.take(key, 1, rule), decision(false, 1, 0));
  });

  it('takes a whole cost or nothing, and refuses a cost above burst with ceil(burst / perSecond)', async () => {
    const limiter = await shared();
    const key = freshKey();
    const rule: RateRule = { perSecond: 10, burst: 100 };
    assert.deepEqual(await limiter.take(key, 60, rule), decision(true, 0, 40));
    assert.deepEqual(await limiter.take(key, 60, rule), decision(false, 2, 40));
    assert.deepEqual(await limiter.take(key, 101, rule), decision(false, 10, 40));
    assert.deepEqual(await limiter.take(key, 40, rule), decision(true, 0, 0));
    const fractional = freshKey();
    await limiter.take(fractional, 1, { perSecond: 0.5, burst: 1 });
    assert.deepEqual(
      await limiter.take(fractional, 1, { perSecond: 0.5, burst: 1 }),
      decision(false, 2, 0),
    );
  });

  it('refills at perSecond with time, up to burst', async () => {
    const limiter = await shared();
    const key = freshKey();
    const rule: RateRule = { perSecond: 20, burst: 2 };
    assert.equal((await limiter.take(key, 2, rule)).allowed, true);
    assert.equal((await limiter.take(key, 1, rule)).allowed, false);
    await sleep(60); // 1.2 tokens
    assert.deepEqual(await limiter.take(key, 1, rule), decision(true, 0, 0));
    await sleep(250); // far more than the bucket holds
    assert.deepEqual(await limiter.take(key, 0, rule), decision(true, 0, 2));
  });

  it('keeps one bucket per key, under the key prefix, expiring once it would be full', async () => {
    const limiter = await shared();
    const other = await shared('other-app:');
    const key = freshKey();
    const rule: RateRule = { perSecond: 1, burst: 5 };
    assert.equal((await limiter.take(key, 5, rule)).allowed, true);
    assert.deepEqual(await limiter.take(`${key}-b`, 1, rule), decision(true, 0, 4));
    assert.deepEqual(await other.take(key, 1, rule), decision(true, 0, 4));
    const ttl = await raw.pttl(`cfsign:rl:${key}`);
    assert.ok(ttl > 4_000 && ttl <= 6_000, `empty bucket of 5 at 1/s expires in ${ttl} ms`);
    assert.ok((await raw.pttl(`other-app:${key}`)) > 0);
  });

  it("uses the Redis server's clock, in microseconds", async () => {
    const limiter = await shared();
    const key = freshKey();
    await limiter.take(key, 1, { perSecond: 1, burst: 5 });
    const [seconds, micros] = await raw.time();
    const serverNow = Number(seconds) * 1e6 + Number(micros);
    const at = Number(await raw.hget(`cfsign:rl:${key}`, 'at'));
    assert.ok(Math.abs(serverNow - at) < 1e6, `stored ${at}, server time ${serverNow}`);
    assert.equal(Number(await raw.hget(`cfsign:rl:${key}`, 'level')), 4e6);
  });

  it('shares one bucket between two instances, atomically', async () => {
    const a = await shared();
    const b = await shared();
    const key = freshKey();
    const rule: RateRule = { perSecond: 0.001, burst: 5 };
    assert.deepEqual(await a.take(key, 3, rule), decision(true, 0, 2));
    assert.deepEqual(await b.take(key, 3, rule), decision(false, 1000, 2));
    assert.deepEqual(await b.take(key, 2, rule), decision(true, 0, 0));
    assert.equal((await a.take(key, 1, rule)).allowed, false);

    const race = freshKey();
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        (i % 2 === 0 ? a : b).take(race, 1, { perSecond: 0.001, burst: 20 }),
      ),
    );
    assert.equal(results.filter((result) => result.allowed).length, 20);
  });

  it('loads the script again after Redis forgets it (EVALSHA, then EVAL)', async () => {
    const limiter = await shared();
    const key = freshKey();
    assert.equal((await limiter.take(key, 1, { perSecond: 1, burst: 2 })).remaining, 1);
    await raw.script('FLUSH');
    assert.equal((await limiter.take(key, 1, { perSecond: 1, burst: 2 })).remaining, 0);
  });

  it('refuses a URL that is not redis:// without quoting it', () => {
    assert.equal(
      describeRedisUrl('redis://user:pw@cache.internal:6380/2'),
      'redis://cache.internal:6380/2',
    );
    assert.equal(describeRedisUrl('rediss://:pw@cache.internal'), 'rediss://cache.internal');
    const fallback = createMemoryRateLimiter();
    for (const url of ['http://:hunter2@cache:6379', 'not a url hunter2']) {
      assert.throws(
        () => createRedisRateLimiter({ url, fallback }),
        (error: unknown) => error instanceof RangeError && !error.message.includes('hunter2'),
      );
    }
  });

  it('falls back at once, without blocking, when Redis is unreachable from the start', async (t) => {
    const port = await freePort();
    const { limiter, fallback, problems } = observedLimiter(`redis://:hunter2@127.0.0.1:${port}/0`);
    t.after(() => limiter.close());
    const started = performance.now();
    for (let i = 0; i < 3; i += 1) {
      assert.deepEqual(
        await limiter.take('k', 1, { perSecond: 1, burst: 5 }),
        decision(true, 0, 4 - i),
      );
    }
    assert.ok(performance.now() - started < 100, 'no take waits for Redis');
    assert.equal(fallback.calls, 3);
    // The refused connection is reported as soon as it fails, once.
    while (problems.length === 0 && performance.now() - started < 1_000) await sleep(10);
    for (let i = 0; i < 5; i += 1) await limiter.take('k', 0, { perSecond: 1, burst: 5 });
    assert.equal(problems.length, 1);
    const message = problems[0]?.message ?? '';
    assert.match(
      message,
      new RegExp(`^rate-limit store redis://127\\.0\\.0\\.1:${port}/0 is unavailable`),
    );
    assert.match(message, /ECONNREFUSED/);
    assert.doesNotMatch(message, /hunter2/);
  });

  it('falls back within a second when Redis dies, warns once per interval, and resumes sharing when it is back', async (t) => {
    const password = 'p@ss/w0rd hunter2';
    const own = await RedisServer.start({ password });
    t.after(() => own.stop());
    // a warns once per minute, b every 300 ms.
    const a = observedLimiter(own.url, { warnIntervalMs: 60_000 });
    const b = observedLimiter(own.url, { warnIntervalMs: 300 });
    t.after(() => Promise.all([a.limiter.close(), b.limiter.close()]));
    const rule: RateRule = { perSecond: 0.001, burst: 10 };
    await ready(a);
    await ready(b);
    assert.equal((await a.limiter.take('shared', 4, rule)).remaining, 6);
    assert.equal((await b.limiter.take('shared', 4, rule)).remaining, 2);
    assert.equal(a.problems.length + b.problems.length, 0);

    await own.kill();
    const killedAt = performance.now();
    const before = { a: a.fallback.calls, b: b.fallback.calls };
    let firstFallback: number | undefined;
    // 1.2 s of traffic while Redis is down: nothing throws, everything is decided.
    while (performance.now() - killedAt < 1_200) {
      const [fromA, fromB] = await Promise.all([
        a.limiter.take('outage', 1, { perSecond: 100, burst: 100 }),
        b.limiter.take('outage', 1, { perSecond: 100, burst: 100 }),
      ]);
      assert.equal(fromA.allowed && fromB.allowed, true);
      if (
        firstFallback === undefined &&
        a.fallback.calls > before.a &&
        b.fallback.calls > before.b
      ) {
        firstFallback = performance.now() - killedAt;
      }
      await sleep(20);
    }
    assert.ok(
      firstFallback !== undefined && firstFallback < 1_000,
      `fell back after ${firstFallback} ms`,
    );
    assert.equal(a.problems.length, 1, 'one warning per 60 s interval');
    assert.ok(
      b.problems.length >= 3 && b.problems.length <= 5,
      `${b.problems.length} warnings in 1.2 s at 300 ms`,
    );
    for (let i = 1; i < b.problems.length; i += 1) {
      const gap = (b.problems[i]?.at ?? 0) - (b.problems[i - 1]?.at ?? 0);
      assert.ok(gap >= 300, `warnings ${gap} ms apart`);
    }
    for (const { message } of [...a.problems, ...b.problems]) {
      assert.match(message, new RegExp(`redis://127\\.0\\.0\\.1:${own.port}/0 is unavailable`));
      assert.doesNotMatch(message, /hunter2|p@ss|p%40ss/);
    }
    assert.equal(a.recoveries.length + b.recoveries.length, 0);

    await own.restart();
    const restartedAt = performance.now();
    // Both resume Redis within the reconnection backoff (capped at about 1 s).
    for (;;) {
      const calls = { a: a.fallback.calls, b: b.fallback.calls };
      await a.limiter.take('probe', 0, rule);
      await b.limiter.take('probe', 0, rule);
      if (a.fallback.calls === calls.a && b.fallback.calls === calls.b) break;
      assert.ok(performance.now() - restartedAt < 3_000, 'Redis was used again within 3 s');
      await sleep(25);
    }
    assert.equal(a.recoveries.length, 1);
    assert.equal(b.recoveries.length, 1);
    // Shared again (the restarted Redis is empty: the bucket starts full).
    assert.deepEqual(await a.limiter.take('shared', 7, rule), decision(true, 0, 3));
    assert.deepEqual(await b.limiter.take('shared', 4, rule), decision(false, 1000, 3));
    assert.deepEqual(await b.limiter.take('shared', 3, rule), decision(true, 0, 0));
    assert.equal(a.recoveries.length + b.recoveries.length, 2, 'recovered once each');
    assert.equal(a.problems.length, 1);
  });

  it('does not let a frozen Redis slow requests: commandTimeoutMs, then the fallback', async (t) => {
    const own = await RedisServer.start();
    t.after(() => own.stop());
    const observed = observedLimiter(own.url, { warnIntervalMs: 60_000, commandTimeoutMs: 100 });
    const { limiter, fallback, problems, recoveries } = observed;
    t.after(() => limiter.close());
    await ready(observed);
    const rule: RateRule = { perSecond: 0.001, burst: 10 };
    assert.equal((await limiter.take('frozen', 1, rule)).remaining, 9);
    own.pause();
    let started = performance.now();
    assert.deepEqual(await limiter.take('frozen', 1, rule), decision(true, 0, 9)); // the fallback's bucket, full
    const firstWait = performance.now() - started;
    assert.ok(firstWait >= 90 && firstWait < 400, `waited ${firstWait} ms`);
    started = performance.now();
    for (let i = 0; i < 20; i += 1) await limiter.take('frozen', 0, rule);
    assert.ok(
      performance.now() - started < 100,
      'later requests do not wait while Redis is frozen',
    );
    assert.equal(problems.length, 1);
    assert.match(problems[0]?.message ?? '', /no answer within 100 ms/);

    own.resume();
    const resumedAt = performance.now();
    for (;;) {
      const calls = fallback.calls;
      const result = await limiter.take('frozen', 0, rule);
      if (fallback.calls === calls) {
        // Redis again: the timed-out take may or may not have reached it.
        assert.ok(
          result.remaining === 9 || result.remaining === 8,
          `remaining ${result.remaining}`,
        );
        break;
      }
      assert.ok(performance.now() - resumedAt < 3_000, 'Redis was used again within 3 s');
      await sleep(25);
    }
    assert.equal(recoveries.length, 1);
  });
});
