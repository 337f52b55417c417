import { SignerError } from '../errors.ts';
import type { Environment } from '../config/load-config.ts';
import type { ServiceConfig } from '../config/service-config.ts';
import { createKeyring, type Keyring, type KeyringEntry } from '../keys/keyring.ts';
import { loadPrivateKey } from '../keys/load-key.ts';

/**
 * Loads and checks every key of the distribution once, at start-up. A failure names the
 * setting (never the path or the PEM), in the same form as configuration problems.
 *
 * @throws {SignerError} `ERR_CONFIG_INVALID` with `details.problems`
 */
export function loadKeyring(
  distribution: ServiceConfig['distribution'],
  env: Environment,
  setting = 'PRIVATE_KEY_PATH',
): Keyring {
  const problems: string[] = [];
  const entries: KeyringEntry[] = [];
  for (const key of distribution.keys) {
    try {
      const passphrase = key.passphraseEnv === undefined ? undefined : env[key.passphraseEnv];
      const privateKey = loadPrivateKey(
        { file: key.privateKeyFile },
        passphrase === undefined ? {} : { passphrase },
      );
      entries.push({ keyPairId: key.id, privateKey });
    } catch (error) {
      if (!(error instanceof SignerError)) throw error;
      problems.push(`${setting} (${key.id}): ${error.message}`);
    }
  }
  if (problems.length > 0) {
    throw new SignerError(
      'ERR_CONFIG_INVALID',
      `the keys could not be loaded: ${problems.join('; ')}`,
      {
        details: { problems },
      },
    );
  }
  return createKeyring(entries, distribution.activeKey);
}
