import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
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

function writeKeyFile(path: string, contents: string, mode: number, force: boolean): void {
  try {
    writeFileSync(path, contents, { mode, flag: force ? 'w' : 'wx' });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'EEXIST') refuseToOverwrite(path);
    throw error;
  }
  // An overwritten file keeps its old mode unless it is set again.
  chmodSync(path, mode);
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
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    const pair = generateSigningKeyPair(type);
    const force = args.flags['force'] === true;
    const privatePath = join(directory, PRIVATE_KEY_FILE);
    const publicPath = join(directory, PUBLIC_KEY_FILE);
    if (!force) {
      // Check both first, so a refusal never leaves half a key pair behind.
      for (const path of [privatePath, publicPath]) if (existsSync(path)) refuseToOverwrite(path);
    }
    writeKeyFile(privatePath, pair.privateKeyPem, 0o600, force);
    writeKeyFile(publicPath, pair.publicKeyPem, 0o644, force);
    io.stdout(
      `Wrote ${privatePath} (${type === 'rsa' ? 'RSA-2048' : 'ECDSA P-256'}, keep it secret) and ${publicPath}.\n` +
        'Upload public_key.pem to CloudFront (Public keys), add it to a key group, and sign with the ID CloudFront shows.\n',
    );
    return EXIT_OK;
  },
};
