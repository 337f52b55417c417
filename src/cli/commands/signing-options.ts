import type { SigningOptions } from '../../core/grant.ts';
import { parseHashAlgorithm } from '../../core/signing-key.ts';
import { SignerError } from '../../errors.ts';
import { loadPrivateKey } from '../../keys/load-key.ts';
import type { OptionSpec, ParsedCommand } from '../command.ts';
import type { CliIo } from '../io.ts';

export const SIGNING_OPTION_SPECS = {
  'key-pair-id': {
    type: 'string',
    value: 'ID',
    required: true,
    description: 'CloudFront public key ID, e.g. K2JCJMDEHXQW5F',
  },
  'private-key': {
    type: 'string',
    value: 'FILE',
    required: true,
    description: 'private key PEM (RSA-2048+ or ECDSA P-256)',
  },
  'passphrase-env': {
    type: 'string',
    value: 'VAR',
    description: 'environment variable holding the key passphrase',
  },
  expires: {
    type: 'string',
    value: 'WHEN',
    required: true,
    description: 'expiry: 15m, 1h, 7d, epoch seconds or ISO-8601',
  },
  'not-before': { type: 'string', value: 'WHEN', description: 'start of validity (custom policy)' },
  ip: {
    type: 'string',
    value: 'CIDR',
    description: 'viewer IPv4 address or block (custom policy)',
  },
  resource: {
    type: 'string',
    value: 'PATTERN',
    description: "policy resource; '*' and '?' are wildcards (custom policy)",
  },
  hash: {
    type: 'string',
    value: 'sha1|sha256',
    description: 'signature hash (default: sha1 for RSA, sha256 for ECDSA)',
  },
} as const satisfies Record<string, OptionSpec>;

export const WHEN_NOTE =
  'WHEN is a duration from now (90s, 15m, 1h, 7d, 1h30m), epoch seconds, or ISO-8601 (UTC unless it has an offset).';

/** Reads the options shared by `url` and `cookies` and loads the key once. */
export function readSigningOptions(args: ParsedCommand, io: CliIo): SigningOptions {
  const { strings } = args;
  const passphraseVariable = strings['passphrase-env'];
  let passphrase: string | undefined;
  if (passphraseVariable !== undefined) {
    passphrase = io.env[passphraseVariable];
    if (passphrase === undefined) {
      throw new SignerError(
        'ERR_USAGE',
        `--passphrase-env: the variable ${passphraseVariable} is not set`,
      );
    }
  }
  const privateKey = loadPrivateKey(
    { file: strings['private-key'] ?? '' },
    passphrase === undefined ? {} : { passphrase },
  );
  const options: SigningOptions = {
    keyPairId: strings['key-pair-id'] ?? '',
    privateKey,
    expires: strings['expires'] ?? '',
    now: io.now(),
  };
  const hash = strings['hash'];
  if (hash !== undefined) options.hash = parseHashAlgorithm(hash);
  const notBefore = strings['not-before'];
  if (notBefore !== undefined) options.notBefore = notBefore;
  const ip = strings['ip'];
  if (ip !== undefined) options.ipAddress = ip;
  return options;
}
