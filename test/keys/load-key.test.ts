import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignerError, type ErrorCode } from '../../src/errors.ts';
import { signUrl } from '../../src/core/sign-url.ts';
import { verifyUrl } from '../../src/core/verify.ts';
import { loadPrivateKey, loadPublicKey } from '../../src/keys/load-key.ts';
import { fixturePath, fixturePem } from '../helpers/fixtures.ts';

const NOW = new Date('2026-06-01T12:00:00Z');

function rejects(action: () => unknown, code: ErrorCode, message: RegExp): void {
  assert.throws(action, (error) => {
    assert.ok(error instanceof SignerError, String(error));
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

function signsAndVerifies(privateName: string, publicName: string, passphrase?: string): void {
  const privateKey = loadPrivateKey(
    { file: fixturePath(privateName) },
    passphrase === undefined ? {} : { passphrase },
  );
  const publicKey = loadPublicKey({ file: fixturePath(publicName) });
  const signed = signUrl({
    keyPairId: 'KTEST',
    privateKey,
    url: 'https://d.example/a',
    expires: '1h',
    now: NOW,
  });
  assert.equal(
    verifyUrl(signed.url, { keys: new Map([['KTEST', publicKey]]), now: NOW }).valid,
    true,
  );
}

describe('loadPrivateKey', () => {
  it('reads RSA-2048 as PKCS#8 and PKCS#1', () => {
    signsAndVerifies('rsa-2048.pkcs8.pem', 'rsa-2048.public.pem');
    signsAndVerifies('rsa-2048.pkcs1.pem', 'rsa-2048.public.pem');
  });

  it('reads encrypted PKCS#8 and legacy encrypted PKCS#1 with the passphrase', () => {
    signsAndVerifies('rsa-2048.encrypted.pem', 'rsa-2048.public.pem', 'correct-horse');
    signsAndVerifies('rsa-2048.pkcs1-encrypted.pem', 'rsa-2048.public.pem', 'correct-horse');
  });

  it('reads ECDSA P-256 as SEC1 and PKCS#8', () => {
    signsAndVerifies('ec-p256.sec1.pem', 'ec-p256.public.pem');
    signsAndVerifies('ec-p256.pkcs8.pem', 'ec-p256.public.pem');
  });

  it('accepts RSA keys longer than 2048 bits', () => {
    assert.equal(
      loadPrivateKey({ file: fixturePath('rsa-3072.pem') }).asymmetricKeyDetails?.modulusLength,
      3072,
    );
  });

  it('reads a PEM string and an environment variable holding \\n escapes', () => {
    const pem = fixturePem('rsa-2048.pkcs1.pem');
    assert.equal(loadPrivateKey({ pem }).type, 'private');
    const escaped = pem.trimEnd().split('\n').join('\\n');
    assert.equal(
      loadPrivateKey({ env: 'CFSIGN_TEST_KEY', environment: { CFSIGN_TEST_KEY: escaped } }).type,
      'private',
    );
  });

  it('refuses RSA-1024, P-384 and Ed25519 naming what it found', () => {
    rejects(
      () => loadPrivateKey({ file: fixturePath('rsa-1024.pem') }),
      'ERR_KEY_UNSUPPORTED',
      /found a RSA-1024 private key; CloudFront needs/,
    );
    rejects(
      () => loadPrivateKey({ file: fixturePath('ec-p384.pem') }),
      'ERR_KEY_UNSUPPORTED',
      /found a EC secp384r1 private key/,
    );
    rejects(
      () => loadPrivateKey({ file: fixturePath('ed25519.pem') }),
      'ERR_KEY_UNSUPPORTED',
      /found a ed25519 private key/,
    );
  });

  it('refuses a public key where a private key is needed', () => {
    rejects(
      () => loadPrivateKey({ file: fixturePath('rsa-2048.public.pem') }),
      'ERR_KEY_UNSUPPORTED',
      /found a public key but no private key; signing needs the private key/,
    );
  });

  it('asks for a missing passphrase and refuses a wrong one', () => {
    rejects(
      () => loadPrivateKey({ file: fixturePath('rsa-2048.encrypted.pem') }),
      'ERR_KEY_PASSPHRASE',
      /encrypted; give its passphrase/,
    );
    rejects(
      () =>
        loadPrivateKey({ file: fixturePath('rsa-2048.encrypted.pem') }, { passphrase: 'wrong' }),
      'ERR_KEY_PASSPHRASE',
      /does not decrypt/,
    );
    rejects(
      () =>
        loadPrivateKey(
          { file: fixturePath('rsa-2048.pkcs1-encrypted.pem') },
          { passphrase: 'wrong' },
        ),
      'ERR_KEY_PASSPHRASE',
      /does not decrypt/,
    );
  });

  it('refuses a missing file without naming its path', () => {
    const path = '/nonexistent/secret-dir/key.pem';
    assert.throws(
      () => loadPrivateKey({ file: path }),
      (error) =>
        error instanceof SignerError &&
        error.code === 'ERR_KEY_UNREADABLE' &&
        /does not exist/.test(error.message) &&
        !error.message.includes('secret-dir'),
    );
    rejects(
      () => loadPrivateKey({ file: fixturePath('') }),
      'ERR_KEY_UNREADABLE',
      /is a directory/,
    );
  });

  it('refuses text that is not PEM and a corrupt PEM body without echoing it', () => {
    rejects(() => loadPrivateKey({ pem: 'not a key' }), 'ERR_KEY_INVALID', /no PEM block/);
    const corrupt =
      '-----BEGIN PRIVATE KEY-----\nTUlJQ2VjcmV0LXNlY3JldA==\n-----END PRIVATE KEY-----\n';
    assert.throws(
      () => loadPrivateKey({ pem: corrupt }),
      (error) =>
        error instanceof SignerError &&
        error.code === 'ERR_KEY_INVALID' &&
        !error.message.includes('TUlJ'),
    );
  });

  it('refuses an unset environment variable without naming its value', () => {
    rejects(
      () => loadPrivateKey({ env: 'CFSIGN_NOT_SET', environment: {} }),
      'ERR_KEY_UNREADABLE',
      /not set/,
    );
  });
});

describe('loadPublicKey', () => {
  it('derives the public half of a private key', () => {
    assert.equal(loadPublicKey({ file: fixturePath('rsa-2048.pkcs1.pem') }).type, 'public');
  });

  it('refuses an unsupported public key', () => {
    const rsa1024 = loadPublicKey.bind(null, { file: fixturePath('rsa-1024.pem') });
    rejects(rsa1024, 'ERR_KEY_UNSUPPORTED', /RSA-1024/);
  });
});

describe('loadPrivateKey with several PEM blocks', () => {
  it('takes the private key from a PEM that also holds a certificate or EC parameters', () => {
    const certificate = fixturePem('rsa-2048.public.pem').replace(/PUBLIC KEY/g, 'CERTIFICATE');
    const combined = `${certificate}${fixturePem('rsa-2048.pkcs1.pem')}`;
    assert.equal(loadPrivateKey({ pem: combined }).asymmetricKeyType, 'rsa');
    const parameters =
      '-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n';
    assert.equal(
      loadPrivateKey({ pem: `${parameters}${fixturePem('ec-p256.sec1.pem')}` }).asymmetricKeyType,
      'ec',
    );
  });

  it('refuses two private keys in one PEM', () => {
    const two = `${fixturePem('rsa-2048.pkcs1.pem')}${fixturePem('ec-p256.sec1.pem')}`;
    rejects(() => loadPrivateKey({ pem: two }), 'ERR_KEY_INVALID', /holds 2 private keys/);
  });

  it('explains an encrypted private key given where a public key is expected', () => {
    rejects(
      () => loadPublicKey({ file: fixturePath('rsa-2048.encrypted.pem') }),
      'ERR_KEY_PASSPHRASE',
      /give the public key instead/,
    );
  });
});
