import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { SignerError } from '../../errors.ts';
import { quoteInput } from '../../core/quote-input.ts';
import { generateSigningKeyPair } from '../../keys/generate-key.ts';
import { EXIT_OK } from '../exit-codes.ts';
import type { CommandSpec } from '../command.ts';

const PRIVATE_KEY_FILE = 'private_key.pem';
const PUBLIC_KEY_FILE = 'public_key.pem';

function refuseToOverwrite(path: string): never {
  throw new SignerError(
    'ERR_FILE_EXISTS',
    `${basename(path)} already exists in the --out directory; choose another or pass --force`,
  );
}

/** A file-system failure as a usage error about --out: its code, never the path. */
function outError(error: unknown): SignerError {
  const code = (error as { code?: unknown }).code;
  return new SignerError(
    'ERR_USAGE',
    `--out: cannot create the key files there (${typeof code === 'string' ? code : 'unknown error'})`,
    { cause: error },
  );
}

/**
 * Creates the directory and its missing parents (mode 0700). Done one level at a time, since
 * mkdirSync's own recursion never returns on some paths (a missing one under /proc).
 */
function makeDirectory(directory: string): void {
  if (existsSync(directory)) {
    if (!statSync(directory).isDirectory()) {
      throw new SignerError('ERR_USAGE', '--out, or a folder above it, is a file, not a directory');
    }
    return;
  }
  const parent = dirname(directory);
  if (parent !== directory) makeDirectory(parent);
  mkdirSync(directory, { mode: 0o700 });
}

/**
 * Writes a key file with its final mode from the first byte: a new file is created with it;
 * an overwritten one is replaced by a new file renamed over it, never rewritten in place
 * under its old (perhaps wider) mode.
 */
function writeKeyFile(path: string, contents: string, mode: number, force: boolean): void {
  const target = force ? `${path}.${randomBytes(6).toString('hex')}.tmp` : path;
  try {
    writeFileSync(target, contents, { mode, flag: 'wx' });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'EEXIST') refuseToOverwrite(path);
    throw error;
  }
  // The umask may have narrowed the mode; set it exactly.
  chmodSync(target, mode);
  if (force) renameSync(target, path);
}

export const keygenCommand: CommandSpec = {
  name: 'keygen',
  summary:
    'Create a key pair CloudFront accepts: private_key.pem (mode 0600) and public_key.pem to upload.',
  positionals: [],
  options: {
    type: {
      type: 'string',
      value: 'rsa|ecdsa',
      description: 'key type: rsa (RSA-2048, default) or ecdsa (P-256)',
    },
    out: {
      type: 'string',
      value: 'DIR',
      required: true,
      description: 'directory for the two files (created if missing)',
    },
    force: { type: 'boolean', description: 'overwrite existing files' },
  },
  notes: [
    'Next: CloudFront console > Public keys > Create, paste public_key.pem, add the key to a key group,',
    'and use the ID CloudFront shows (K…) as --key-pair-id. Never commit private_key.pem.',
  ],
  examples: ['cfsign keygen --out ./keys', 'cfsign keygen --type ecdsa --out /run/secrets/cfsign'],
  run(args, io) {
    const type = args.strings['type'] ?? 'rsa';
    if (type !== 'rsa' && type !== 'ecdsa') {
      throw new SignerError('ERR_USAGE', `--type must be rsa or ecdsa, not ${quoteInput(type)}`);
    }
    const directory = args.strings['out'] ?? '.';
    const force = args.flags['force'] === true;
    const privatePath = join(directory, PRIVATE_KEY_FILE);
    const publicPath = join(directory, PUBLIC_KEY_FILE);
    const pair = generateSigningKeyPair(type);
    try {
      makeDirectory(resolve(directory));
      if (!force) {
        // Check both first, so a refusal never leaves half a key pair behind.
        for (const path of [privatePath, publicPath]) if (existsSync(path)) refuseToOverwrite(path);
      }
      writeKeyFile(privatePath, pair.privateKeyPem, 0o600, force);
      writeKeyFile(publicPath, pair.publicKeyPem, 0o644, force);
    } catch (error) {
      throw error instanceof SignerError ? error : outError(error);
    }
    io.stdout(
      `Wrote ${privatePath} (${type === 'rsa' ? 'RSA-2048' : 'ECDSA P-256'}, keep it secret) and ${publicPath}.\n` +
        'Upload public_key.pem to CloudFront (Public keys), add it to a key group, and sign with the ID CloudFront shows.\n',
    );
    return EXIT_OK;
  },
};
