import type { KeyObject } from 'node:crypto';
import { SignerError } from '../errors.ts';
import { quoteInput } from './quote-input.ts';
import { decodeCloudFrontBase64, findNonCloudFrontBase64Character } from './cloudfront-base64.ts';
import { ipv4BlockContains, parseViewerAddress, type Ipv4Block } from './ip-address.ts';
import { buildCannedPolicy, parseCustomPolicy, type PolicyType } from './policy.ts';
import { matchesResourcePattern } from './resource-pattern.ts';
import {
  readCookieFields,
  readQueryFields,
  requestUrlWithoutSigning,
  SIGNING_PARTS,
  type SigningPart,
} from './signing-fields.ts';
import { verifyPolicySignature } from './signature.ts';
import { MAX_URL_BYTES } from './signable-url.ts';
import { verificationKeyAlgorithm, type HashAlgorithm } from './signing-key.ts';
import { describeRelative, epochSeconds, MAX_EPOCH_SECONDS } from './time.ts';
import { COOKIE, HASH_ALGORITHM_VALUE, QUERY } from './wire-names.ts';

/** Finds the verification key for a Key-Pair-Id. A `Map` or a keyring both fit. */
export interface KeyLookup {
  get(keyPairId: string): KeyObject | undefined;
}

export interface VerifyOptions {
  /** The public keys CloudFront trusts, by Key-Pair-Id. */
  keys: KeyLookup;
  /** The time of the request. */
  now: Date;
  /** The viewer's IPv4 address, to check an `IpAddress` condition. */
  ipAddress?: string;
  /**
   * The URL is a request as it arrived (as an edge receives it), not a link a browser will
   * send: judge its bytes as they are, as CloudFront does, instead of the form a browser
   * would rewrite it to (dot segments resolved, `\\` as `/`, quotes escaped).
   */
  asReceived?: boolean;
}

/** Why a link would be refused. Stable; see docs/errors.md. */
export type VerificationFailure =
  | 'MALFORMED_URL'
  | 'MISSING_PARAMETER'
  | 'DUPLICATE_PARAMETER'
  | 'MALFORMED_SIGNATURE'
  | 'MALFORMED_POLICY'
  | 'UNSUPPORTED_HASH'
  | 'UNKNOWN_KEY'
  | 'BAD_SIGNATURE'
  | 'RESOURCE_MISMATCH'
  | 'EXPIRED'
  | 'NOT_YET_VALID'
  | 'IP_MISMATCH';

/** The error code in CloudFront's XML body for each failure (all are HTTP 403). */
export const CLOUDFRONT_ERROR_FOR_FAILURE = {
  MALFORMED_URL: 'AccessDenied',
  MISSING_PARAMETER: 'MissingKey',
  DUPLICATE_PARAMETER: 'AccessDenied',
  MALFORMED_SIGNATURE: 'MalformedSignature',
  MALFORMED_POLICY: 'MalformedPolicy',
  UNSUPPORTED_HASH: 'AccessDenied',
  UNKNOWN_KEY: 'InvalidKey',
  BAD_SIGNATURE: 'AccessDenied',
  RESOURCE_MISMATCH: 'AccessDenied',
  EXPIRED: 'AccessDenied',
  NOT_YET_VALID: 'AccessDenied',
  IP_MISMATCH: 'AccessDenied',
} as const satisfies Record<VerificationFailure, string>;

export type CloudFrontErrorCode = (typeof CLOUDFRONT_ERROR_FOR_FAILURE)[VerificationFailure];

/** What CloudFront would decide about a signed URL or cookie set, and why. */
export interface Verdict {
  valid: boolean;
  /** One sentence: the precise reason it fails, or until when it is valid. */
  reason: string;
  failure?: VerificationFailure;
  cloudFrontError?: CloudFrontErrorCode;
  /** Things the verdict could not check, such as an IP condition without a viewer address. */
  warnings: string[];
  policyType?: PolicyType;
  keyPairId?: string;
  hash?: HashAlgorithm;
  /** The URL the policy is matched against: the request URL without CloudFront's parameters. */
  requestUrl?: string;
  resource?: string;
  expiresAt?: number;
  notBefore?: number;
  ipAddress?: string;
  /** The policy JSON that was signed (decoded, or rebuilt for a canned policy). */
  policy?: string;
}

/** The signing values of a request, from its query string or its cookies. */
interface SigningParts {
  from: 'url' | 'cookies';
  requestUrl: string;
  expires?: string;
  policy?: string;
  signature?: string;
  keyPairId?: string;
  hashAlgorithm?: string;
}

