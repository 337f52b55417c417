import type { FastifyRequest } from 'fastify';
import type { ServerContext } from './context.ts';
import { limitClient } from './limits.ts';

/**
 * Spends one of the client's tokens and returns what it asked for. A signature already made, or
 * being made, for the same policy (`reused`, a stable link) costs no private-key operation, so
 * it takes no signing slot: a hot object is still served while the pool is full. Otherwise
 * `signFresh` runs holding one slot, and the token is spent only once the slot is held, so a
 * 503 costs the client nothing.
 *
 * @throws {SignerError} `ERR_RATE_LIMITED` (429) or `ERR_OVERLOADED` (503)
 */
export async function signOne<T>(
  context: ServerContext,
  request: FastifyRequest,
  reused: Promise<T> | undefined,
  signFresh: () => Promise<T>,
): Promise<T> {
  if (reused !== undefined) {
    await limitClient(context.limiter, request, 1);
    return reused;
  }
  return context.gate.run(1, async () => {
    await limitClient(context.limiter, request, 1);
    return signFresh();
  });
}
