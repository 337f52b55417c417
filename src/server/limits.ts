import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import { SignerError } from '../errors.ts';
import { requireCaller } from './auth.ts';
import type { ServiceConfig } from '../config/service-config.ts';
import { createMemoryRateLimiter } from './rate-limit/memory.ts';
import type { RateLimiter } from './rate-limit/types.ts';

/**
 * The configured limiter: per instance in memory, or shared through Redis with a fallback.
 * The Redis client (about 9 MB resident) is loaded only when Redis is configured.
 */
export async function createLimiter(
  config: ServiceConfig,
  log: FastifyBaseLogger,
): Promise<RateLimiter> {
  const { store } = config.rateLimit;
  if (store === 'memory') return createMemoryRateLimiter();
  const { createRedisRateLimiter, describeRedisUrl } = await import('./rate-limit/redis.ts');
  const where = describeRedisUrl(store);
  return createRedisRateLimiter({
    url: store,
    fallback: createMemoryRateLimiter(),
    onStoreProblem: (message) => {
      log.warn(message);
    },
    onStoreRecovered: () => {
      log.info(`rate-limit store ${where} is back; limits are shared again`);
    },
  });
}

function limited(retryAfterSeconds: number, who: string): SignerError {
  return new SignerError(
    'ERR_RATE_LIMITED',
    `${who} is over its rate limit; retry in ${retryAfterSeconds} s`,
    {
      details: { retryAfterSeconds },
    },
  );
}

/**
 * Counts `cost` signatures against the caller's bucket (a batch of 60 costs 60).
 *
 * @throws {SignerError} `ERR_RATE_LIMITED` with `retryAfterSeconds`
 */
export async function limitClient(
  limiter: RateLimiter,
  request: FastifyRequest,
  cost: number,
): Promise<void> {
  const caller = requireCaller(request);
  const decision = await limiter.take(`client:${caller.name}`, cost, caller.rateLimit);
  if (!decision.allowed) throw limited(decision.retryAfterSeconds, 'this client');
}

/**
 * Counts one request against the remote address, before authentication, so an unauthenticated
 * flood is refused cheaply.
 *
 * @throws {SignerError} `ERR_RATE_LIMITED` with `retryAfterSeconds`
 */
export async function limitAddress(
  limiter: RateLimiter,
  request: FastifyRequest,
  rule: ServiceConfig['rateLimit']['ip'],
): Promise<void> {
  const decision = await limiter.take(`ip:${request.socket.remoteAddress ?? 'unknown'}`, 1, rule);
  if (!decision.allowed) throw limited(decision.retryAfterSeconds, 'this address');
}
