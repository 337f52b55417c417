import type { KeyObject } from 'node:crypto';
import { SignerError } from '../errors.ts';
import { quoteInput } from './quote-input.ts';
import { parseIpv4Block } from './ip-address.ts';
import { buildCannedPolicy, buildCustomPolicy, type PolicyType } from './policy.ts';
import { assertResourcePattern, hasWildcard, matchesResourcePattern } from './resource-pattern.ts';
import { assertSignableUrl } from './signable-url.ts';
import {
  resolveHashAlgorithm,
  signingKeyAlgorithm,
  type HashAlgorithm,
  type KeyAlgorithm,
} from './signing-key.ts';
import { resolveValidityWindow, type TimeInput } from './time.ts';

/** What every signed URL or cookie set needs: who signs, until when, under which conditions. */
export interface SigningOptions {
  /** The CloudFront public key ID (`K2JCJMDEHXQW5F`) whose private half is `privateKey`. */
  keyPairId: string;
  /** RSA-2048+ or ECDSA P-256 private key, parsed once (see `loadPrivateKey`). */
  privateKey: KeyObject;
  /** When the grant ends: epoch seconds, ISO-8601, a `Date`, or a duration from `now` (`15m`). */
  expires: TimeInput;
  /** The current time. The core never reads the clock itself. */
  now: Date;
  /** When the grant starts (custom policy `DateGreaterThan`). */
  notBefore?: TimeInput;
  /** One IPv4 address or CIDR block the viewer must come from (custom policy `IpAddress`). */
  ipAddress?: string;
  /** SHA-1 (CloudFront's default for RSA) or SHA-256 (the default for ECDSA). */
  hash?: HashAlgorithm;
}

/** A checked grant, ready to be signed: the exact policy bytes and what they allow. */
export interface Grant {
  policyType: PolicyType;
  /** The policy JSON whose UTF-8 bytes are signed. */
  policy: string;
  /** The URL (canned) or pattern (custom) granted. */
  resource: string;
  expiresAt: number;
  notBefore?: number;
  ipAddress?: string;
  keyPairId: string;
  keyAlgorithm: KeyAlgorithm;
  hash: HashAlgorithm;
}

/** What a signed URL or cookie set grants, as returned to callers (no policy bytes). */
export interface GrantSummary {
  policyType: PolicyType;
  resource: string;
  expiresAt: number;
  notBefore?: number;
  ipAddress?: string;
  keyPairId: string;
  hash: HashAlgorithm;
}

/** The caller-facing summary of a grant. */
export function summarizeGrant(grant: Grant): GrantSummary {
  const summary: GrantSummary = {
    policyType: grant.policyType,
    resource: grant.resource,
    expiresAt: grant.expiresAt,
    keyPairId: grant.keyPairId,
    hash: grant.hash,
  };
  if (grant.notBefore !== undefined) summary.notBefore = grant.notBefore;
  if (grant.ipAddress !== undefined) summary.ipAddress = grant.ipAddress;
  return summary;
}

const KEY_PAIR_ID = /^[A-Z0-9]{1,64}$/;

/**
 * @throws {SignerError} `ERR_KEY_PAIR_ID_INVALID`
 */
export function assertKeyPairId(keyPairId: unknown): asserts keyPairId is string {
  if (typeof keyPairId !== 'string' || !KEY_PAIR_ID.test(keyPairId)) {
    throw new SignerError(
      'ERR_KEY_PAIR_ID_INVALID',
      'Key-Pair-Id must be the ID CloudFront shows for the public key: uppercase letters and digits, such as K2JCJMDEHXQW5F',
    );
  }
}

/**
 * Plans the policy for one URL or URL pattern. A canned policy when only an expiry is asked for
 * an exact URL; a custom policy when a start, an IP condition, or a resource pattern other than
 * the URL itself is asked. A URL is never used as a custom `Resource` if it contains `*` or `?`,
 * since CloudFront would read them as wildcards and grant more than that URL.
 */
export function planGrant(
  target: { url?: string | undefined; resource?: string | undefined },
  options: SigningOptions,
): Grant {
  const { url } = target;
  let { resource } = target;
  if (url === undefined && resource === undefined) {
    throw new SignerError('ERR_USAGE', 'give the URL to sign, a resource pattern, or both');
  }
  if (url !== undefined) assertSignableUrl(url);
  if (resource !== undefined) assertResourcePattern(resource);
  assertKeyPairId(options.keyPairId);
  const keyAlgorithm = signingKeyAlgorithm(options.privateKey);
  const hash = resolveHashAlgorithm(options.hash, keyAlgorithm);
  const window = resolveValidityWindow(options.expires, options.notBefore, options.now);
  const ipAddress =
    options.ipAddress === undefined ? undefined : parseIpv4Block(options.ipAddress).cidr;
  // Matching is the costliest check, so it runs only on otherwise valid input.
  if (resource !== undefined && url !== undefined && !matchesResourcePattern(resource, url)) {
    throw new SignerError(
      'ERR_RESOURCE_MISMATCH',
      `resource pattern ${quoteInput(resource, 200)} does not match the URL being signed, so the link could never work`,
    );
  }

  const custom =
    window.notBefore !== undefined ||
    ipAddress !== undefined ||
    (resource !== undefined && resource !== url);
  if (custom && resource === undefined && url !== undefined) {
    if (hasWildcard(url)) {
      throw new SignerError(
        'ERR_RESOURCE_WILDCARD_IN_URL',
        "the conditions asked need a custom policy, whose Resource reads '*' and '?' (including the query's '?') as wildcards and would grant more than this URL; drop the start and IP conditions, or pass an explicit resource pattern",
      );
    }
    resource = url;
  }
  const grant: Grant = {
    policyType: custom ? 'custom' : 'canned',
    policy: '',
    resource: resource ?? url ?? '',
    expiresAt: window.expiresAt,
    keyPairId: options.keyPairId,
    keyAlgorithm,
    hash,
  };
  if (window.notBefore !== undefined) grant.notBefore = window.notBefore;
  if (ipAddress !== undefined) grant.ipAddress = ipAddress;
  grant.policy = custom
    ? buildCustomPolicy(grant)
    : buildCannedPolicy(grant.resource, grant.expiresAt);
  return grant;
}
