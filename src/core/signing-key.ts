import type { KeyObject } from 'node:crypto';
import { SignerError } from '../errors.ts';
import { quoteInput } from './quote-input.ts';

/** The hash that signs a policy. CloudFront assumes SHA-1 unless `Hash-Algorithm=SHA256` says otherwise. */
export type HashAlgorithm = 'sha1' | 'sha256';

export const HASH_ALGORITHMS: readonly HashAlgorithm[] = ['sha1', 'sha256'];

/** The two key types CloudFront accepts for trusted key groups. */
export type KeyAlgorithm = 'rsa' | 'ecdsa-p256';

const MIN_RSA_BITS = 2048;

/**
 * Names a key for error messages without revealing anything secret about it.
 * e.g. "RSA-1024 private key", "EC secp384r1 private key", "ed25519 public key".
 */
export function describeKey(key: KeyObject): string {
  const kind = key.type === 'secret' ? 'secret key' : `${key.type} key`;
  const details = key.asymmetricKeyDetails;
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      return `${key.asymmetricKeyType.toUpperCase()}-${details?.modulusLength ?? '?'} ${kind}`;
    case 'ec':
      return `EC ${details?.namedCurve ?? 'unknown curve'} ${kind}`;
    case undefined:
      return kind;
    default:
      return `${key.asymmetricKeyType} ${kind}`;
  }
}

function keyAlgorithmOf(key: KeyObject): KeyAlgorithm | undefined {
  if (key.asymmetricKeyType === 'rsa') {
    return (key.asymmetricKeyDetails?.modulusLength ?? 0) >= MIN_RSA_BITS ? 'rsa' : undefined;
  }
  if (key.asymmetricKeyType === 'ec') {
    return key.asymmetricKeyDetails?.namedCurve === 'prime256v1' ? 'ecdsa-p256' : undefined;
  }
  return undefined;
}

function unsupported(key: KeyObject, expected: string): SignerError {
  return new SignerError(
    'ERR_KEY_UNSUPPORTED',
    `found a ${describeKey(key)}; CloudFront needs ${expected} (RSA of 2048 bits or more, or ECDSA P-256)`,
    { details: { found: describeKey(key) } },
  );
}

/**
 * The most bytes a signature by `key` can take: the modulus length for RSA, 72 for a DER
 * ECDSA P-256 signature. Lets a link's length be checked before anything is signed.
 */
export function maxSignatureBytes(key: KeyObject): number {
  if (key.asymmetricKeyType === 'ec') return 72;
  return Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 4096) / 8);
}

/**
 * The algorithm of a private key CloudFront can use: RSA of 2048 bits or more, or ECDSA P-256.
 *
 * @throws {SignerError} `ERR_KEY_UNSUPPORTED` for anything else, public keys included
 */
export function signingKeyAlgorithm(key: KeyObject): KeyAlgorithm {
  const algorithm = key.type === 'private' ? keyAlgorithmOf(key) : undefined;
  if (algorithm === undefined) throw unsupported(key, 'a private key');
  return algorithm;
}

/**
 * The algorithm of a key that can verify CloudFront signatures (a public key, or a private key
 * whose public half is used).
 *
 * @throws {SignerError} `ERR_KEY_UNSUPPORTED`
 */
export function verificationKeyAlgorithm(key: KeyObject): KeyAlgorithm {
  const algorithm = key.type === 'secret' ? undefined : keyAlgorithmOf(key);
  if (algorithm === undefined) throw unsupported(key, 'a public or private key');
  return algorithm;
}

/**
 * The hash to sign with: the one asked for, else SHA-1 for RSA (CloudFront's default, shortest
 * URLs) and SHA-256 for ECDSA.
 *
 * @throws {SignerError} `ERR_HASH_UNSUPPORTED`
 */
export function resolveHashAlgorithm(
  requested: string | undefined,
  algorithm: KeyAlgorithm,
): HashAlgorithm {
  if (requested === undefined) return algorithm === 'rsa' ? 'sha1' : 'sha256';
  return parseHashAlgorithm(requested);
}

/**
 * @throws {SignerError} `ERR_HASH_UNSUPPORTED` unless `text` is `sha1` or `sha256`
 */
export function parseHashAlgorithm(text: unknown): HashAlgorithm {
  if (text === 'sha1' || text === 'sha256') return text;
  throw new SignerError(
    'ERR_HASH_UNSUPPORTED',
    `hash must be 'sha1' or 'sha256', not ${quoteInput(String(text))}`,
  );
}
