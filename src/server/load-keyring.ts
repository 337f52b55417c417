import { SignerError } from '../errors.ts';
import type { Environment } from '../config/load-config.ts';
import type { DistributionConfig } from '../config/service-config.ts';
import { createKeyring, type Keyring, type KeyringEntry } from '../keys/keyring.ts';
import { loadPrivateKey } from '../keys/load-key.ts';

/**
 * Loads and checks every key of every distribution, at start-up (and on reload). A failure
 * names the distribution and key id (never the path or the PEM), in the same form as
 * configuration problems, and nothing is returned unless every key loaded.
 *
 * @throws {SignerError} `ERR_CONFIG_INVALID` with `details.problems`
 */
export function loadKeyrings(
  distributions: readonly DistributionConfig[],
  env: Environment,
): Map<string, Keyring> {
  const problems: string[] = [];
  const keyrings = new Map<string, Keyring>();
  for (const distribution of distributions) {
    const entries: KeyringEntry[] = [];
    for (const key of distribution.keys) {
      const setting =
        key.privateKeyEnv !== undefined
          ? key.privateKeyEnv
          : distributions.length === 1 && distribution.name === 'default'
            ? 'PRIVATE_KEY_PATH'
            : `distributions.${distribution.name}.keys.${key.id}`;
      try {
        const passphrase = key.passphraseEnv === undefined ? undefined : env[key.passphraseEnv];
        const source =
          key.privateKeyEnv !== undefined
            ? { env: key.privateKeyEnv, environment: env }
            : { file: key.privateKeyFile ?? '' };
        const privateKey = loadPrivateKey(source, passphrase === undefined ? {} : { passphrase });
        entries.push({ keyPairId: key.id, privateKey });
      } catch (error) {
        if (!(error instanceof SignerError)) throw error;
        problems.push(`${setting} (${key.id}): ${error.message}`);
      }
    }
    if (entries.length === distribution.keys.length) {
      keyrings.set(distribution.name, createKeyring(entries, distribution.activeKey));
    }
  }
  // A Key-Pair-Id names one key: verification looks keys up by id across distributions.
  const byId = new Map<string, string>();
  for (const keyring of keyrings.values()) {
    for (const id of keyring.keyPairIds) {
      const der = keyring.get(id)?.export({ type: 'spki', format: 'der' }).toString('base64') ?? '';
      const seen = byId.get(id);
      if (seen !== undefined && seen !== der) {
        problems.push(`the key id ${id} names two different keys; a Key-Pair-Id names one key`);
      }
      byId.set(id, der);
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
  return keyrings;
}
