import type { RateDecision, RateRule } from './types.ts';

/**
 * The state of one bucket. `level` is the number of tokens times `ticksPerSecond` of the clock
 * in use (milli-tokens for a millisecond clock): refilling then adds `elapsedTicks * perSecond`,
 * which is exact in floating point for integer rates and clocks, so the limiter never grants a
 * fraction of a token more than the rule allows through rounding.
 */
export interface BucketState {
  /** Tokens in the bucket, scaled by the clock's ticks per second. */
  level: number;
  /** Clock reading (in ticks) when `level` was last computed. */
  updatedAt: number;
}

/**
 * Rejects what is a caller's mistake, not a store's trouble: a rule whose rate or burst is not a
 * positive finite number, or a cost that is negative or not finite. Such a call could otherwise
 * make a bucket grant everything (NaN compares false) or nothing forever.
 */
export function assertValidTake(cost: number, rule: RateRule): void {
  if (!Number.isFinite(rule.perSecond) || rule.perSecond <= 0) {
    throw new RangeError(`rate rule perSecond must be a positive number, got ${rule.perSecond}`);
  }
  if (!Number.isFinite(rule.burst) || rule.burst <= 0) {
    throw new RangeError(`rate rule burst must be a positive number, got ${rule.burst}`);
  }
  if (!Number.isFinite(cost) || cost < 0) {
    throw new RangeError(`rate limit cost must be a finite number >= 0, got ${cost}`);
  }
}

/**
 * One token-bucket step, the same arithmetic as the Redis script in `redis.ts` (keep them in
 * step). `state` is undefined for a bucket never seen (or expired), which starts full. A clock
 * that goes backwards refills nothing. Returns the new state to store and the decision.
 */
export function takeFromBucket(
  state: BucketState | undefined,
  now: number,
  cost: number,
  rule: RateRule,
  ticksPerSecond: number,
): { state: BucketState; decision: RateDecision } {
  const capacity = rule.burst * ticksPerSecond;
  let level = capacity;
  if (state !== undefined) {
    level = state.level;
    if (now > state.updatedAt) {
      level = Math.min(capacity, level + (now - state.updatedAt) * rule.perSecond);
    }
    // A rule may have shrunk since the last call: never hold more than the current burst.
    level = Math.min(level, capacity);
  }
  const need = cost * ticksPerSecond;
  let allowed = false;
  let retryAfterSeconds = 0;
  if (cost > rule.burst) {
    retryAfterSeconds = Math.max(1, Math.ceil(rule.burst / rule.perSecond));
  } else if (level >= need) {
    level -= need;
    allowed = true;
  } else {
    retryAfterSeconds = Math.max(1, Math.ceil((need - level) / (rule.perSecond * ticksPerSecond)));
  }
  return {
    state: { level, updatedAt: now },
    decision: { allowed, retryAfterSeconds, remaining: Math.floor(level / ticksPerSecond) },
  };
}
