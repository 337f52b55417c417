import { SignerError } from '../../errors.ts';
import {
  inspectCookies,
  inspectUrl,
  type Inspection,
  type InspectOptions,
} from '../../core/inspect.ts';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.ts';
import type { CommandSpec } from '../command.ts';
import { readJudgingOptions, readTrustedKey } from './judging-options.ts';

/** Text from a link or its policy, safe on a terminal: no controls, escapes or bidi tricks. */
function printable(text: string): string {
  return text.replace(
    /[^\x20-\x7E]/gu,
    (character) => `\\u{${(character.codePointAt(0) ?? 0).toString(16).toUpperCase()}}`,
  );
}

function describeTime(time: { utc: string; relative: string }): string {
  return `${time.utc} (${time.relative})`;
}

/** The report a person reads: aligned fields, the policy, then the problems and the verdict. */
function formatInspection(inspection: Inspection): string {
  const fields: [string, string | undefined][] = [
    ['Signed by', inspection.source === 'url' ? 'URL parameters' : 'cookies'],
    ['URL', inspection.requestUrl],
    ['Policy type', inspection.policyType],
    ['Key-Pair-Id', inspection.keyPairId],
    ['Hash', inspection.hash?.toUpperCase()],
    ['Resource', inspection.resource],
    ['Expires', inspection.expiry === undefined ? undefined : describeTime(inspection.expiry)],
    ['Starts', inspection.start === undefined ? undefined : describeTime(inspection.start)],
    ['IP address', inspection.ipAddress],
  ];
  const shown = fields.filter((entry): entry is [string, string] => entry[1] !== undefined);
  const width = Math.max(...shown.map(([label]) => label.length)) + 2;
  const lines = shown.map(([label, value]) => `${label.padEnd(width)}${printable(value)}`);
  if (inspection.policy !== undefined) {
    lines.push('Policy', ...inspection.policy.split('\n').map((line) => `  ${printable(line)}`));
  }
  lines.push('');
  const { problems } = inspection;
  if (problems.length === 0) {
    lines.push('No problems found.');
  } else {
    lines.push(`${problems.length} problem${problems.length > 1 ? 's' : ''}:`);
    const codeWidth = Math.max(...problems.map((problem) => problem.code.length)) + 2;
    for (const problem of problems) {
      const answer =
        problem.cloudFrontError === undefined
          ? ''
          : ` (CloudFront: 403 ${problem.cloudFrontError})`;
      lines.push(
        `  ${problem.severity.padEnd(9)}${problem.code.padEnd(codeWidth)}${printable(problem.message)}${answer}`,
      );
    }
  }
  const { verdict } = inspection;
  if (verdict !== undefined) {
    lines.push('');
    const answer =
      verdict.valid || verdict.cloudFrontError === undefined
        ? ''
        : ` (CloudFront would answer 403 ${verdict.cloudFrontError})`;
    lines.push(
      `Verdict: ${verdict.valid ? 'valid' : 'invalid'}: ${printable(verdict.reason)}${answer}`,
    );
    for (const warning of verdict.warnings) lines.push(`  warning: ${printable(warning)}`);
  }
  return `${lines.join('\n')}\n`;
}

export const inspectCommand: CommandSpec = {
  name: 'inspect',
  summary:
    'Explain a signed URL (or signed cookies) without a key: the policy, its times, and every problem; with --public-key, the verdict too.',
  positionals: [
    { name: 'signed-url', description: 'the signed URL (with --cookie: the URL requested)' },
  ],
  options: {
    cookie: {
      type: 'string',
      value: 'HEADER',
      description: "inspect cookies instead: 'CloudFront-Policy=…; CloudFront-Signature=…; …'",
    },
    'public-key': {
      type: 'string',
      value: 'FILE',
      description: 'public key PEM CloudFront trusts: adds the verdict (a private key works too)',
    },
    'key-pair-id': {
      type: 'string',
      value: 'ID',
      description: 'with --public-key: accept the key only for this Key-Pair-Id',
    },
    ip: {
      type: 'string',
      value: 'ADDR',
      description: 'viewer IPv4 address, to check an IP condition',
    },
    at: { type: 'string', value: 'WHEN', description: 'judge at this time instead of now' },
    json: { type: 'boolean', description: 'print the inspection as JSON on stdout' },
  },
  notes: [
    'Exit 0 when no problem is found (and, with --public-key, CloudFront would accept the link); 1 otherwise.',
    'Problem codes and their severity: docs/errors.md. The signature itself is never printed.',
  ],
  examples: [
    "cfsign inspect 'https://d111111abcdef8.cloudfront.net/a.mp4?Expires=…&Signature=…&Key-Pair-Id=K2JCJMDEHXQW5F'",
    "cfsign inspect 'https://d111111abcdef8.cloudfront.net/a.mp4?Policy=…&Signature=…&Key-Pair-Id=K2JCJMDEHXQW5F' --public-key public_key.pem --ip 203.0.113.7",
    "cfsign inspect https://media.example.com/videos/a.mp4 --cookie 'CloudFront-Policy=…; CloudFront-Signature=…; CloudFront-Key-Pair-Id=K2JCJMDEHXQW5F' --json",
  ],
  run(args, io) {
    const [target = ''] = args.positionals;
    const publicKeyFile = args.strings['public-key'];
    const onlyId = args.strings['key-pair-id'];
    if (onlyId !== undefined && publicKeyFile === undefined) {
      throw new SignerError('ERR_USAGE', '--key-pair-id needs --public-key');
    }
    const options: InspectOptions = readJudgingOptions(args, io);
    if (publicKeyFile !== undefined) options.keys = readTrustedKey(publicKeyFile, onlyId);
    const cookie = args.strings['cookie'];
    const inspection =
      cookie === undefined ? inspectUrl(target, options) : inspectCookies(target, cookie, options);
    io.stdout(
      args.flags['json'] === true
        ? `${JSON.stringify(inspection, null, 2)}\n`
        : formatInspection(inspection),
    );
    return inspection.ok ? EXIT_OK : EXIT_FAILURE;
  },
};