class Refusal extends Error {
  constructor(
    readonly failure: VerificationFailure,
    readonly reason: string,
  ) {
    super(reason);
  }
}

function wireName(from: SigningParts['from'], part: SigningPart): string {
  return from === 'url' ? QUERY[part] : COOKIE[part];
}

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

function partsFromUrl(signedUrl: string): SigningParts {
  const query = readQueryFields(signedUrl);
  const parts: SigningParts = { from: 'url', requestUrl: requestUrlWithoutSigning(query) };
  for (const { name, value, part } of query.fields) {
    if (part === undefined) continue;
    if (parts[part] !== undefined) {
      throw new Refusal('DUPLICATE_PARAMETER', `the query has ${quoteInput(name)} more than once`);
    }
    parts[part] = value;
  }
  return parts;
}

/** Parses a `Cookie` header (`a=b; c=d`) into name → value. Duplicated CloudFront cookies are refused. */
function parseCookieHeader(header: string): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const { name, value } of readCookieFields(header)) {
    if (cookies.has(name) && name.startsWith('CloudFront-')) {
      throw new Refusal(
        'DUPLICATE_PARAMETER',
        `the cookie ${quoteInput(name)} is sent more than once`,
      );
    }
    cookies.set(name, value);
  }
  return cookies;
}

function partsFromCookies(requestUrl: string, cookies: Map<string, string>): SigningParts {
  const parts: SigningParts = { from: 'cookies', requestUrl };
  for (const part of SIGNING_PARTS) {
    const value = cookies.get(COOKIE[part]);
    if (value !== undefined) parts[part] = value;
  }
  return parts;
}

function decodeSignature(from: SigningParts['from'], value: string): Buffer {
  const name = wireName(from, 'signature');
  const stray = findNonCloudFrontBase64Character(value);
  if (stray !== undefined) {
    const hint =
      stray === '%'
        ? 'percent-encoded; CloudFront base64 needs no encoding'
        : "not CloudFront base64, which uses '-', '_' and '~' where base64 has '+', '=' and '/'";
    throw new Refusal('MALFORMED_SIGNATURE', `${name} contains ${quoteInput(stray)}: ${hint}`);
  }
  const bytes = decodeCloudFrontBase64(value);
  if (bytes === undefined) {
    throw new Refusal('MALFORMED_SIGNATURE', `${name} is not valid CloudFront base64 (truncated?)`);
  }
  return bytes;
}

/** The policy that was signed, and the IP block it grants when it has one. */
interface SignedPolicy {
  json: string;
  ipBlock?: Ipv4Block;
}

function describePolicy(
  from: SigningParts['from'],
  parts: SigningParts,
  verdict: Verdict,
): SignedPolicy {
  if (parts.expires !== undefined && parts.policy !== undefined) {
    throw new Refusal(
      'MALFORMED_POLICY',
      `both ${wireName(from, 'expires')} and ${wireName(from, 'policy')} are present; a link has one or the other`,
    );
  }
  if (parts.expires !== undefined) {
    if (!/^\d{1,10}$/.test(parts.expires) || Number(parts.expires) > MAX_EPOCH_SECONDS) {
      throw new Refusal(
        'MALFORMED_POLICY',
        `${wireName(from, 'expires')} must be whole epoch seconds up to ${MAX_EPOCH_SECONDS}`,
      );
    }
    verdict.policyType = 'canned';
    verdict.expiresAt = Number(parts.expires);
    verdict.resource = parts.requestUrl;
    return { json: buildCannedPolicy(parts.requestUrl, verdict.expiresAt) };
  }
  if (parts.policy === undefined) {
    throw new Refusal(
      'MISSING_PARAMETER',
      `neither ${wireName(from, 'expires')} (canned policy) nor ${wireName(from, 'policy')} (custom policy) is present`,
    );
  }
  const stray = findNonCloudFrontBase64Character(parts.policy);
  if (stray !== undefined) {
    throw new Refusal(
      'MALFORMED_POLICY',
      `${wireName(from, 'policy')} contains ${quoteInput(stray)}: not CloudFront base64, which uses '-', '_' and '~' where base64 has '+', '=' and '/'`,
    );
  }
  let parsed;
  try {
    parsed = parseCustomPolicy(parts.policy);
  } catch (error) {
    if (error instanceof SignerError) throw new Refusal('MALFORMED_POLICY', error.message);
    throw error;
  }
  verdict.policyType = 'custom';
  verdict.resource = parsed.resource;
  verdict.expiresAt = parsed.expiresAt;
  if (parsed.notBefore !== undefined) verdict.notBefore = parsed.notBefore;
  if (parsed.ipAddress !== undefined) verdict.ipAddress = parsed.ipAddress;
  return parsed.ipBlock === undefined
    ? { json: parsed.json }
    : { json: parsed.json, ipBlock: parsed.ipBlock };
}

