/**
 * A token bucket's shape. The bucket holds at most `burst` tokens and gains `perSecond` tokens
 * per second, continuously (not in whole-second steps), until it is full again. A new or idle
 * bucket is full, so a client may spend `burst` tokens at once and then `perSecond` per second.
 */
export interface RateRule {
  /** Tokens added per second (a positive, finite number; fractions allowed, e.g. 0.5). */
  perSecond: number;
  /** Capacity in tokens: the most a client can spend at once (a positive, finite number). */
  burst: number;
}

/** What one `take` decided. */
export interface RateDecision {
  /** True when the tokens were taken; false when nothing was taken. */
  allowed: boolean;
  /**
   * 0 when allowed. Otherwise whole seconds (rounded up, at least 1) until the bucket will hold
   * enough tokens for the same cost, for a `Retry-After` header. When the cost exceeds `burst`
   * the request can never pass, and this is the time to refill a whole bucket,
   * `ceil(burst / perSecond)`, so that a client that retries does not retry at once.
   */
  retryAfterSeconds: number;
  /** Whole tokens left in the bucket after this decision (rounded down), for `RateLimit-Remaining`. */
  remaining: number;
}

/** Per-client token buckets: one bucket per `key`, shaped by the `rule` of each call. */
export interface RateLimiter {
  /**
   * Takes `cost` tokens from the bucket `key` under `rule`: all of them or, when the bucket
   * holds fewer, none. A request costs what it makes (a batch of 60 signatures costs 60).
   * Never throws for store trouble (a store that fails is replaced by a fallback); it rejects
   * only for a programming error (a negative or non-finite cost, a rule that is not positive),
   * with a `RangeError`.
   */
  take(key: string, cost: number, rule: RateRule): Promise<RateDecision>;
  /** Releases the store (connections, memory). Leaves no timer or socket behind. */
  close(): Promise<void>;
}
