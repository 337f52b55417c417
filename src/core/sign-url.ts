import { SignerError } from '../errors.ts';
import { encodeCloudFrontBase64 } from './cloudfront-base64.ts';
import { planGrant, type Grant, type SigningOptions } from './grant.ts';
import type { PolicyType } from './policy.ts';
import { signPolicy, signPolicyAsync } from './signature.ts';
import { MAX_URL_BYTES } from './signable-url.ts';
import type { HashAlgorithm } from './signing-key.ts';
import { HASH_ALGORITHM_VALUE, QUERY } from './wire-names.ts';

export interface SignUrlInput extends SigningOptions {
  /**
   * The exact URL to sign, as a browser will request it (build it from an object key with
   * `buildObjectUrl`). Its query string, if any, is kept byte for byte.
   */
  url: string;
  /**
   * A custom policy resource pattern that must match `url`: the only place where `*` and `?`
   * are wildcards. Whoever holds the link can reuse its signature on any URL the pattern matches.
   */
  resource?: string;
}

/** A signed URL and what it grants. */
export interface SignedUrl {
  url: string;
  policyType: PolicyType;
  resource: string;
  expiresAt: number;
  notBefore?: number;
  ipAddress?: string;
  keyPairId: string;
  hash: HashAlgorithm;
}

function describeGrant(grant: Grant, url: string): SignedUrl {
  const signed: SignedUrl = {
    url,
    policyType: grant.policyType,
    resource: grant.resource,
    expiresAt: grant.expiresAt,
    keyPairId: grant.keyPairId,
    hash: grant.hash,
  };
  if (grant.notBefore !== undefined) signed.notBefore = grant.notBefore;
  if (grant.ipAddress !== undefined) signed.ipAddress = grant.ipAddress;
  return signed;
}

function assembleUrl(url: string, grant: Grant, signature: Buffer): string {
  const first =
    grant.policyType === 'canned'
      ? `${QUERY.expires}=${grant.expiresAt}`
      : `${QUERY.policy}=${encodeCloudFrontBase64(grant.policy)}`;
  const hash =
    grant.hash === 'sha1' ? '' : `&${QUERY.hashAlgorithm}=${HASH_ALGORITHM_VALUE[grant.hash]}`;
  const signed = `${url}${url.includes('?') ? '&' : '?'}${first}&${QUERY.signature}=${encodeCloudFrontBase64(signature)}&${QUERY.keyPairId}=${grant.keyPairId}${hash}`;
  if (signed.length > MAX_URL_BYTES) {
    throw new SignerError(
      'ERR_URL_INVALID',
      `the signed URL would be ${signed.length} bytes; CloudFront accepts at most ${MAX_URL_BYTES}. Shorten the URL or the resource pattern, or drop the conditions (a canned policy is shortest)`,
    );
  }
  return signed;
}

/**
 * Signs a URL for CloudFront. Uses a canned policy (shortest link, exact URL) unless a start,
 * an IP condition or a resource pattern asks for a custom one. The URL emitted is the URL signed.
 *
 * @throws {SignerError} on any invalid input; see docs/errors.md. Never returns a partial grant.
 */
export function signUrl(input: SignUrlInput): SignedUrl {
  const grant = planGrant(input, input);
  const signature = signPolicy(grant.policy, input.privateKey, grant.hash);
  return describeGrant(grant, assembleUrl(input.url, grant, signature));
}

/** As {@link signUrl}, signing on libuv's thread pool instead of the calling thread. */
export async function signUrlAsync(input: SignUrlInput): Promise<SignedUrl> {
  const grant = planGrant(input, input);
  const signature = await signPolicyAsync(grant.policy, input.privateKey, grant.hash);
  return describeGrant(grant, assembleUrl(input.url, grant, signature));
}
