import type { KeyObject } from 'node:crypto';
import { createPublicKey } from 'node:crypto';
import { SignerError } from '../errors.ts';
import { assertKeyPairId } from '../core/grant.ts';
import { signingKeyAlgorithm } from '../core/signing-key.ts';

export interface KeyringEntry {
  keyPairId: string;
  privateKey: KeyObject;
}

/**
 * The keys of one distribution's trusted key group, by Key-Pair-Id: one active key signs,
 * every listed key verifies. Immutable: a reload builds a new keyring and swaps it whole, so
 * a key and its Key-Pair-Id always change together.
 */
export interface Keyring {
  readonly active: Readonly<KeyringEntry>;
  readonly keyPairIds: readonly string[];
  /** The public key for a Key-Pair-Id, for verification. */
  get(keyPairId: string): KeyObject | undefined;
}

/**
 * @param activeKeyPairId the key that signs; defaults to the first entry.
 * @throws {SignerError} `ERR_USAGE` (no keys, duplicate or unknown active ID),
 *   `ERR_KEY_PAIR_ID_INVALID`, `ERR_KEY_UNSUPPORTED`
 */
export function createKeyring(entries: readonly KeyringEntry[], activeKeyPairId?: string): Keyring {
  const publicKeys = new Map<string, KeyObject>();
  for (const entry of entries) {
    assertKeyPairId(entry.keyPairId);
    signingKeyAlgorithm(entry.privateKey);
    if (publicKeys.has(entry.keyPairId)) {
      throw new SignerError('ERR_USAGE', `Key-Pair-Id ${entry.keyPairId} is listed twice`);
    }
    publicKeys.set(entry.keyPairId, createPublicKey(entry.privateKey));
  }
  const active =
    activeKeyPairId === undefined
      ? entries[0]
      : entries.find((entry) => entry.keyPairId === activeKeyPairId);
  if (active === undefined) {
    throw new SignerError(
      'ERR_USAGE',
      activeKeyPairId === undefined
        ? 'a keyring needs at least one key'
        : `the active Key-Pair-Id ${activeKeyPairId} is not among the keys`,
    );
  }
  return Object.freeze({
    active: Object.freeze({ ...active }),
    keyPairIds: Object.freeze([...publicKeys.keys()]),
    get: (keyPairId: string) => publicKeys.get(keyPairId),
  });
}
