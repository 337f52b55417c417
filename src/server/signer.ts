import type { DistributionConfig } from '../config/service-config.ts';
import { SignerError } from '../errors.ts';
import { buildObjectPattern } from '../core/resource-pattern.ts';
import {
  completeSignedCookies,
  planSignedCookies,
  type SignedCookies,
} from '../core/sign-cookies.ts';
import {
  completeSignedUrl,
  planSignedUrl,
  type SignedUrl,
  type SignUrlInput,
} from '../core/sign-url.ts';
import { signPolicyAsync } from '../core/signature.ts';
import { encodeObjectKey } from '../core/object-key.ts';
import { joinWithinUrlLimit, normalizeDistributionUrl } from '../core/signable-url.ts';
import { alignExpiry, epochSeconds, type TimeInput } from '../core/time.ts';
import type { Grant, SigningOptions } from '../core/grant.ts';
import type { Keyring } from '../keys/keyring.ts';
import type { ServiceMetrics } from './metrics.ts';
import { createSignatureCache, SIGNATURE_CACHE_ENTRIES } from './signature-cache.ts';

/** Conditions a caller may ask for on one link or cookie set. */
export interface GrantRequest {
  /** Seconds from now; the distribution's default when absent. */
  expiresIn?: number | undefined;
  notBefore?: TimeInput | undefined;
  ipAddress?: string | undefined;
  /** A key pattern relative to the distribution (`videos/*`). */
  resource?: string | undefined;
}

/** A URL checked and planned, ready to sign. */
export interface PlannedUrl {
  url: string;
  grant: Grant;
}

export interface Signer {
  /** The lifetime a request gets: its own, else the default; over the maximum is refused. */
  ttlOf(request: GrantRequest): number;
  /**
   * Checks a request fully without signing, so a batch can be refused whole before any work.
   * `ttlCap` is the caller's own lifetime cap, which a stable expiry never passes.
   */
  planObject(objectKey: string, request: GrantRequest, ttlCap?: number): PlannedUrl;
  /** Signs a planned URL on libuv's pool, or reuses the signature of the same policy. */
  signPlanned(plan: PlannedUrl): Promise<SignedUrl>;
  /**
   * The planned URL signed with a signature already made, or being made, for the same policy
   * (a stable link, see `linkWindow`); undefined when a private-key operation is needed.
   */
  reusePlanned(plan: PlannedUrl): Promise<SignedUrl> | undefined;
  /** As planObject, for cookies over a key pattern. */
  planCookies(keyPattern: string, request: GrantRequest, ttlCap?: number): Grant;
  signPlannedCookies(grant: Grant): Promise<SignedCookies>;
  /** As reusePlanned, for cookies. */
  reusePlannedCookies(grant: Grant): Promise<SignedCookies> | undefined;
}

/** A distribution's signer over the active key of its keyring; settings are read once. */
export function createSigner(
  distribution: DistributionConfig,
  keyring: Keyring,
  metrics: ServiceMetrics,
  now: () => Date,
): Signer {
  const { url: distributionUrl, defaultTtl, maxTtl, hash, linkWindow } = distribution;
  // Checked once here rather than on every link (buildObjectUrl would check it each time).
  const baseUrl = normalizeDistributionUrl(distributionUrl);
  const active = keyring.active;
  const labels = {
    key_pair_id: active.keyPairId,
    algorithm: active.privateKey.asymmetricKeyType ?? 'unknown',
  };
  const signatures = createSignatureCache(SIGNATURE_CACHE_ENTRIES, () => {
    metrics.signatureCacheHits.inc({ key_pair_id: active.keyPairId });
  });

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

  function options(request: GrantRequest, ttlCap: number | undefined): SigningOptions {
    const at = now();
    const cap = Math.min(maxTtl, ttlCap ?? maxTtl);
    const signing: SigningOptions = {
      keyPairId: active.keyPairId,
      privateKey: active.privateKey,
      expires: alignExpiry(epochSeconds(at), ttlOf(request), linkWindow, cap),
      now: at,
    };
    if (hash !== undefined) signing.hash = hash;
    if (request.notBefore !== undefined) signing.notBefore = request.notBefore;
    if (request.ipAddress !== undefined) signing.ipAddress = request.ipAddress;
    return signing;
  }

  function sign(grant: Grant): Promise<Buffer> {
    return signatures.sign(grant.policy, async (policy) => {
      const signature = await signPolicyAsync(policy, active.privateKey, grant.hash);
      metrics.signatures.inc({ ...labels, hash: grant.hash });
      return signature;
    });
  }

  function reuse<T>(grant: Grant, complete: (signature: Buffer) => T): Promise<T> | undefined {
    const completed = signatures.reuse(grant.policy)?.then(complete);
    // The caller awaits it after its rate limit; should the limit refuse first, a failed
    // signature must not surface as an unhandled rejection.
    completed?.catch(() => undefined);
    return completed;
  }

  return {
    ttlOf,
    planObject(objectKey, request, ttlCap) {
      const url = joinWithinUrlLimit(baseUrl, encodeObjectKey(objectKey));
      const input: SignUrlInput = { ...options(request, ttlCap), url };
      if (request.resource !== undefined) {
        input.resource = buildObjectPattern(distributionUrl, request.resource);
      }
      return { url, grant: planSignedUrl(input) };
    },
    async signPlanned({ url, grant }) {
      return completeSignedUrl(url, grant, await sign(grant));
    },
    reusePlanned({ url, grant }) {
      return reuse(grant, (signature) => completeSignedUrl(url, grant, signature));
    },
    planCookies(keyPattern, request, ttlCap) {
      return planSignedCookies({
        ...options(request, ttlCap),
        resource: buildObjectPattern(distributionUrl, keyPattern),
      });
    },
    async signPlannedCookies(grant) {
      return completeSignedCookies(grant, await sign(grant));
    },
    reusePlannedCookies(grant) {
      return reuse(grant, (signature) => completeSignedCookies(grant, signature));
    },
  };
}
