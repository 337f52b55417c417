import { performance } from 'node:perf_hooks';
import { assertValidTake, takeFromBucket, type BucketState } from './bucket.ts';
import type { RateDecision, RateLimiter, RateRule } from './types.ts';

/** Buckets kept by default: far more than the clients of one instance, a few MB at most. */
export const DEFAULT_MAX_KEYS = 10_000;

export interface MemoryRateLimiterOptions {
  /**
   * The clock, in milliseconds; only differences between readings matter. Defaults to the
   * monotonic `performance.now()`, which a wall-clock change cannot move. Tests inject one.
   */
  now?: () => number;
  /**
   * Most buckets held at once (an integer >= 1, default 10 000), so that many distinct keys
   * cannot grow memory without bound. Past it the least recently used bucket is dropped; a
   * dropped bucket comes back full, so keep this above the number of clients active at once.
   */
  maxKeys?: number;
}

/** A memory limiter, with the number of buckets it holds (for tests and metrics). */
export interface MemoryRateLimiter extends RateLimiter {
  /** Buckets currently held (never more than `maxKeys`). */
  readonly size: number;
}

/**
 * Token buckets in this process's memory: exact and fast (O(1) per call, no timer), but each
 * instance of the service counts alone. Used as is for a single instance, and as the fallback
 * of the Redis limiter while Redis is unreachable.
 */
export function createMemoryRateLimiter(options: MemoryRateLimiterOptions = {}): MemoryRateLimiter {
  const now = options.now ?? (() => performance.now());
  const maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
  if (!Number.isInteger(maxKeys) || maxKeys < 1) {
    throw new RangeError(`maxKeys must be an integer >= 1, got ${maxKeys}`);
  }
  // A Map iterates in insertion order; re-inserting a bucket on each use keeps the least
  // recently used one first, so eviction is one delete of the first key.
  const buckets = new Map<string, BucketState>();

  return {
    get size() {
      return buckets.size;
    },

    async take(key: string, cost: number, rule: RateRule): Promise<RateDecision> {
      assertValidTake(cost, rule);
      const previous = buckets.get(key);
      const { state, decision } = takeFromBucket(previous, now(), cost, rule, 1000);
      if (previous !== undefined) {
        buckets.delete(key);
      } else if (buckets.size >= maxKeys) {
        const oldest = buckets.keys().next();
        if (oldest.done !== true) buckets.delete(oldest.value);
      }
      buckets.set(key, state);
      return decision;
    },

    async close(): Promise<void> {
      buckets.clear();
    },
  };
}
