import type { ServiceConfig } from '../config/service-config.ts';
import { SignerError } from '../errors.ts';
import { buildObjectPattern } from '../core/resource-pattern.ts';
import { signCookiesAsync, type SignedCookies } from '../core/sign-cookies.ts';
import {
  planSignedUrl,
  signUrlAsync,
  type SignedUrl,
  type SignUrlInput,
} from '../core/sign-url.ts';
import { buildObjectUrl } from '../core/signable-url.ts';
import { epochSeconds, type TimeInput } from '../core/time.ts';
import type { SigningOptions } from '../core/grant.ts';
import type { Keyring } from '../keys/keyring.ts';
import type { ServiceMetrics } from './metrics.ts';

/** Conditions a caller may ask for on one link or cookie set. */
export interface GrantRequest {
  /** Seconds from now; the configured default when absent. */
  expiresIn?: number | undefined;
  notBefore?: TimeInput | undefined;
  ipAddress?: string | undefined;
  /** A key pattern relative to the distribution (`videos/*`). */
  resource?: string | undefined;
}

export interface Signer {
  /** Checks a request fully without signing, so a batch can be refused whole before any work. */
  planObject(objectKey: string, request: GrantRequest): SignUrlInput;
  /** Signs a planned request on libuv's pool. */
  signPlanned(input: SignUrlInput): Promise<SignedUrl>;
  /** planObject then signPlanned. */
  signObject(objectKey: string, request: GrantRequest): Promise<SignedUrl>;
  signCookies(keyPattern: string, request: GrantRequest): Promise<SignedCookies>;
}

/** The service's signer over the active key of a keyring; all settings are read once. */
export function createSigner(
  config: ServiceConfig,
  keyring: Keyring,
  metrics: ServiceMetrics,
  now: () => Date,
): Signer {
  const { url: distributionUrl, defaultTtl, maxTtl, hash } = config.distribution;
  const active = keyring.active;

  function options(request: GrantRequest, at: Date): SigningOptions {
    const ttl = request.expiresIn ?? defaultTtl;
    if (ttl > maxTtl) {
      throw new SignerError(
        'ERR_TTL_TOO_LONG',
        `a lifetime of ${ttl} s is above this service's maximum of ${maxTtl} s`,
        { details: { ttl, maxTtl } },
      );
    }
    const signing: SigningOptions = {
      keyPairId: active.keyPairId,
      privateKey: active.privateKey,
      expires: epochSeconds(at) + ttl,
      now: at,
    };
    if (hash !== undefined) signing.hash = hash;
    if (request.notBefore !== undefined) signing.notBefore = request.notBefore;
    if (request.ipAddress !== undefined) signing.ipAddress = request.ipAddress;
    return signing;
  }

  function urlInput(objectKey: string, request: GrantRequest, at: Date): SignUrlInput {
    const input: SignUrlInput = {
      ...options(request, at),
      url: buildObjectUrl(distributionUrl, objectKey),
    };
    if (request.resource !== undefined)
      input.resource = buildObjectPattern(distributionUrl, request.resource);
    return input;
  }

  function count(signed: { keyPairId: string; hash: string }): void {
    metrics.signatures.inc({
      key_pair_id: signed.keyPairId,
      algorithm: active.privateKey.asymmetricKeyType ?? 'unknown',
      hash: signed.hash,
    });
  }

  function planObject(objectKey: string, request: GrantRequest): SignUrlInput {
    const input = urlInput(objectKey, request, now());
    planSignedUrl(input);
    return input;
  }

  async function signPlanned(input: SignUrlInput): Promise<SignedUrl> {
    const signed = await signUrlAsync(input);
    count(signed);
    return signed;
  }

  return {
    planObject,
    signPlanned,
    signObject: (objectKey, request) => signPlanned(planObject(objectKey, request)),
    async signCookies(keyPattern, request) {
      const signed = await signCookiesAsync({
        ...options(request, now()),
        resource: buildObjectPattern(distributionUrl, keyPattern),
      });
      count(signed);
      return signed;
    },
  };
}
