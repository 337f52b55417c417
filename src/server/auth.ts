import { hash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { SignerError } from '../errors.ts';
import { MAX_TOKEN_LENGTH } from '../config/load-config.ts';
import type { ClientConfig, ServiceConfig } from '../config/service-config.ts';

/** Who made a request: the client's name and rules, for authorization, limits and logs. */
export type Caller = ClientConfig;

const BEARER_SCHEME = new RegExp(`^Bearer ([\\x21-\\x7E]{1,${MAX_TOKEN_LENGTH}})$`, 'i');

function unauthorized(): SignerError {
  // One message for every cause, so a caller learns nothing about which part was wrong.
  return new SignerError(
    'ERR_AUTH_REQUIRED',
    'a valid API token is required: send Authorization: Bearer <token>',
  );
}

function countHeader(rawHeaders: readonly string[], name: string): number {
  let count = 0;
  for (let index = 0; index < rawHeaders.length; index += 2) {
    if (rawHeaders[index]?.toLowerCase() === name) count += 1;
  }
  return count;
}

/** A Host header naming this machine: localhost, 127.x.y.z or [::1], with any port. */
const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d{1,5})?$/i;

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/**
 * Builds the authenticator once from the configuration. Tokens are compared as SHA-256 digests
 * (fixed length) with timingSafeEqual, against every client, so timing reveals neither which
 * client matched nor how much of a token was right. The scheme is case-insensitive (RFC 9110
 * section 11.1); the token is not.
 */
export function createAuthenticator(config: ServiceConfig): (request: FastifyRequest) => Caller {
  const [implicit] = config.clients;
  switch (config.auth) {
    case 'none':
      if (implicit === undefined) throw new Error('auth none without its implicit client');
      return () => implicit;
    case 'loopback':
      if (implicit === undefined) throw new Error('dev mode without its implicit client');
      return (request) => {
        if (!isLoopback(request.socket.remoteAddress ?? '')) {
          throw new SignerError(
            'ERR_AUTH_REQUIRED',
            'dev mode answers this machine only; configure CFSIGN_API_KEYS to serve other clients',
          );
        }
        // A page elsewhere can point its own name at 127.0.0.1 (DNS rebinding) and so reach
        // this port as "same origin": a request must also be addressed to a loopback name.
        if (!LOOPBACK_HOST.test(request.headers.host ?? '')) {
          throw new SignerError(
            'ERR_AUTH_REQUIRED',
            'dev mode answers requests addressed to localhost, 127.0.0.1 or [::1] only',
          );
        }
        return implicit;
      };
    case 'tokens': {
      const clients = config.clients.map((client) => ({
        client,
        digest: Buffer.from(client.tokenSha256 ?? '', 'hex'),
      }));
      return (request) => {
        const header = request.headers.authorization;
        // Node keeps the first of two Authorization headers; a proxy may honour the other.
        const token =
          typeof header === 'string' && countHeader(request.raw.rawHeaders, 'authorization') === 1
            ? BEARER_SCHEME.exec(header)?.[1]
            : undefined;
        const presented = hash('sha256', token ?? '', 'buffer');
        let matched: Caller | undefined;
        for (const { client, digest } of clients) {
          if (timingSafeEqual(presented, digest) && token !== undefined) matched = client;
        }
        if (matched === undefined) throw unauthorized();
        return matched;
      };
    }
  }
}

/** The authenticated caller of a signing route (set by the onRequest hook). */
export function requireCaller(request: FastifyRequest): Caller {
  if (request.caller === undefined) throw new Error('a signing route ran without authentication');
  return request.caller;
}
