import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  createMemoryRateLimiter,
  type RateDecision,
  type RateRule,
} from '../../../src/server/rate-limit/index.ts';

/** A clock the test moves by hand, in milliseconds. */
function manualClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return {
    now: () => time,
    advance: (ms) => {
      time += ms;
    },
  };
}

function decision(allowed: boolean, retryAfterSeconds: number, remaining: number): RateDecision {
  return { allowed, retryAfterSeconds, remaining };
}

describe('memory rate limiter', () => {
  it('starts full: a burst passes, then the next take is refused', async () => {
    const limiter = createMemoryRateLimiter({ now: manualClock().now });
    const rule: RateRule = { perSecond: 1, burst: 5 };
    for (const remaining of [4, 3, 2, 1, 0]) {
      assert.deepEqual(await limiter.take('web', 1, rule), decision(true, 0, remaining));
    }
    assert.deepEqual(await limiter.take('web', 1, rule), decision(false, 1, 0));
    await limiter.close();
  });

  it('refills at perSecond, continuously, up to burst', async () => {
    const clock = manualClock();
    const limiter = createMemoryRateLimiter({ now: clock.now });
    const rule: RateRule = { perSecond: 2, burst: 4 };
    assert.equal((await limiter.take('web', 4, rule)).remaining, 0);
    clock.advance(499);
    assert.deepEqual(await limiter.take('web', 1, rule), decision(false, 1, 0));
    clock.advance(1);
    assert.deepEqual(await limiter.take('web', 1, rule), decision(true, 0, 0));
    clock.advance(1_250); // 2.5 tokens
    assert.deepEqual(await limiter.take('web', 1, rule), decision(true, 0, 1));
    clock.advance(60_000); // far more than a bucket: capped at burst
    assert.deepEqual(await limiter.take('web', 0, rule), decision(true, 0, 4));
    assert.deepEqual(await limiter.take('web', 5, rule), decision(false, 2, 4));
    await limiter.close();
  });

  it('takes a whole cost or nothing (a batch of 60 costs 60)', async () => {
    const clock = manualClock();
    const limiter = createMemoryRateLimiter({ now: clock.now });
    const rule: RateRule = { perSecond: 10, burst: 100 };
    assert.deepEqual(await limiter.take('batch', 60, rule), decision(true, 0, 40));
    // 20 tokens short at 10/s: 2 s; nothing is taken.
    assert.deepEqual(await limiter.take('batch', 60, rule), decision(false, 2, 40));
    assert.deepEqual(await limiter.take('batch', 40, rule), decision(true, 0, 0));
    clock.advance(5_999);
    assert.deepEqual(await limiter.take('batch', 60, rule), decision(false, 1, 59));
    clock.advance(1);
    assert.deepEqual(await limiter.take('batch', 60, rule), decision(true, 0, 0));
    await limiter.close();
  });

  it('refuses a cost above burst for ever, with ceil(burst / perSecond) and nothing taken', async () => {
    const clock = manualClock();
    const limiter = createMemoryRateLimiter({ now: clock.now });
    assert.deepEqual(
      await limiter.take('big', 101, { perSecond: 10, burst: 100 }),
      decision(false, 10, 100),
    );
    assert.deepEqual(
      await limiter.take('big', 8, { perSecond: 3, burst: 7 }),
      decision(false, 3, 7),
    );
    clock.advance(3_600_000);
    assert.equal((await limiter.take('big', 101, { perSecond: 10, burst: 100 })).allowed, false);
    assert.deepEqual(
      await limiter.take('big', 100, { perSecond: 10, burst: 100 }),
      decision(true, 0, 0),
    );
    await limiter.close();
  });

  it('rounds retryAfterSeconds up to whole seconds, at least 1', async () => {
    const clock = manualClock();
    const limiter = createMemoryRateLimiter({ now: clock.now });
    const fast: RateRule = { perSecond: 3, burst: 3 };
    await limiter.take('fast', 3, fast);
    assert.equal((await limiter.take('fast', 1, fast)).retryAfterSeconds, 1); // 1/3 s
    assert.equal((await limiter.take('fast', 3, fast)).retryAfterSeconds, 1); // exactly 1 s
    clock.advance(100);
    assert.equal((await limiter.take('fast', 3, fast)).retryAfterSeconds, 1); // 0.9 s

    const slow: RateRule = { perSecond: 1, burst: 2 };
    await limiter.take('slow', 2, slow);
    assert.equal((await limiter.take('slow', 2, slow)).retryAfterSeconds, 2); // exactly 2 s
    clock.advance(1);
    assert.equal((await limiter.take('slow', 2, slow)).retryAfterSeconds, 2); // 1.999 s
    clock.advance(999);
    assert.equal((await limiter.take('slow', 2, slow)).retryAfterSeconds, 1); // exactly 1 s
    clock.advance(1);
    assert.equal((await limiter.take('slow', 2, slow)).retryAfterSeconds, 1); // 0.999 s

    const fractional: RateRule = { perSecond: 0.5, burst: 1 };
    await limiter.take('fractional', 1, fractional);
    assert.deepEqual(await limiter.take('fractional', 1, fractional), decision(false, 2, 0));
    clock.advance(2_000);
    assert.deepEqual(await limiter.take('fractional', 1, fractional), decision(true, 0, 0));
    await limiter.close();
  });

  it('keeps one bucket per key', async () => {
    const limiter = createMemoryRateLimiter({ now: manualClock().now });
    const rule: RateRule = { perSecond: 1, burst: 2 };
    assert.equal((await limiter.take('a', 2, rule)).allowed, true);
    assert.equal((await limiter.take('a', 1, rule)).allowed, false);
    assert.deepEqual(await limiter.take('b', 1, rule), decision(true, 0, 1));
    assert.deepEqual(await limiter.take('A', 1, rule), decision(true, 0, 1));
    await limiter.close();
  });

  it('reports whole remaining tokens, rounded down, and passes a cost of 0', async () => {
    const clock = manualClock();
    const limiter = createMemoryRateLimiter({ now: clock.now });
    const rule: RateRule = { perSecond: 4, burst: 10 };
    assert.deepEqual(await limiter.take('r', 10, rule), decision(true, 0, 0));
    clock.advance(999); // 3.996 tokens
    assert.deepEqual(await limiter.take('r', 0, rule), decision(true, 0, 3));
    assert.deepEqual(await limiter.take('r', 4, rule), decision(false, 1, 3));
    clock.advance(1);
    assert.deepEqual(await limiter.take('r', 4, rule), decision(true, 0, 0));
    await limiter.close();
  });

  it('creates no tokens when the clock goes backwards, and clamps to a smaller burst', async () => {
    const clock = manualClock();
    const limiter = createMemoryRateLimiter({ now: clock.now });
    await limiter.take('k', 5, { perSecond: 1, burst: 5 });
    clock.advance(-10_000);
    assert.deepEqual(await limiter.take('k', 1, { perSecond: 1, burst: 5 }), decision(false, 1, 0));
    clock.advance(1_000);
    assert.deepEqual(await limiter.take('k', 1, { perSecond: 1, burst: 5 }), decision(true, 0, 0));
    clock.advance(60_000);
    assert.deepEqual(await limiter.take('k', 0, { perSecond: 1, burst: 2 }), decision(true, 0, 2));
    await limiter.close();
  });

  it('rejects a cost or a rule that is a programming error', async () => {
    const limiter = createMemoryRateLimiter();
    const rule: RateRule = { perSecond: 1, burst: 1 };
    await assert.rejects(limiter.take('k', -1, rule), RangeError);
    await assert.rejects(limiter.take('k', Number.NaN, rule), RangeError);
    await assert.rejects(limiter.take('k', Number.POSITIVE_INFINITY, rule), RangeError);
    await assert.rejects(limiter.take('k', 1, { perSecond: 0, burst: 1 }), RangeError);
    await assert.rejects(limiter.take('k', 1, { perSecond: 1, burst: -1 }), RangeError);
    await assert.rejects(limiter.take('k', 1, { perSecond: Number.NaN, burst: 1 }), RangeError);
    assert.throws(() => createMemoryRateLimiter({ maxKeys: 0 }), RangeError);
    assert.throws(() => createMemoryRateLimiter({ maxKeys: 1.5 }), RangeError);
    await limiter.close();
  });

  it('holds at most maxKeys buckets, dropping the least recently used', async () => {
    const limiter = createMemoryRateLimiter({ now: manualClock().now, maxKeys: 3 });
    const rule: RateRule = { perSecond: 1, burst: 1 };
    await limiter.take('a', 1, rule);
    await limiter.take('b', 1, rule);
    await limiter.take('c', 1, rule);
    assert.equal(limiter.size, 3);
    assert.equal((await limiter.take('a', 1, rule)).allowed, false); // a is now most recent
    await limiter.take('d', 1, rule); // evicts b, the least recently used
    assert.equal(limiter.size, 3);
    assert.equal((await limiter.take('a', 1, rule)).allowed, false, 'a was kept');
    assert.equal((await limiter.take('c', 1, rule)).allowed, false, 'c was kept');
    assert.equal((await limiter.take('b', 1, rule)).allowed, true, 'b came back full');
    assert.equal(limiter.size, 3);
    await limiter.close();
    assert.equal(limiter.size, 0);
  });

  it('keeps the default bound of 10 000 buckets under many distinct keys', async () => {
    const limiter = createMemoryRateLimiter();
    const rule: RateRule = { perSecond: 1, burst: 1 };
    const started = performance.now();
    for (let i = 0; i < 50_000; i += 1) await limiter.take(`client-${i}`, 1, rule);
    assert.equal(limiter.size, 10_000);
    assert.ok(performance.now() - started < 2_000, 'each call is O(1)');
    await limiter.close();
  });

  describe('properties', () => {
    const exactRule = fc.record({
      // Integer and dyadic rates keep the bucket's arithmetic exact, so the bound is exact.
      perSecond: fc.oneof(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 64 }).map((n) => n / 8),
      ),
      burst: fc.integer({ min: 1, max: 50 }),
    });
    const steps = fc.array(
      fc.record({
        advanceMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3_000 })),
        cost: fc.integer({ min: 0, max: 60 }),
        key: fc.constantFrom('a', 'b'),
      }),
      { maxLength: 150 },
    );

    /** Runs the steps; returns each key's grants as [time ms, cost]. */
    async function grantsOf(
      rule: RateRule,
      run: { advanceMs: number; cost: number; key: string }[],
    ): Promise<Map<string, [number, number][]>> {
      const clock = manualClock(0);
      const limiter = createMemoryRateLimiter({ now: clock.now });
      const grants = new Map<string, [number, number][]>();
      for (const step of run) {
        clock.advance(step.advanceMs);
        const result = await limiter.take(step.key, step.cost, rule);
        assert.ok(result.remaining >= 0 && result.remaining <= rule.burst);
        if (result.allowed) {
          assert.ok(step.cost <= rule.burst);
          const list = grants.get(step.key) ?? [];
          list.push([clock.now(), step.cost]);
          grants.set(step.key, list);
        }
      }
      await limiter.close();
      return grants;
    }

    /** The most tokens granted in any window [start, end] exceeds the bound by at most `slack`. */
    function assertWithinBound(
      rule: RateRule,
      grants: Map<string, [number, number][]>,
      slack: number,
    ): void {
      for (const [key, list] of grants) {
        for (let i = 0; i < list.length; i += 1) {
          let granted = 0;
          const [start] = list[i] ?? [0, 0];
          for (let j = i; j < list.length; j += 1) {
            const [end, cost] = list[j] ?? [0, 0];
            granted += cost;
            // In milli-tokens: granted <= burst + perSecond * (end - start) / 1000.
            const bound = rule.burst * 1000 + rule.perSecond * (end - start);
            assert.ok(
              granted * 1000 <= bound + slack,
              `${key}: ${granted} tokens granted in ${end - start} ms under ${JSON.stringify(rule)}`,
            );
          }
        }
      }
    }

    it('never grants more than burst + perSecond × window, in any window', async () => {
      await fc.assert(
        fc.asyncProperty(exactRule, steps, async (rule, run) => {
          assertWithinBound(rule, await grantsOf(rule, run), 0);
        }),
        { numRuns: 300 },
      );
    });

    it('keeps that bound for any rate, up to floating-point rounding', async () => {
      const anyRule = fc.record({
        perSecond: fc.double({ min: 0.01, max: 100, noNaN: true }),
        burst: fc.double({ min: 1, max: 50, noNaN: true }),
      });
      await fc.assert(
        fc.asyncProperty(anyRule, steps, async (rule, run) => {
          assertWithinBound(rule, await grantsOf(rule, run), 1e-6);
        }),
        { numRuns: 200 },
      );
    });

    it('tells the exact whole second a refused cost will pass', async () => {
      await fc.assert(
        fc.asyncProperty(exactRule, steps, fc.nat(60), async (rule, run, wanted) => {
          const clock = manualClock(0);
          const limiter = createMemoryRateLimiter({ now: clock.now });
          for (const step of run) {
            clock.advance(step.advanceMs);
            await limiter.take('k', step.cost, rule);
          }
          const cost = Math.min(wanted, rule.burst);
          const refused = await limiter.take('k', cost, rule);
          if (!refused.allowed) {
            assert.ok(refused.retryAfterSeconds >= 1);
            clock.advance((refused.retryAfterSeconds - 1) * 1000);
            assert.equal(
              (await limiter.take('k', cost, rule)).allowed,
              false,
              'not a second early',
            );
            clock.advance(1000);
            assert.equal((await limiter.take('k', cost, rule)).allowed, true, 'on time');
          }
          await limiter.close();
        }),
        { numRuns: 300 },
      );
    });
  });
});
