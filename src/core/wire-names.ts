/** The names CloudFront reads from a request. Every other module spells them through these. */

export const QUERY = {
  expires: 'Expires',
  policy: 'Policy',
  signature: 'Signature',
  keyPairId: 'Key-Pair-Id',
  hashAlgorithm: 'Hash-Algorithm',
} as const;

export const COOKIE = {
  expires: 'CloudFront-Expires',
  policy: 'CloudFront-Policy',
  signature: 'CloudFront-Signature',
  keyPairId: 'CloudFront-Key-Pair-Id',
  hashAlgorithm: 'CloudFront-Hash-Algorithm',
} as const;

/** Values of `Hash-Algorithm` / `CloudFront-Hash-Algorithm`; absent means SHA1. */
export const HASH_ALGORITHM_VALUE = { sha1: 'SHA1', sha256: 'SHA256' } as const;

export type CloudFrontCookieName = (typeof COOKIE)[keyof typeof COOKIE];
