import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignerError } from '../errors.ts';
import { signingKeyAlgorithm, verificationKeyAlgorithm } from '../core/signing-key.ts';

/** Where a PEM comes from. Exactly one of `pem`, `file` or `env`. */
export type PemSource =
  | { pem: string }
  | { file: string }
  | { env: string; environment?: Readonly<Record<string, string | undefined>> };

export interface LoadPrivateKeyOptions {
  /** Passphrase of an encrypted PEM (PKCS#8 `ENCRYPTED PRIVATE KEY` or legacy PKCS#1/SEC1). */
  passphrase?: string;
}

const PEM_LABEL = /-----BEGIN ([A-Z0-9 ]+)-----/;
const MAX_PEM_BYTES = 64 * 1024;

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String(error.code)
    : undefined;
}

/**
 * Reads the PEM text of a source. File and variable names never appear in errors, because
 * errors can reach logs; the caller knows which source it passed.
 *
 * @throws {SignerError} `ERR_KEY_UNREADABLE`
 */
export function readPem(source: PemSource): string {
  let text: string | undefined;
  if ('pem' in source) {
    text = source.pem;
  } else if ('file' in source) {
    try {
      const bytes = readFileSync(source.file);
      if (bytes.length > MAX_PEM_BYTES) {
        throw new SignerError(
          'ERR_KEY_UNREADABLE',
          'the key file is larger than 64 KiB: not a PEM key',
        );
      }
      text = bytes.toString('utf8');
    } catch (error) {
      if (error instanceof SignerError) throw error;
      const code = errorCode(error);
      const why =
        code === 'ENOENT'
          ? 'does not exist'
          : code === 'EACCES'
            ? 'is not readable by this user'
            : code === 'EISDIR'
              ? 'is a directory'
              : `could not be read (${code ?? 'unknown error'})`;
      throw new SignerError('ERR_KEY_UNREADABLE', `the private key file ${why}`, {
        details: { reason: code },
      });
    }
  } else {
    const environment = source.environment ?? process.env;
    text = environment[source.env];
    if (text === undefined || text === '') {
      throw new SignerError(
        'ERR_KEY_UNREADABLE',
        'the environment variable meant to hold the key is not set',
      );
    }
    // Platforms that cannot store newlines in variables often hold the PEM with literal \n.
    text = text.replace(/\\n/g, '\n');
  }
  if (typeof text !== 'string' || !PEM_LABEL.test(text)) {
    throw new SignerError(
      'ERR_KEY_INVALID',
      'no PEM block found (expected -----BEGIN ... PRIVATE KEY-----)',
    );
  }
  return text;
}

/**
 * Parses a private key once into a `KeyObject` and checks that CloudFront can use it:
 * RSA of 2048 bits or more, or ECDSA P-256, from PKCS#1, PKCS#8 or SEC1 PEM, encrypted or not.
 *
 * @throws {SignerError} `ERR_KEY_UNREADABLE`, `ERR_KEY_INVALID`, `ERR_KEY_PASSPHRASE`, `ERR_KEY_UNSUPPORTED`
 */
export function loadPrivateKey(source: PemSource, options: LoadPrivateKeyOptions = {}): KeyObject {
  const pem = readPem(source);
  const label = PEM_LABEL.exec(pem)?.[1] ?? '';
  if (label === 'PUBLIC KEY' || label === 'RSA PUBLIC KEY' || label === 'CERTIFICATE') {
    throw new SignerError(
      'ERR_KEY_UNSUPPORTED',
      `found a ${label === 'CERTIFICATE' ? 'certificate' : 'public key'}; signing needs the private key (the public key is what you upload to CloudFront)`,
      { details: { found: label.toLowerCase() } },
    );
  }
  const encrypted = label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type: 4,ENCRYPTED/.test(pem);
  if (encrypted && (options.passphrase === undefined || options.passphrase === '')) {
    throw new SignerError(
      'ERR_KEY_PASSPHRASE',
      'the private key is encrypted; give its passphrase',
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(
      options.passphrase === undefined
        ? { key: pem, format: 'pem' }
        : { key: pem, format: 'pem', passphrase: options.passphrase },
    );
  } catch (error) {
    if (encrypted) {
      throw new SignerError(
        'ERR_KEY_PASSPHRASE',
        'the passphrase does not decrypt the private key',
        {
          details: { reason: errorCode(error) },
        },
      );
    }
    throw new SignerError(
      'ERR_KEY_INVALID',
      `the PEM block '${label}' is not a private key Node.js can read`,
      {
        details: { reason: errorCode(error) },
      },
    );
  }
  signingKeyAlgorithm(key);
  return key;
}

/**
 * Parses a public key (SPKI `PUBLIC KEY` or PKCS#1 `RSA PUBLIC KEY`) for verification. A private
 * key is accepted too; only its public half is kept.
 *
 * @throws {SignerError} `ERR_KEY_UNREADABLE`, `ERR_KEY_INVALID`, `ERR_KEY_PASSPHRASE`, `ERR_KEY_UNSUPPORTED`
 */
export function loadPublicKey(source: PemSource, options: LoadPrivateKeyOptions = {}): KeyObject {
  const pem = readPem(source);
  const label = PEM_LABEL.exec(pem)?.[1] ?? '';
  if (label.endsWith('PRIVATE KEY')) {
    return createPublicKey(loadPrivateKey({ pem }, options));
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (error) {
    throw new SignerError(
      'ERR_KEY_INVALID',
      `the PEM block '${label}' is not a public key Node.js can read`,
      {
        details: { reason: errorCode(error) },
      },
    );
  }
  verificationKeyAlgorithm(key);
  return key;
}
