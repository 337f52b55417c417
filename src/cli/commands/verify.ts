import { verifyCookies, verifyUrl, type Verdict, type VerifyOptions } from '../../core/verify.ts';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.ts';
import type { CommandSpec } from '../command.ts';
import { readJudgingOptions, readTrustedKey } from './judging-options.ts';

function describeVerdict(verdict: Verdict): string {
  const lines = [`${verdict.valid ? 'valid' : 'invalid'}: ${verdict.reason}`];
  if (!verdict.valid && verdict.cloudFrontError !== undefined) {
    lines.push(`  CloudFront would answer 403 ${verdict.cloudFrontError}`);
  }
  for (const warning of verdict.warnings) lines.push(`  warning: ${warning}`);
  return `${lines.join('\n')}\n`;
}

export const verifyCommand: CommandSpec = {
  name: 'verify',
  summary:
    'Check a signed URL (or signed cookies) as CloudFront would; exit 0 if accepted, 1 with the reason if not.',
  positionals: [
    { name: 'signed-url', description: 'the signed URL (with --cookie: the URL requested)' },
  ],
  options: {
    'public-key': {
      type: 'string',
      value: 'FILE',
      required: true,
      description: 'public key PEM that CloudFront trusts (a private key works too)',
    },
    'key-pair-id': {
      type: 'string',
      value: 'ID',
      description: 'accept only this Key-Pair-Id for the key',
    },
    cookie: {
      type: 'string',
      value: 'HEADER',
      description: "verify cookies instead: 'CloudFront-Policy=…; CloudFront-Signature=…; …'",
    },
    ip: {
      type: 'string',
      value: 'ADDR',
      description: 'viewer IPv4 address, to check an IP condition',
    },
    at: { type: 'string', value: 'WHEN', description: 'judge at this time instead of now' },
    json: { type: 'boolean', description: 'print the verdict as JSON on stdout' },
  },
  examples: [
    "cfsign verify 'https://d111111abcdef8.cloudfront.net/a.mp4?Expires=…&Signature=…&Key-Pair-Id=K2JCJMDEHXQW5F' --public-key public_key.pem",
    "cfsign verify https://media.example.com/videos/a.mp4 --cookie 'CloudFront-Policy=…; CloudFront-Signature=…; CloudFront-Key-Pair-Id=K2JCJMDEHXQW5F' --public-key public_key.pem --json",
  ],
  run(args, io) {
    const [target = ''] = args.positionals;
    const options: VerifyOptions = {
      ...readJudgingOptions(args, io),
      keys: readTrustedKey(args.strings['public-key'] ?? '', args.strings['key-pair-id']),
    };
    const cookie = args.strings['cookie'];
    const verdict =
      cookie === undefined ? verifyUrl(target, options) : verifyCookies(target, cookie, options);
    if (args.flags['json'] === true) io.stdout(`${JSON.stringify(verdict, null, 2)}\n`);
    else if (verdict.valid) io.stdout(describeVerdict(verdict));
    else io.stderr(describeVerdict(verdict));
    return verdict.valid ? EXIT_OK : EXIT_FAILURE;
  },
};
