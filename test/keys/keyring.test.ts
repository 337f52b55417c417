import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignerError } from '../../src/errors.ts';
import { createKeyring } from '../../src/keys/keyring.ts';
import { ECDSA, RSA } from '../helpers/fixtures.ts';

describe('createKeyring', () => {
  const entries = [
    { keyPairId: RSA.keyPairId, privateKey: RSA.privateKey },
    { keyPairId: ECDSA.keyPairId, privateKey: ECDSA.privateKey },
  ];

  it('signs with the first key unless another is named active, and verifies with all', () => {
    assert.equal(createKeyring(entries).active.keyPairId, RSA.keyPairId);
    const keyring = createKeyring(entries, ECDSA.keyPairId);
    assert.equal(keyring.active.keyPairId, ECDSA.keyPairId);
    assert.deepEqual(keyring.keyPairIds, [RSA.keyPairId, ECDSA.keyPairId]);
    assert.equal(keyring.get(RSA.keyPairId)?.type, 'public');
    assert.equal(keyring.get('KNOPE'), undefined);
  });

  it('refuses duplicates, an unknown active ID and an empty list', () => {
    for (const build of [
      () => createKeyring([...entries, ...entries.slice(0, 1)]),
      () => createKeyring(entries, 'KMISSING'),
      () => createKeyring([]),
    ]) {
      assert.throws(build, (error) => error instanceof SignerError && error.code === 'ERR_USAGE');
    }
  });

  it('is frozen, so a reload must swap a whole new keyring', () => {
    const keyring = createKeyring(entries);
    assert.ok(Object.isFrozen(keyring));
    assert.ok(Object.isFrozen(keyring.active));
  });
});
