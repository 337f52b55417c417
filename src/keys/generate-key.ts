import { generateKeyPairSync } from 'node:crypto';

export type GeneratedKeyType = 'rsa' | 'ecdsa';

export interface GeneratedKeyPair {
  /** PKCS#8 PEM: keep it secret; cfsign signs with it. */
  privateKeyPem: string;
  /** SPKI PEM: upload it to CloudFront (Public keys), then add it to a key group. */
  publicKeyPem: string;
}

/** A new key pair CloudFront accepts: RSA-2048 or ECDSA P-256. */
export function generateSigningKeyPair(type: GeneratedKeyType): GeneratedKeyPair {
  const publicKeyEncoding = { type: 'spki', format: 'pem' } as const;
  const privateKeyEncoding = { type: 'pkcs8', format: 'pem' } as const;
  const pair =
    type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding, privateKeyEncoding })
      : generateKeyPairSync('ec', {
          namedCurve: 'prime256v1',
          publicKeyEncoding,
          privateKeyEncoding,
        });
  return { privateKeyPem: pair.privateKey, publicKeyPem: pair.publicKey };
}
