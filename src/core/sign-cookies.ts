import { SignerError } from '../errors.ts';
import { quoteInput } from './quote-input.ts';
import { encodeCloudFrontBase64 } from './cloudfront-base64.ts';
import {
  planGrant,
  summarizeGrant,
  type Grant,
  type GrantSummary,
  type SigningOptions,
} from './grant.ts';
import { signPolicy, signPolicyAsync } from './signature.ts';
import { maxSignatureBytes } from './signing-key.ts';
import { COOKIE, HASH_ALGORITHM_VALUE, type CloudFrontCookieName } from './wire-names.ts';

/** Browsers drop a cookie whose name and value exceed 4,096 bytes (RFC 6265 section 6.1). */
export const MAX_COOKIE_BYTES = 4096;

export interface SignCookiesInput extends SigningOptions {
  /** An exact URL: with no other condition, canned cookies valid for this one URL. */
  url?: string;
  /** A resource pattern (`https://d111111abcdef8.cloudfront.net/videos/*`): custom cookies. */
  resource?: string;
}

/** Cookie name → value, in the order CloudFront documents them. */
export type CloudFrontCookies = Partial<Record<CloudFrontCookieName, string>>;

export interface SignedCookies extends GrantSummary {
  cookies: CloudFrontCookies;
}

/**
 * The cookies for a grant from {@link planSignedCookies} and a signature of its policy, for
 * callers that sign, or reuse a signature, themselves.
 *
 * @throws {SignerError} `ERR_COOKIE_TOO_LARGE`
 */
export function completeSignedCookies(grant: Grant, signature: Buffer): SignedCookies {
  const cookies: CloudFrontCookies = {};
  if (grant.policyType === 'canned') cookies[COOKIE.expires] = String(grant.expiresAt);
  else cookies[COOKIE.policy] = encodeCloudFrontBase64(grant.policy);
  cookies[COOKIE.signature] = encodeCloudFrontBase64(signature);
  cookies[COOKIE.keyPairId] = grant.keyPairId;
  if (grant.hash !== 'sha1') cookies[COOKIE.hashAlgorithm] = HASH_ALGORITHM_VALUE[grant.hash];
  for (const [name, value] of Object.entries(cookies)) {
    if (name.length + 1 + value.length > MAX_COOKIE_BYTES) {
      throw new SignerError(
        'ERR_COOKIE_TOO_LARGE',
        `the ${name} cookie would be ${name.length + 1 + value.length} bytes; browsers keep at most ${MAX_COOKIE_BYTES}. Shorten the resource pattern`,
      );
    }
  }
  return { cookies, ...summarizeGrant(grant) };
}

/**
 * Plans signed cookies and checks, before any signing, that each fits in a browser.
 *
 * @throws {SignerError} the codes of planGrant, and `ERR_COOKIE_TOO_LARGE`
 */
export function planSignedCookies(input: SignCookiesInput): Grant {
  const grant = planGrant(input, input);
  completeSignedCookies(grant, Buffer.alloc(maxSignatureBytes(input.privateKey)));
  return grant;
}

/**
 * Signs CloudFront cookies for one exact URL (canned, unless conditions are asked) or for a
 * resource pattern (custom). Pair with {@link formatSetCookieHeaders}.
 *
 * @throws {SignerError} on any invalid input; see docs/errors.md.
 */
export function signCookies(input: SignCookiesInput): SignedCookies {
  const grant = planSignedCookies(input);
  return completeSignedCookies(grant, signPolicy(grant.policy, input.privateKey, grant.hash));
}

/** As {@link signCookies}, signing on libuv's thread pool. */
export async function signCookiesAsync(input: SignCookiesInput): Promise<SignedCookies> {
  const grant = planSignedCookies(input);
  const signature = await signPolicyAsync(grant.policy, input.privateKey, grant.hash);
  return completeSignedCookies(grant, signature);
}

export interface SetCookieOptions {
  /** `Domain`: your site's domain that CNAMEs to CloudFront, e.g. `media.example.com`. */
  domain?: string;
  /** `Path`; default `/`. */
  path?: string;
  /** `Secure`; default true. */
  secure?: boolean;
  /** `HttpOnly`; default true. */
  httpOnly?: boolean;
  /** `SameSite`; omitted by default. `None` requires `secure`. */
  sameSite?: 'Strict' | 'Lax' | 'None';
}

const DOMAIN =
  /^\.?(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const PATH = /^\/[\x21-\x3A\x3C-\x7E]*$/;

function cookieOptionError(message: string): SignerError {
  return new SignerError('ERR_COOKIE_OPTION_INVALID', message);
}

/**
 * One `Set-Cookie` header value per cookie. AWS advises against `Expires`/`Max-Age` on these
 * cookies (the policy already expires), so none is set: they are session cookies.
 *
 * @throws {SignerError} `ERR_COOKIE_OPTION_INVALID`
 */
export function formatSetCookieHeaders(
  cookies: CloudFrontCookies,
  options: SetCookieOptions = {},
): string[] {
  const { domain, path = '/', secure = true, httpOnly = true, sameSite } = options;
  const attributes: string[] = [];
  if (domain !== undefined) {
    if (!DOMAIN.test(domain) || domain.length > 253) {
      throw cookieOptionError(`cookie domain ${quoteInput(domain)} is not a host name`);
    }
    if (/(^|\.)cloudfront\.net$/i.test(domain)) {
      throw cookieOptionError(
        'cookies cannot be set for cloudfront.net (a public suffix); use an alternate domain name for the distribution',
      );
    }
    attributes.push(`Domain=${domain}`);
  }
  if (!PATH.test(path)) {
    throw cookieOptionError(
      "cookie path must start with '/' and contain no ';', spaces or controls",
    );
  }
  attributes.push(`Path=${path}`);
  if (secure) attributes.push('Secure');
  if (httpOnly) attributes.push('HttpOnly');
  if (sameSite !== undefined) {
    // JavaScript callers are not held to the type.
    if (!(['Strict', 'Lax', 'None'] as unknown[]).includes(sameSite)) {
      throw cookieOptionError("SameSite must be 'Strict', 'Lax' or 'None'");
    }
    if (sameSite === 'None' && !secure) {
      throw cookieOptionError('SameSite=None requires Secure');
    }
    attributes.push(`SameSite=${sameSite}`);
  }
  const suffix = attributes.map((attribute) => `; ${attribute}`).join('');
  return Object.entries(cookies).map(([name, value]) => `${name}=${value}${suffix}`);
}
