import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { assertValidTake } from './bucket.ts';
import type { RateDecision, RateLimiter, RateRule } from './types.ts';

export interface RedisRateLimiterOptions {
  /** `redis://[[user]:password@]host[:port][/db]` or `rediss://` for TLS. */
  url: string;
  /**
   * Used while Redis is unreachable or failing, so that limits still hold (per instance) and no
   * request waits for Redis. The Redis limiter owns it: `close()` closes it too.
   */
  fallback: RateLimiter;
  /**
   * Told that Redis failed and the fallback is in use: at most once per `warnIntervalMs`, however
   * many requests fail, so that an outage gives a log line, not a log flood. The message names
   * the host, port and database and the reason, never the URL's user name or password.
   * Like `onStoreRecovered`, it must not throw (what it throws is ignored).
   */
  onStoreProblem?: (message: string) => void;
  /** Told once when Redis answers again after an outage that `onStoreProblem` reported. */
  onStoreRecovered?: () => void;
  /** Least time between two `onStoreProblem` calls, in ms (default 30 000). */
  warnIntervalMs?: number;
  /**
   * Longest wait for one Redis answer, in ms (default 200), after which the request uses the
   * fallback: a slow Redis must not slow requests down.
   */
  commandTimeoutMs?: number;
  /** Prefix of every bucket's Redis key (default `cfsign:rl:`), to share a Redis with others. */
  keyPrefix?: string;
}

const DEFAULT_WARN_INTERVAL_MS = 30_000;
const DEFAULT_COMMAND_TIMEOUT_MS = 200;
const DEFAULT_KEY_PREFIX = 'cfsign:rl:';
/** A TCP connection that takes longer than this is abandoned and retried. */
const CONNECT_TIMEOUT_MS = 1_000;
/** Longest wait between two reconnection attempts (plus up to 100 ms of jitter). */
const MAX_RECONNECT_DELAY_MS = 1_000;
/**
 * After a failed command on a connection that still looks open (a timeout, an error reply),
 * requests skip Redis for this long, then one request at a time tries it again: a hung Redis
 * then costs one `commandTimeoutMs` wait per second, not one per request.
 */
const RETRY_PAUSE_MS = 1_000;
const COMMAND = 'cfsignTakeTokens';

/**
 * The token bucket of `bucket.ts` as one atomic script, so that concurrent instances never both
 * spend the same tokens. Time is the Redis server's `TIME` in microseconds, so instances whose
 * clocks disagree still agree on the bucket; `level` is in micro-tokens (tokens × 10^6), which
 * keeps refills exact for integer rates. Numbers are written with `%.17g` because Redis turns a
 * bare Lua number into a string with only 14 significant digits. The key expires once the
 * bucket would be full again (plus 1 s), since a missing bucket is a full one.
 * KEYS[1] = bucket; ARGV = perSecond, burst, cost. Returns {allowed 0|1, retryAfterSeconds, remaining}.
 */
export const TAKE_SCRIPT = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local capacity = burst * 1000000
local level = capacity
local saved = redis.call('HMGET', KEYS[1], 'level', 'at')
local savedLevel = tonumber(saved[1])
local savedAt = tonumber(saved[2])
if savedLevel and savedAt then
  level = savedLevel
  if now > savedAt then
    level = math.min(capacity, level + (now - savedAt) * rate)
  end
  level = math.min(level, capacity)
end
local need = cost * 1000000
local allowed = 0
local retry = 0
if cost > burst then
  retry = math.max(1, math.ceil(burst / rate))
elseif level >= need then
  level = level - need
  allowed = 1
else
  retry = math.max(1, math.ceil((need - level) / (rate * 1000000)))
end
local ttl = math.ceil((capacity - level) / rate / 1000) + 1000
redis.call('HSET', KEYS[1], 'level', string.format('%.17g', level), 'at', string.format('%.17g', now))
redis.call('PEXPIRE', KEYS[1], string.format('%.0f', ttl))
return {allowed, retry, math.floor(level / 1000000)}
`;

interface TakeCommand {
  [COMMAND](key: string, perSecond: string, burst: string, cost: string): Promise<unknown>;
}

/**
 * The URL without user name, password or query, for logs: `redis://host:6379/0`. Throws a
 * `RangeError` (that does not quote the URL) unless it is a `redis:` or `rediss:` URL.
 */
export function describeRedisUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RangeError('the rate-limit Redis URL is not a valid URL');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new RangeError('the rate-limit Redis URL must start with redis:// or rediss://');
  }
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

/** The URL's password and user name, raw and decoded, to scrub from any message. */
function secretsOf(url: string): string[] {
  const parsed = new URL(url);
  const secrets = new Set<string>();
  for (const raw of [parsed.password, parsed.username]) {
    if (raw === '') continue;
    secrets.add(raw);
    try {
      secrets.add(decodeURIComponent(raw));
    } catch {
      // A malformed escape: the raw form is scrubbed, and that is what a message could quote.
    }
  }
  // Longest first, so that a secret containing another is scrubbed whole.
  return [...secrets].sort((a, b) => b.length - a.length);
}

function isDecision(reply: unknown): reply is [number, number, number] {
  return (
    Array.isArray(reply) &&
    reply.length === 3 &&
    reply.every((value) => typeof value === 'number' && Number.isFinite(value))
  );
}

/**
 * Token buckets in Redis, shared by every instance that uses the same Redis and key prefix.
 * The client connects at once and never queues: while Redis is unreachable (refused, timing
 * out, answering errors) each `take` uses `fallback` without waiting, the client reconnects in
 * the background (backoff capped at about 1 s), and the first answer from Redis puts it back in
 * use. Standalone Redis (or a proxy to one) only; each call touches a single key.
 */
