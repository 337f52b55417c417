/**
 * Per-client rate limits as token buckets: in this process's memory, or in a Redis shared by
 * every instance with the memory limiter as fallback while Redis is unreachable.
 */
export type { RateDecision, RateLimiter, RateRule } from './types.ts';
export {
  createMemoryRateLimiter,
  DEFAULT_MAX_KEYS,
  type MemoryRateLimiter,
  type MemoryRateLimiterOptions,
} from './memory.ts';
export { createRedisRateLimiter, describeRedisUrl, type RedisRateLimiterOptions } from './redis.ts';
