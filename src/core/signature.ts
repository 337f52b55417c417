import { sign, verify, type KeyObject } from 'node:crypto';
import type { HashAlgorithm } from './signing-key.ts';

/**
 * Signs policy bytes: RSASSA-PKCS1-v1_5 for RSA keys, DER-encoded ECDSA for P-256 keys,
 * both of which are what CloudFront verifies. Runs on the calling thread.
 */
export function signPolicy(policy: string, key: KeyObject, hash: HashAlgorithm): Buffer {
  return sign(hash, Buffer.from(policy, 'utf8'), key);
}

/** As {@link signPolicy}, on libuv's thread pool so the event loop stays free. */
export function signPolicyAsync(
  policy: string,
  key: KeyObject,
  hash: HashAlgorithm,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    sign(hash, Buffer.from(policy, 'utf8'), key, (error, signature) => {
      if (error) reject(error);
      else resolve(signature);
    });
  });
}

/** Whether `signature` is a valid signature of `policy` by `key` (public, or private's public half). */
export function verifyPolicySignature(
  policy: string | Buffer,
  signature: Buffer,
  key: KeyObject,
  hash: HashAlgorithm,
): boolean {
  try {
    const bytes = typeof policy === 'string' ? Buffer.from(policy, 'utf8') : policy;
    return verify(hash, bytes, key, signature);
  } catch {
    // OpenSSL throws on some malformed DER signatures; for a verifier that is simply "no".
    return false;
  }
}
