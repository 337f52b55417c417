import { readFileSync } from 'node:fs';

/** What bench/run.ts hands a comparison server (the baseline or the floor) in its environment. */
export interface ReferenceSettings {
  distributionUrl: string;
  keyPairId: string;
  /** The PEM text of the private key. */
  privateKeyPem: string;
  /** The whole Authorization header a request must carry. */
  expectedAuthorization: string;
  hash: 'sha1' | 'sha256';
}

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is required`);
  return value;
}

/**
 * Reads CLOUDFRONT_URL, CLOUDFRONT_KEY_PAIR_ID, PRIVATE_KEY_PATH, BENCH_TOKEN and BENCH_HASH
 * (sha1 | sha256).
 */
export function readReferenceSettings(): ReferenceSettings {
  return {
    distributionUrl: required('CLOUDFRONT_URL'),
    keyPairId: required('CLOUDFRONT_KEY_PAIR_ID'),
    privateKeyPem: readFileSync(required('PRIVATE_KEY_PATH'), 'utf8'),
    expectedAuthorization: `Bearer ${required('BENCH_TOKEN')}`,
    hash: process.env['BENCH_HASH'] === 'sha256' ? 'sha256' : 'sha1',
  };
}