function resolveHash(from: SigningParts['from'], value: string | undefined): HashAlgorithm {
  if (value === undefined || value === HASH_ALGORITHM_VALUE.sha1) return 'sha1';
  if (value === HASH_ALGORITHM_VALUE.sha256) return 'sha256';
  throw new Refusal(
    'UNSUPPORTED_HASH',
    `${wireName(from, 'hashAlgorithm')} is ${quoteInput(value)}; CloudFront knows SHA1 and SHA256`,
  );
}

function checkSignature(
  parts: SigningParts,
  policy: string,
  signature: Buffer,
  key: KeyObject,
  hash: HashAlgorithm,
): void {
  if (verifyPolicySignature(policy, signature, key, hash)) return;
  const other: HashAlgorithm = hash === 'sha1' ? 'sha256' : 'sha1';
  if (verifyPolicySignature(policy, signature, key, other)) {
    const fix =
      other === 'sha256'
        ? `add ${wireName(parts.from, 'hashAlgorithm')}=SHA256`
        : `remove ${wireName(parts.from, 'hashAlgorithm')}=SHA256`;
    throw new Refusal(
      'BAD_SIGNATURE',
      `the signature was made with ${other.toUpperCase()} but the link claims ${hash.toUpperCase()}: ${fix}`,
    );
  }
  throw new Refusal(
    'BAD_SIGNATURE',
    `the signature does not match this ${parts.from === 'url' ? 'URL' : 'request'} and policy under key ${parts.keyPairId ?? ''}: the URL, the policy or the signature was changed after signing, or another key signed it`,
  );
}

/** The viewer's address as parseViewerAddress reads it; an invalid one matches no block. */
function viewerAddress(address: string): string {
  try {
    return parseViewerAddress(address);
  } catch {
    return address;
  }
}

function judge(parts: SigningParts, options: VerifyOptions, verdict: Verdict): void {
  verdict.requestUrl = parts.requestUrl;
  if (parts.keyPairId === undefined || parts.keyPairId === '') {
    throw new Refusal('MISSING_PARAMETER', `${wireName(parts.from, 'keyPairId')} is missing`);
  }
  verdict.keyPairId = parts.keyPairId;
  if (parts.signature === undefined || parts.signature === '') {
    throw new Refusal('MISSING_PARAMETER', `${wireName(parts.from, 'signature')} is missing`);
  }
  const hash = resolveHash(parts.from, parts.hashAlgorithm);
  verdict.hash = hash;
  const policy = describePolicy(parts.from, parts, verdict);
  verdict.policy = policy.json;
  const signature = decodeSignature(parts.from, parts.signature);
  const key = options.keys.get(parts.keyPairId);
  if (key === undefined) {
    throw new Refusal(
      'UNKNOWN_KEY',
      `Key-Pair-Id ${quoteInput(parts.keyPairId)} is not one of the trusted public keys`,
    );
  }
  verificationKeyAlgorithm(key);
  checkSignature(parts, policy.json, signature, key, hash);

  const resource = verdict.resource ?? '';
  if (!matchesResourcePattern(resource, parts.requestUrl)) {
    throw new Refusal(
      'RESOURCE_MISMATCH',
      `resource ${quoteInput(resource, 200)} does not match ${quoteInput(parts.requestUrl, 200)}`,
    );
  }
  const now = epochSeconds(options.now);
  const expiresAt = verdict.expiresAt ?? 0;
  if (now >= expiresAt) {
    throw new Refusal(
      'EXPIRED',
      `expired ${describeRelative(expiresAt - now)} (at ${iso(expiresAt)})`,
    );
  }
  if (verdict.notBefore !== undefined && now <= verdict.notBefore) {
    throw new Refusal(
      'NOT_YET_VALID',
      `not valid until after ${iso(verdict.notBefore)} (${describeRelative(verdict.notBefore - now)})`,
    );
  }
  if (verdict.ipAddress !== undefined) {
    if (options.ipAddress === undefined) {
      verdict.warnings.push(
        `the policy allows only ${verdict.ipAddress}; no viewer address was given, so that was not checked`,
      );
    } else {
      const viewer = viewerAddress(options.ipAddress);
      if (policy.ipBlock === undefined || !ipv4BlockContains(policy.ipBlock, viewer)) {
        throw new Refusal(
          'IP_MISMATCH',
          `viewer address ${quoteInput(viewer)} is outside ${verdict.ipAddress}`,
        );
      }
    }
  }
  verdict.valid = true;
  verdict.reason = `valid until ${iso(expiresAt)} (expires ${describeRelative(expiresAt - now)})`;
}

