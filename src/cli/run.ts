import { isSignerError } from '../errors.ts';
import { packageVersion } from '../version.ts';
import { quoteInput } from '../core/quote-input.ts';
import { formatCommandHelp, parseCommand, type CommandSpec } from './command.ts';
import {
  configCheckCommand,
  configSchemaCommand,
  describeConfigProblems,
} from './commands/config.ts';
import { cookiesCommand } from './commands/cookies.ts';
import { edgeCommand } from './commands/edge.ts';
import { inspectCommand } from './commands/inspect.ts';
import { tokenCreateCommand } from './commands/token.ts';
import { keygenCommand } from './commands/keygen.ts';
import { urlCommand } from './commands/url.ts';
import { verifyCommand } from './commands/verify.ts';
import { EXIT_CODE_FOR_ERROR, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './exit-codes.ts';
import type { CliIo } from './io.ts';

export const COMMANDS: readonly CommandSpec[] = [
  urlCommand,
  cookiesCommand,
  verifyCommand,
  inspectCommand,
  edgeCommand,
  keygenCommand,
  configSchemaCommand,
  configCheckCommand,
  tokenCreateCommand,
];

const GLOBAL_OPTIONS = {
  help: { type: 'boolean', short: 'h', description: 'show help for the command' },
  verbose: { type: 'boolean', description: 'show the cause and stack of an error' },
} as const;

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length)) + 2;
  return [
    'cfsign: CloudFront signed URLs and cookies that CloudFront accepts and that grant exactly what you ask.',
    '',
    'Usage: cfsign <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}${command.summary}`),
    '',
    'Options:',
    '  -h, --help      show help (also after a command: cfsign url --help)',
    '  --version       print the version',
    '  --verbose       show the cause and stack of an error',
    '',
    'Exit codes: 0 success, 1 signing or verification failed, 2 usage error.',
    '',
    'Example:',
    '  cfsign keygen --out ./keys',
    '  cfsign url https://d111111abcdef8.cloudfront.net/videos/intro.mp4 --key-pair-id K2JCJMDEHXQW5F --private-key ./keys/private_key.pem --expires 1h',
    '',
  ].join('\n');
}

/**
 * Runs one `cfsign` invocation and returns its exit code. Never calls process.exit and never
 * prints a stack trace unless `--verbose`.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, second] = argv;
  // Two-word commands ('config check', 'token create') are matched before one-word ones.
  const twoWords = COMMANDS.some(
    (candidate) => candidate.name === `${first ?? ''} ${second ?? ''}`,
  );
  const name = twoWords ? `${first ?? ''} ${second ?? ''}` : first;
  const rest = argv.slice(twoWords ? 2 : 1);
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(mainHelp());
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === '--version' || name === '-v') {
    io.stdout(`${packageVersion()}\n`);
    return EXIT_OK;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (command === undefined) {
    io.stderr(
      `cfsign: ERR_USAGE: unknown command ${quoteInput(name)}. Commands: ${COMMANDS.map((c) => c.name).join(', ')}. Run 'cfsign --help'.\n`,
    );
    return EXIT_USAGE;
  }
  const spec: CommandSpec = { ...command, options: { ...command.options, ...GLOBAL_OPTIONS } };
  const verbose = rest.includes('--verbose');
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(formatCommandHelp(spec));
    return EXIT_OK;
  }
  try {
    return await spec.run(parseCommand(spec, rest), io);
  } catch (error) {
    if (isSignerError(error)) {
      const exitCode = EXIT_CODE_FOR_ERROR[error.code];
      const problems = describeConfigProblems(error);
      if (problems !== undefined) {
        for (const line of problems) io.stderr(`cfsign ${spec.name}: ${error.code}: ${line}\n`);
        return exitCode;
      }
      const hint = exitCode === EXIT_USAGE ? ` (see 'cfsign ${spec.name} --help')` : '';
      io.stderr(`cfsign ${spec.name}: ${error.code}: ${error.message}${hint}\n`);
      if (verbose && error.stack !== undefined) io.stderr(`${error.stack}\n`);
      return exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(
      `cfsign ${spec.name}: unexpected error: ${message}${verbose ? '' : ' (run with --verbose for details)'}\n`,
    );
    if (verbose && error instanceof Error && error.stack !== undefined)
      io.stderr(`${error.stack}\n`);
    return EXIT_FAILURE;
  }
}
