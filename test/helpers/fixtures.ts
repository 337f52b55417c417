import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadPrivateKey, loadPublicKey } from '../../src/keys/load-key.ts';

export const FIXTURE_KEYS_DIR = fileURLToPath(new URL('../fixtures/keys/', import.meta.url));

export function fixturePath(name: string): string {
  return `${FIXTURE_KEYS_DIR}${name}`;
}

export function fixturePem(name: string): string {
  return readFileSync(fixturePath(name), 'utf8');
}

export function fixturePrivateKey(name: string, passphrase?: string): KeyObject {
  return loadPrivateKey(
    { file: fixturePath(name) },
    passphrase === undefined ? {} : { passphrase },
  );
}

export function fixturePublicKey(name: string): KeyObject {
  return loadPublicKey({ file: fixturePath(name) });
}

export const RSA = {
  keyPairId: 'K2JCJMDEHXQW5F',
  privateKey: fixturePrivateKey('rsa-2048.pkcs8.pem'),
  publicKey: fixturePublicKey('rsa-2048.public.pem'),
};

export const OTHER_RSA = {
  keyPairId: 'K3OTHERRSAKEY',
  privateKey: fixturePrivateKey('rsa-2048-other.pem'),
  publicKey: fixturePublicKey('rsa-2048-other.public.pem'),
};

export const ECDSA = {
  keyPairId: 'K3ECDSAP256KEY',
  privateKey: fixturePrivateKey('ec-p256.pkcs8.pem'),
  publicKey: fixturePublicKey('ec-p256.public.pem'),
};

/** Public keys by Key-Pair-Id, as a verifier holds them. */
export const TRUSTED_KEYS: ReadonlyMap<string, KeyObject> = new Map([
  [RSA.keyPairId, RSA.publicKey],
  [OTHER_RSA.keyPairId, OTHER_RSA.publicKey],
  [ECDSA.keyPairId, ECDSA.publicKey],
]);

export const DISTRIBUTION = 'https://d111111abcdef8.cloudfront.net';
