import type { FastifyBaseLogger, FastifyInstance, FastifyRequest, RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { SignerError } from '../errors.ts';
import { quoteInput } from '../core/quote-input.ts';
import type { KeyLookup } from '../core/verify.ts';
import type { DistributionConfig, ServiceConfig } from '../config/service-config.ts';
import type { Keyring } from '../keys/keyring.ts';
import type { ServiceMetrics } from './metrics.ts';
import { createAuthenticator, type Caller } from './auth.ts';
import { createSigner, type Signer } from './signer.ts';
import type { SigningGate } from './signing-gate.ts';
import type { RateLimiter } from './rate-limit/index.ts';

/** The Fastify instance with TypeBox types, as every route module sees it. */
export type App = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** One distribution as the routes use it: its settings, its keys and its signer. */
export interface LiveDistribution {
  config: DistributionConfig;
  keyring: Keyring;
  signer: Signer;
}

/**
 * Everything that depends on loaded keys, swapped whole by a reload: a key and its Key-Pair-Id
 * always change together, and a request sees one version from start to end.
 */
export interface LiveKeys {
  distributions: ReadonlyMap<string, LiveDistribution>;
  /** Every listed key of every distribution, for verification. */
  keys: KeyLookup;
  /** The clients and their rules, which a reload may change too. */
  authenticate: (request: FastifyRequest) => Caller;
}

/** What routes share: built once per server, never per request. */
export interface ServerContext {
  config: ServiceConfig;
  live: LiveKeys;
  metrics: ServiceMetrics;
  gate: SigningGate;
  limiter: RateLimiter;
  now: () => Date;
  /** Writes audit lines at every log level (CFSIGN_LOG_LEVEL quiets operations, not audit). */
  audit: FastifyBaseLogger;
  /** Set when shutdown begins: readiness fails from then on. */
  state: { draining: boolean };
}

/** Builds the key-dependent half of the context from loaded keyrings. */
export function createLiveKeys(
  config: ServiceConfig,
  keyrings: ReadonlyMap<string, Keyring>,
  metrics: ServiceMetrics,
  now: () => Date,
): LiveKeys {
  const distributions = new Map<string, LiveDistribution>();
  for (const distribution of config.distributions) {
    const keyring = keyrings.get(distribution.name);
    if (keyring === undefined) throw new Error(`no keyring for ${distribution.name}`);
    distributions.set(distribution.name, {
      config: distribution,
      keyring,
      signer: createSigner(distribution, keyring, metrics, now),
    });
  }
  const allKeyrings = [...distributions.values()].map((live) => live.keyring);
  return {
    distributions,
    keys: {
      get: (keyPairId) => allKeyrings.map((keyring) => keyring.get(keyPairId)).find(Boolean),
    },
    authenticate: createAuthenticator(config),
  };
}

/**
 * The distribution a request names, or the first one configured, in the request's snapshot.
 *
 * @throws {SignerError} `ERR_DISTRIBUTION_UNKNOWN`
 */
export function distributionFor(
  request: FastifyRequest,
  name: string | undefined,
): LiveDistribution {
  const { distributions } = liveOf(request);
  const live = name === undefined ? distributions.values().next().value : distributions.get(name);
  if (live === undefined) {
    throw new SignerError(
      'ERR_DISTRIBUTION_UNKNOWN',
      `no distribution is named ${quoteInput(name ?? '')}; configured: ${[...distributions.keys()].join(', ')}`,
    );
  }
  return live;
}

/** The state this request took at its start: one version of keys and rules, start to end. */
export function liveOf(request: FastifyRequest): LiveKeys {
  if (request.live === undefined) throw new Error('a signing route ran without its snapshot');
  return request.live;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The keys, clients and rules in force when the request arrived (a reload swaps whole). */
    live: LiveKeys | undefined;
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
