import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { SignerError } from '../errors.ts';
import type { ServiceConfig } from '../config/service-config.ts';

/** Who made a request, for logs, metrics and (later) per-client rules. */
export interface Caller {
  client: string;
}

// The scheme is case-insensitive (RFC 9110 section 11.1); the token is not.
const BEARER = /^Bearer ([\x21-\x7E]{1,512})$/i;
const ANONYMOUS: Caller = Object.freeze({ client: 'anonymous' });
const DEV: Caller = Object.freeze({ client: 'dev' });

function unauthorized(): SignerError {
  // One message for every cause, so a caller learns nothing about which part was wrong.
  return new SignerError(
    'ERR_AUTH_REQUIRED',
    'a valid API token is required: send Authorization: Bearer <token>',
  );
}

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/**
 * Builds the authenticator once from the configuration. Tokens are compared as SHA-256 digests
 * (fixed length) with timingSafeEqual, against every client, so timing reveals neither which
 * client matched nor how much of a token was right.
 */
export function createAuthenticator(
  auth: ServiceConfig['auth'],
): (request: FastifyRequest) => Caller {
  switch (auth.mode) {
    case 'none':
      return () => ANONYMOUS;
    case 'loopback':
      return (request) => {
        if (!isLoopback(request.socket.remoteAddress ?? '')) {
          throw new SignerError(
            'ERR_AUTH_REQUIRED',
            'dev mode answers this machine only; configure CFSIGN_API_KEYS to serve other clients',
          );
        }
        return DEV;
      };
    case 'tokens': {
      const clients = auth.clients.map((client) => ({
        name: client.name,
        digest: Buffer.from(client.tokenSha256, 'hex'),
      }));
      return (request) => {
        const header = request.headers.authorization;
        const token = typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
        const presented = createHash('sha256')
          .update(token ?? '', 'utf8')
          .digest();
        let matched: string | undefined;
        for (const client of clients) {
          if (timingSafeEqual(presented, client.digest) && token !== undefined)
            matched = client.name;
        }
        if (matched === undefined) throw unauthorized();
        return { client: matched };
      };
    }
  }
}
