import type { FastifyBaseLogger, FastifyInstance, FastifyRequest, RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ServiceConfig } from '../config/service-config.ts';
import type { Keyring } from '../keys/keyring.ts';
import type { ServiceMetrics } from './metrics.ts';
import type { Caller } from './auth.ts';
import type { Signer } from './signer.ts';

/** The Fastify instance with TypeBox types, as every route module sees it. */
export type App = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** What routes share: built once per server, never per request. */
export interface ServerContext {
  config: ServiceConfig;
  keyring: Keyring;
  signer: Signer;
  metrics: ServiceMetrics;
  now: () => Date;
  authenticate: (request: FastifyRequest) => Caller;
  /** Set when shutdown begins: readiness fails from then on. */
  state: { draining: boolean };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Filled by authentication on protected routes. */
    caller: Caller | undefined;
    /** The Key-Pair-Id that signed this request's links, for the request log line. */
    keyPairId: string | undefined;
  }
  interface FastifyContextConfig {
    /** Requires authentication and sends Cache-Control: no-store. */
    signing?: boolean;
  }
}
