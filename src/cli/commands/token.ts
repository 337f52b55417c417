import { randomBytes } from 'node:crypto';
import { SignerError } from '../../errors.ts';
import { digestToken } from '../../config/load-config.ts';
import { EXIT_OK } from '../exit-codes.ts';
import type { CommandSpec } from '../command.ts';

export const tokenCreateCommand: CommandSpec = {
  name: 'token create',
  summary:
    'Create a random API token for a client: print it once, with the SHA-256 digest the configuration stores instead.',
  positionals: [],
  options: {
    client: { type: 'string', value: 'NAME', required: true, description: 'the client name' },
    json: { type: 'boolean', description: 'print {"client", "token", "tokenSha256"}' },
  },
  notes: [
    'The token is shown only now; cfsign keeps only its digest. Give the token to the client.',
  ],
  examples: ['cfsign token create --client web'],
  run(args, io) {
    const client = args.strings['client'] ?? '';
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(client)) {
      throw new SignerError('ERR_USAGE', '--client must be 1-64 letters, digits, _ . or -');
    }
    // 32 random bytes: far beyond guessing, and URL- and header-safe as base64url.
    const token = `cfs_${randomBytes(32).toString('base64url')}`;
    const tokenSha256 = digestToken(token);
    io.stdout(
      args.flags['json'] === true
        ? `${JSON.stringify({ client, token, tokenSha256 }, null, 2)}\n`
        : [
            `token (give it to ${client}; it is not shown again): ${token}`,
            '',
            'For CFSIGN_CONFIG:',
            'clients:',
            `  - name: ${client}`,
            `    tokenSha256: ${tokenSha256}`,
            '    allow:',
            '      - { distribution: <name>, prefixes: ["<prefix>/"] }',
            '',
          ].join('\n'),
    );
    return EXIT_OK;
  },
};
