import type { DistributionConfig } from '../config/service-config.ts';
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
  /** Seconds from now; the distribution's default when absent. */
  expiresIn?: number | undefined;
  notBefore?: TimeInput | undefined;
  ipAddress?: string | undefined;
  /** A key pattern relative to the distribution (`videos/*`). */
  resource?: string | undefined;
}

export interface Signer {
  /** The lifetime a request gets: its own, else the default; over the maximum is refused. */
  ttlOf(request: GrantRequest): number;
  /** Checks a request fully without signing, so a batch can be refused whole before any work. */
  planObject(objectKey: string, request: GrantRequest): SignUrlInput;
  /** Signs a planned request on libuv's pool. */
  signPlanned(input: SignUrlInput): Promise<SignedUrl>;
  signCookies(keyPattern: string, request: GrantRequest): Promise<SignedCookies>;
}

/** A distribution's signer over the active key of its keyring; settings are read once. */
export function createSigner(
  distribution: DistributionConfig,
  keyring: Keyring,
  metrics: ServiceMetrics,
  now: () => Date,
): Signer {
  const { url: distributionUrl, defaultTtl, maxTtl, hash } = distribution;
  const active = keyring.active;
  const algorithm = active.privateKey.asymmetricKeyType ?? 'unknown';

  function ttlOf(request: GrantRequest): number {
    const ttl = request.expiresIn ?? defaultTtl;
    if (ttl > maxTtl) {
      throw new SignerError(
        'ERR_TTL_TOO_LONG',
        `a lifetime of ${ttl} s is above this distribution's maximum of ${maxTtl} s`,
        { details: { ttl, maxTtl } },
      );
    }
    return ttl;
  }

  function options(request: GrantRequest, at: Date): SigningOptions {
    const signing: SigningOptions = {
      keyPairId: active.keyPairId,
      privateKey: active.privateKey,
      expires: epochSeconds(at) + ttlOf(request),
      now: at,
    };
    if (hash !== undefined) signing.hash = hash;
    if (request.notBefore !== undefined) signing.notBefore = request.notBefore;
    if (request.ipAddress !== undefined) signing.ipAddress = request.ipAddress;
    return signing;
  }

  function count(signed: { keyPairId: string; hash: string }): void {
    metrics.signatures.inc({ key_pair_id: signed.keyPairId, algorithm, hash: signed.hash });
  }

  function planObject(objectKey: string, request: GrantRequest): SignUrlInput {
    const at = now();
    const input: SignUrlInput = {
      ...options(request, at),
      url: buildObjectUrl(distributionUrl, objectKey),
    };
    if (request.resource !== undefined) {
      input.resource = buildObjectPattern(distributionUrl, request.resource);
    }
    planSignedUrl(input);
    return input;
  }

  async function signPlanned(input: SignUrlInput): Promise<SignedUrl> {
    const signed = await signUrlAsync(input);
    count(signed);
    return signed;
  }

  return {
    ttlOf,
    planObject,
    signPlanned,
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