export function createRedisRateLimiter(options: RedisRateLimiterOptions): RateLimiter {
  const target = describeRedisUrl(options.url);
  const secrets = secretsOf(options.url);
  const warnIntervalMs = options.warnIntervalMs ?? DEFAULT_WARN_INTERVAL_MS;
  const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  const { fallback, onStoreProblem, onStoreRecovered } = options;
  if (!Number.isFinite(warnIntervalMs) || warnIntervalMs < 0) {
    throw new RangeError(`warnIntervalMs must be a number >= 0, got ${warnIntervalMs}`);
  }
  if (!Number.isInteger(commandTimeoutMs) || commandTimeoutMs < 1) {
    throw new RangeError(`commandTimeoutMs must be an integer >= 1, got ${commandTimeoutMs}`);
  }

  const client = new Redis(options.url, {
    // Fail fast: a command sent while disconnected fails at once instead of waiting in a queue,
    // and a command in flight when the connection drops fails instead of being sent again
    // (it may have spent tokens already).
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: commandTimeoutMs,
    // The ready check (INFO) runs under commandTimeout too: on a busy machine it can miss the
    // 200 ms and report a healthy Redis as down. A Redis that is not ready fails the first
    // take, which falls back like any other failure.
    enableReadyCheck: false,
    connectionName: 'cfsign-rate-limit',
    retryStrategy: (attempt: number) =>
      Math.min(50 * 2 ** Math.min(attempt - 1, 10), MAX_RECONNECT_DELAY_MS) +
      Math.floor(Math.random() * 100),
  });
  // EVALSHA, with EVAL when the server does not know the script yet (a new connection, a
  // restarted Redis, SCRIPT FLUSH): ioredis handles NOSCRIPT itself.
  client.defineCommand(COMMAND, { numberOfKeys: 1, lua: TAKE_SCRIPT });
  const commands = client as unknown as TakeCommand;

  let closed = false;
  /** Redis failed since its last good answer. */
  let failing = false;
  /** `onStoreProblem` was called for the current outage, so its end is worth telling. */
  let reported = false;
  let lastReportAt = Number.NEGATIVE_INFINITY;
  /** Why Redis is failing, in words safe to log. */
  let lastReason: string | undefined;
  let pausedUntil = 0;
  let probing = false;

  function redact(text: string): string {
    let result = text;
    for (const secret of secrets) result = result.split(secret).join('***');
    return result;
  }

  function reasonOf(error: unknown): string {
    const message = error instanceof Error ? error.message : String(error);
    if (message === 'Command timed out') return `no answer within ${commandTimeoutMs} ms`;
    if (error instanceof Error && error.name === 'MaxRetriesPerRequestError') {
      return 'connection lost during a command';
    }
    return redact(message.split('\n', 1)[0] ?? '').slice(0, 200);
  }

  function noteFailure(reason: string): void {
    failing = true;
    const now = performance.now();
    if (now - lastReportAt < warnIntervalMs) return;
    lastReportAt = now;
    reported = true;
    const message = redact(
      `rate-limit store ${target} is unavailable (${reason}); ` +
        'each instance now applies the limits alone, in memory, until it is back',
    );
    try {
      onStoreProblem?.(message);
    } catch {
      // A logging callback's failure must not fail the request.
    }
  }

  function noteSuccess(): void {
    if (!failing) return;
    failing = false;
    pausedUntil = 0;
    if (!reported) return;
    reported = false;
    try {
      onStoreRecovered?.();
    } catch {
      // As above.
    }
  }

  client.on('error', (error: unknown) => {
    lastReason = reasonOf(error);
    if (!closed) noteFailure(lastReason);
  });
  client.on('close', () => {
    lastReason ??= 'connection closed';
  });
  client.on('ready', () => {
    lastReason = undefined;
    pausedUntil = 0;
  });

  return {
    async take(key: string, cost: number, rule: RateRule): Promise<RateDecision> {
      assertValidTake(cost, rule);
      if (closed) return fallback.take(key, cost, rule);
      if (client.status !== 'ready') {
        // Before the first connection has failed (start-up), the fallback is used silently.
        if (lastReason !== undefined) noteFailure(`not connected: ${lastReason}`);
        return fallback.take(key, cost, rule);
      }
      const probe = failing;
      if (probe) {
        // While failing, one request at a time finds out whether Redis is back (the others
        // use the fallback without waiting); failed probes keep reporting the outage.
        if (probing || performance.now() < pausedUntil) return fallback.take(key, cost, rule);
        probing = true;
      }
      try {
        const reply = await commands[COMMAND](
          keyPrefix + key,
          String(rule.perSecond),
          String(rule.burst),
          String(cost),
        );
        if (!isDecision(reply)) throw new Error('unexpected reply to the rate-limit script');
        noteSuccess();
        const [allowed, retryAfterSeconds, remaining] = reply;
        return { allowed: allowed === 1, retryAfterSeconds, remaining };
      } catch (error) {
        lastReason = reasonOf(error);
        pausedUntil = performance.now() + RETRY_PAUSE_MS;
        noteFailure(lastReason);
        return await fallback.take(key, cost, rule);
      } finally {
        if (probe) probing = false;
      }
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      try {
        if (client.status === 'ready') await client.quit();
        else client.disconnect();
      } catch {
        client.disconnect();
      }
      await fallback.close();
    },
  };
}
