import { readFileSync } from 'node:fs';

/** One golden vector made by scripts/make-vectors.py with botocore and cryptography. */
export interface GoldenVector {
  name: string;
  key: string;
  keyPairId: string;
  hash: 'sha1' | 'sha256';
  objectKey?: string;
  url: string;
  expiresAt: number;
  notBefore?: number;
  ipAddress?: string;
  resource?: string;
  policyType: 'canned' | 'custom';
  policy: string;
  signedUrl: string;
}

export const GOLDEN_VECTORS: readonly GoldenVector[] = (
  JSON.parse(readFileSync(new URL('../vectors/botocore.json', import.meta.url), 'utf8')) as {
    vectors: GoldenVector[];
  }
).vectors;
