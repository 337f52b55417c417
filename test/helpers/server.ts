import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { TestContext } from 'node:test';
import { loadConfig, type Environment } from '../../src/config/load-config.ts';
import { verifyCookies, verifyUrl, type Verdict } from '../../src/core/verify.ts';
import { buildServer } from '../../src/server/build-server.ts';
import type { App } from '../../src/server/context.ts';
import type { Signer } from '../../src/server/signer.ts';
import { loadKeyrings } from '../../src/server/load-keyring.ts';
import { DISTRIBUTION, fixturePath, RSA } from './fixtures.ts';

export const NOW = new Date('2026-06-01T12:00:00Z');
export const NOW_SECONDS = NOW.getTime() / 1000;
export const TOKENS = {
  web: 'tok-web-0123456789abcdef',
  batch: 'tok-batch-0123456789abcdef',
} as const;
export const AUTH = { authorization: `Bearer ${TOKENS.web}` } as const;

/** A production configuration over the RSA fixture key, with two API clients. */
export const PRODUCTION_ENV: Environment = {
  CLOUDFRONT_URL: DISTRIBUTION,
  CLOUDFRONT_KEY_PAIR_ID: RSA.keyPairId,
  PRIVATE_KEY_PATH: fixturePath('rsa-2048.pkcs8.pem'),
  CFSIGN_API_KEYS: `web:${TOKENS.web},batch:${TOKENS.batch}`,
};

export interface TestServer {
  app: App;
  /** Every log line written so far, as parsed JSON. */
  logs: Record<string, unknown>[];
  /** The raw log text, to search for anything that must never be logged. */
  logText(): string;
}

/** Builds the real Fastify app (never listening) and closes it when the test ends. */
export async function build(
  t: TestContext,
  env: Environment = PRODUCTION_ENV,
  now: Date = NOW,
): Promise<TestServer> {
  let config = loadConfig(env);
  if (config.mode === 'dev') {
    // Dev mode's key lives in the working directory; tests sign with a fixture key instead.
    config = {
      ...config,
      distributions: config.distributions.map((distribution) => ({
        ...distribution,
        keys: [{ id: distribution.activeKey, privateKeyFile: fixturePath('rsa-2048.pkcs8.pem') }],
      })),
    };
  }
  const keyrings = loadKeyrings(config.distributions, env);
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString('utf8');
      callback();
    },
  });
  const app = await buildServer({ config, keyrings, now: () => now, logStream: stream });
  t.after(() => app.close());
  return {
    app,
    get logs() {
      return text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    logText: () => text,
  };
}

/** Asserts that CloudFront would accept a link the service issued, judged with the public key. */
export function assertAccepted(url: string, at: Date = NOW, ipAddress?: string): Verdict {
  const verdict = verifyUrl(url, {
    keys: new Map([[RSA.keyPairId, RSA.publicKey]]),
    now: at,
    ...(ipAddress === undefined ? {} : { ipAddress }),
  });
  assert.equal(verdict.valid, true, verdict.reason);
  return verdict;
}

export function assertCookiesAccepted(
  url: string,
  cookies: Record<string, string>,
  at: Date = NOW,
): Verdict {
  const verdict = verifyCookies(url, cookies, {
    keys: new Map([[RSA.keyPairId, RSA.publicKey]]),
    now: at,
  });
  assert.equal(verdict.valid, true, verdict.reason);
  return verdict;
}

/** The signer of the first distribution, for tests that replace one of its methods. */
export function defaultSigner(app: App): Signer {
  const [first] = app.cfsign.live.distributions.values();
  assert.ok(first !== undefined);
  return first.signer;
}
