import { SignerError } from '../errors.ts';
import { encodeCloudFrontBase64 } from './cloudfront-base64.ts';
import {
  planGrant,
  summarizeGrant,
  type Grant,
  type GrantSummary,
  type SigningOptions,
} from './grant.ts';
import { signPolicy, signPolicyAsync } from './signature.ts';
import { MAX_URL_BYTES } from './signable-url.ts';
import { maxSignatureBytes } from './signing-key.ts';
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
export interface SignedUrl extends GrantSummary {
  url: string;
}

function assembleUrl(url: string, grant: Grant, signature: Buffer): string {
  const first =
    grant.policyType === 'canned'
      ? `${QUERY.expires}=${grant.expiresAt}`
      : `${QUERY.policy}=${encodeCloudFrontBase64(grant.policy)}`;
  const hash =
    grant.hash === 'sha1' ? '' : `&${QUERY.hashAlgorithm}=${HASH_ALGORITHM_VALUE[grant.hash]}`;
  return `${url}${url.includes('?') ? '&' : '?'}${first}&${QUERY.signature}=${encodeCloudFrontBase64(signature)}&${QUERY.keyPairId}=${grant.keyPairId}${hash}`;
}

/**
 * Plans a signed URL and checks, before any signing, that the link will fit CloudFront's
 * 8,192-byte limit with the longest signature the key can make.
 *
 * @throws {SignerError} the codes of planGrant, and `ERR_URL_INVALID` for a link too long
 */
export function planSignedUrl(input: SignUrlInput): Grant {
  const grant = planGrant(input, input);
  const longest = signedUrlLength(input.url, grant, maxSignatureBytes(input.privateKey));
  if (longest > MAX_URL_BYTES) {
    throw new SignerError(
      'ERR_URL_INVALID',
      `the signed URL would be up to ${longest} bytes; CloudFront accepts at most ${MAX_URL_BYTES}. Shorten the URL or the resource pattern, or drop the conditions (a canned policy is shortest)`,
    );
  }
  return grant;
}

/** Base64 keeps 4 characters per 3 bytes, padding included; CloudFront's alphabet keeps lengths. */
function base64Length(bytes: number): number {
  return 4 * Math.ceil(bytes / 3);
}

/** The length assembleUrl will give for a signature of `signatureBytes`, without building it. */
export function signedUrlLength(url: string, grant: Grant, signatureBytes: number): number {
  const first =
    grant.policyType === 'canned'
      ? QUERY.expires.length + 1 + String(grant.expiresAt).length
      : QUERY.policy.length + 1 + base64Length(Buffer.byteLength(grant.policy, 'utf8'));
  const hash =
    grant.hash === 'sha1'
      ? 0
      : 2 + QUERY.hashAlgorithm.length + HASH_ALGORITHM_VALUE[grant.hash].length;
  return (
    url.length +
    1 +
    first +
    2 +
    QUERY.signature.length +
    base64Length(signatureBytes) +
    2 +
    QUERY.keyPairId.length +
    grant.keyPairId.length +
    hash
  );
}

/**
 * Signs a URL for CloudFront. Uses a canned policy (shortest link, exact URL) unless a start,
 * an IP condition or a resource pattern asks for a custom one. The URL emitted is the URL signed.
 *
 * @throws {SignerError} on any invalid input; see docs/errors.md. Never returns a partial grant.
 */
export function signUrl(input: SignUrlInput): SignedUrl {
  const grant = planSignedUrl(input);
  return completeSignedUrl(
    input.url,
    grant,
    signPolicy(grant.policy, input.privateKey, grant.hash),
  );
}

/** As {@link signUrl}, signing on libuv's thread pool instead of the calling thread. */
export async function signUrlAsync(input: SignUrlInput): Promise<SignedUrl> {
  const grant = planSignedUrl(input);
  const signature = await signPolicyAsync(grant.policy, input.privateKey, grant.hash);
  return completeSignedUrl(input.url, grant, signature);
}

/**
 * The signed URL for a grant from {@link planSignedUrl} (of the same `url`) and a signature
 * of its policy, for callers that sign, or reuse a signature, themselves.
 */
export function completeSignedUrl(url: string, grant: Grant, signature: Buffer): SignedUrl {
  return { url: assembleUrl(url, grant, signature), ...summarizeGrant(grant) };
}
