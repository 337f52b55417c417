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

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
const MAX_PEM_BYTES = 64 * 1024;

interface PemBlock {
  label: string;
  text: string;
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String(error.code)
    : undefined;
}

/**
 * Reads the PEM text of a source. File and variable names never appear in errors, because
 * errors can reach logs; the caller knows which source it passed.
 *
 * @throws {SignerError} `ERR_KEY_UNREADABLE` or `ERR_KEY_INVALID` (no PEM block at all)
 */
export function readPem(source: PemSource): string {
  let text: string | undefined;
  if ('pem' in source) {
    text = source.pem;
  } else if ('file' in source) {
    text = readKeyFile(source.file);
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
  if (typeof text !== 'string' || pemBlocks(text).length === 0) {
    throw new SignerError(
      'ERR_KEY_INVALID',
      'no PEM block found (expected -----BEGIN … KEY----- … -----END … KEY-----)',
    );
  }
  return text;
}

function readKeyFile(path: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = errorCode(error);
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EACCES'
          ? 'is not readable by this user'
          : code === 'EISDIR'
            ? 'is a directory'
            : `could not be read (${code ?? 'unknown error'})`;
    throw new SignerError('ERR_KEY_UNREADABLE', `the key file ${why}`, {
      details: { reason: code },
    });
  }
  if (bytes.length > MAX_PEM_BYTES) {
    throw new SignerError(
      'ERR_KEY_UNREADABLE',
      'the key file is larger than 64 KiB: not a PEM key',
    );
  }
  return bytes.toString('utf8');
}

function pemBlocks(text: string): PemBlock[] {
  return [...text.matchAll(PEM_BLOCK)].map((match) => ({ label: match[1] ?? '', text: match[0] }));
}

function isEncrypted(block: PemBlock): boolean {
  return block.label === 'ENCRYPTED PRIVATE KEY' || block.text.includes('Proc-Type: 4,ENCRYPTED');
}

/** The one private-key block of a PEM that may also hold certificates or EC parameters. */
function privateKeyBlock(pem: string): PemBlock | undefined {
  const blocks = pemBlocks(pem).filter((block) => block.label.endsWith('PRIVATE KEY'));
  if (blocks.length > 1) {
    throw new SignerError(
      'ERR_KEY_INVALID',
      `the PEM holds ${blocks.length} private keys; give exactly one`,
    );
  }
  return blocks[0];
}

/**
 * Parses a private key once into a `KeyObject` and checks that CloudFront can use it:
 * RSA of 2048 bits or more, or ECDSA P-256, from PKCS#1, PKCS#8 or SEC1 PEM, encrypted or not.
 * A PEM that also holds certificates or EC parameters is fine; two private keys are not.
 *
 * @throws {SignerError} `ERR_KEY_UNREADABLE`, `ERR_KEY_INVALID`, `ERR_KEY_PASSPHRASE`, `ERR_KEY_UNSUPPORTED`
 */
export function loadPrivateKey(source: PemSource, options: LoadPrivateKeyOptions = {}): KeyObject {
  const pem = readPem(source);
  const block = privateKeyBlock(pem);
  if (block === undefined) {
    const labels = pemBlocks(pem).map((candidate) => candidate.label);
    const found = labels.includes('CERTIFICATE')
      ? 'a certificate'
      : labels.some((label) => label.endsWith('PUBLIC KEY'))
        ? 'a public key'
        : `a PEM block '${labels[0] ?? ''}'`;
    throw new SignerError(
      'ERR_KEY_UNSUPPORTED',
      `found ${found} but no private key; signing needs the private key (the public key is what you upload to CloudFront)`,
      { details: { found } },
    );
  }
  const encrypted = isEncrypted(block);
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
        ? { key: block.text, format: 'pem' }
        : { key: block.text, format: 'pem', passphrase: options.passphrase },
    );
  } catch (error) {
    if (encrypted) {
      throw new SignerError(
        'ERR_KEY_PASSPHRASE',
        'the passphrase does not decrypt the private key',
        { details: { reason: errorCode(error) } },
      );
    }
    throw new SignerError(
      'ERR_KEY_INVALID',
      `the PEM block '${block.label}' is not a private key Node.js can read`,
      { details: { reason: errorCode(error) } },
    );
  }
  signingKeyAlgorithm(key);
  return key;
}

/**
 * Parses a public key for verification: SPKI `PUBLIC KEY`, PKCS#1 `RSA PUBLIC KEY`, or an X.509
 * `CERTIFICATE`. A private key is accepted too; only its public half is kept.
 *
 * @throws {SignerError} `ERR_KEY_UNREADABLE`, `ERR_KEY_INVALID`, `ERR_KEY_PASSPHRASE`, `ERR_KEY_UNSUPPORTED`
 */
export function loadPublicKey(source: PemSource, options: LoadPrivateKeyOptions = {}): KeyObject {
  const pem = readPem(source);
  const blocks = pemBlocks(pem);
  const publicBlock = blocks.find((block) =>
    ['PUBLIC KEY', 'RSA PUBLIC KEY', 'CERTIFICATE'].includes(block.label),
  );
  if (publicBlock === undefined) {
    const block = privateKeyBlock(pem);
    if (block !== undefined && isEncrypted(block) && options.passphrase === undefined) {
      throw new SignerError(
        'ERR_KEY_PASSPHRASE',
        'this is an encrypted private key; give the public key instead (or the passphrase)',
      );
    }
    return createPublicKey(loadPrivateKey({ pem }, options));
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: publicBlock.text, format: 'pem' });
  } catch (error) {
    throw new SignerError(
      'ERR_KEY_INVALID',
      `the PEM block '${publicBlock.label}' is not a public key Node.js can read`,
      { details: { reason: errorCode(error) } },
    );
  }
  verificationKeyAlgorithm(key);
  return key;
}