function run(read: () => SigningParts, options: VerifyOptions, warnings: string[] = []): Verdict {
  const verdict: Verdict = { valid: false, reason: '', warnings };
  try {
    judge(read(), options, verdict);
  } catch (error) {
    if (error instanceof Refusal) {
      verdict.valid = false;
      verdict.failure = error.failure;
      verdict.cloudFrontError = CLOUDFRONT_ERROR_FOR_FAILURE[error.failure];
      verdict.reason = error.reason;
    } else if (error instanceof SignerError && error.code === 'ERR_KEY_UNSUPPORTED') {
      verdict.failure = 'UNKNOWN_KEY';
      verdict.cloudFrontError = CLOUDFRONT_ERROR_FOR_FAILURE.UNKNOWN_KEY;
      verdict.reason = error.message;
    } else {
      throw error;
    }
  }
  return verdict;
}

/**
 * The URL a browser sends for `url`: without its fragment, in WHATWG canonical form (lowercase
 * host, no default port, no dot segments). A warning says when that differs from the input.
 */
function requestedUrl(url: unknown, warnings: string[], asReceived = false): string {
  if (typeof url !== 'string' || url.length === 0) {
    throw new Refusal('MALFORMED_URL', 'the URL must be a non-empty string');
  }
  if (url.length > MAX_URL_BYTES) {
    throw new Refusal(
      'MALFORMED_URL',
      `the URL is ${url.length} bytes long; CloudFront refuses URLs over ${MAX_URL_BYTES} bytes`,
    );
  }
  if (/[^\x21-\x7E]/.test(url)) {
    throw new Refusal(
      'MALFORMED_URL',
      'the URL contains raw spaces, control or non-ASCII characters; a browser would send them percent-encoded, so they cannot match what was signed',
    );
  }
  const withoutFragment = url.includes('#') ? url.slice(0, url.indexOf('#')) : url;
  let parsed: URL;
  try {
    parsed = new URL(withoutFragment);
  } catch {
    throw new Refusal('MALFORMED_URL', 'the URL is not a valid absolute URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new Refusal('MALFORMED_URL', 'the URL is not an http or https URL');
  }
  if (asReceived) return withoutFragment;
  if (parsed.href !== withoutFragment) {
    warnings.push(
      'a browser sends this link in another form (host case, default port, dot segments or escaping); it was judged in that form',
    );
  }
  return parsed.href;
}

/**
 * Judges a signed URL as CloudFront would: parameters present once each and in CloudFront
 * base64, a known Key-Pair-Id, a valid signature over the (canned or custom) policy, the
 * resource matching the URL without CloudFront's parameters, the time window, and the IP.
 * Never throws for a bad link; the verdict says why.
 */
export function verifyUrl(signedUrl: string, options: VerifyOptions): Verdict {
  const warnings: string[] = [];
  return run(
    () => partsFromUrl(requestedUrl(signedUrl, warnings, options.asReceived)),
    options,
    warnings,
  );
}

function carriesSignedUrlParameters(parts: SigningParts): boolean {
  return SIGNING_PARTS.some((part) => parts[part] !== undefined);
}

/**
 * Judges a request for `url` carrying CloudFront signed cookies: a `Cookie` header string
 * (`CloudFront-Policy=…; CloudFront-Signature=…`) or name → value pairs.
 */
export function verifyCookies(
  url: string,
  cookies: string | Readonly<Record<string, string>>,
  options: VerifyOptions,
): Verdict {
  const warnings: string[] = [];
  return run(
    () => {
      const parsed = partsFromUrl(requestedUrl(url, warnings, options.asReceived));
      if (carriesSignedUrlParameters(parsed)) {
        // CloudFront treats such a request as a signed URL and never looks at the cookies.
        warnings.push(
          'the URL carries signed-URL parameters, so CloudFront judged the URL and ignored the cookies',
        );
        return parsed;
      }
      const jar =
        typeof cookies === 'string'
          ? parseCookieHeader(cookies)
          : new Map(
              Object.entries(cookies).filter(
                (entry): entry is [string, string] => typeof entry[1] === 'string',
              ),
            );
      return partsFromCookies(parsed.requestUrl, jar);
    },
    options,
    warnings,
  );
}
