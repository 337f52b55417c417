import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSigningKeyPair } from './generate-key.ts';

/**
 * Makes sure a development key pair exists in `directory` (created once, private key 0600),
 * and says whether it was just created. Never used outside dev mode.
 */
export function ensureDevKeyPair(directory: string): { privateKeyFile: string; created: boolean } {
  const privateKeyFile = join(directory, 'private_key.pem');
  if (existsSync(privateKeyFile)) return { privateKeyFile, created: false };
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const pair = generateSigningKeyPair('rsa');
  writeFileSync(join(directory, 'public_key.pem'), pair.publicKeyPem, { mode: 0o644 });
  writeFileSync(privateKeyFile, pair.privateKeyPem, { mode: 0o600, flag: 'wx' });
  return { privateKeyFile, created: true };
}
