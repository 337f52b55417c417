/**
 * cfsign: CloudFront signed URLs and cookies that CloudFront accepts and that grant exactly
 * what was asked. This entry point is the library; it never loads the service or the CLI.
 */
export { ERROR_CODES, SignerError, isSignerError } from './errors.ts';
export type { ErrorCode, SignerErrorOptions } from './errors.ts';

export { encodeCloudFrontBase64, decodeCloudFrontBase64 } from './core/cloudfront-base64.ts';
export { encodeObjectKey, assertValidObjectKey, MAX_OBJECT_KEY_BYTES } from './core/object-key.ts';
export {
  assertSignableUrl,
  buildObjectUrl,
  normalizeDistributionUrl,
  CLOUDFRONT_QUERY_PARAMETERS,
  MAX_URL_BYTES,
} from './core/signable-url.ts';
export {
  assertResourcePattern,
  buildObjectPattern,
  hasWildcard,
  matchesResourcePattern,
} from './core/resource-pattern.ts';
export { buildCannedPolicy, buildCustomPolicy, parseCustomPolicy } from './core/policy.ts';
export type { PolicyType, PolicyStatement, ParsedPolicy } from './core/policy.ts';
export { parseIpv4Block, ipv4BlockContains, parseViewerAddress } from './core/ip-address.ts';
export type { Ipv4Block } from './core/ip-address.ts';
export {
  MAX_EPOCH_SECONDS,
  alignExpiry,
  parseDuration,
  resolveTime,
  resolveValidityWindow,
} from './core/time.ts';
export type { TimeInput, ValidityWindow } from './core/time.ts';
export {
  HASH_ALGORITHMS,
  parseHashAlgorithm,
  describeKey,
  signingKeyAlgorithm,
  verificationKeyAlgorithm,
} from './core/signing-key.ts';
export type { HashAlgorithm, KeyAlgorithm } from './core/signing-key.ts';
export { assertKeyPairId, planGrant } from './core/grant.ts';
export type { Grant, GrantSummary, SigningOptions } from './core/grant.ts';
export { planSignedUrl, signUrl, signUrlAsync, completeSignedUrl } from './core/sign-url.ts';
export type { SignUrlInput, SignedUrl } from './core/sign-url.ts';
export {
  signCookies,
  signCookiesAsync,
  planSignedCookies,
  completeSignedCookies,
  formatSetCookieHeaders,
  MAX_COOKIE_BYTES,
} from './core/sign-cookies.ts';
export type {
  SignCookiesInput,
  SignedCookies,
  CloudFrontCookies,
  SetCookieOptions,
} from './core/sign-cookies.ts';
export { verifyUrl, verifyCookies, CLOUDFRONT_ERROR_FOR_FAILURE } from './core/verify.ts';
export type {
  Verdict,
  VerifyOptions,
  VerificationFailure,
  KeyLookup,
  CloudFrontErrorCode,
} from './core/verify.ts';
export {
  inspectUrl,
  inspectCookies,
  INSPECTION_PROBLEM_CODES,
  INSPECTION_PROBLEM_SEVERITY,
} from './core/inspect.ts';
export type {
  Inspection,
  InspectionProblem,
  InspectionProblemCode,
  InspectionVerdict,
  InspectOptions,
  DescribedTime,
  ProblemSeverity,
} from './core/inspect.ts';
export { COOKIE as COOKIE_NAMES, QUERY as QUERY_PARAMETER_NAMES } from './core/wire-names.ts';

export { loadPrivateKey, loadPublicKey, readPem } from './keys/load-key.ts';
export type { PemSource, LoadPrivateKeyOptions } from './keys/load-key.ts';
export { createKeyring } from './keys/keyring.ts';
export type { Keyring, KeyringEntry } from './keys/keyring.ts';
export { generateSigningKeyPair } from './keys/generate-key.ts';
export type { GeneratedKeyPair, GeneratedKeyType } from './keys/generate-key.ts';
