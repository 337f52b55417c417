import { parseArgs } from 'node:util';
import { SignerError } from '../errors.ts';
import { quoteInput } from '../core/quote-input.ts';
import type { CliIo } from './io.ts';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** e.g. `WHEN`, shown in help. */
  value?: string;
  description: string;
  required?: boolean;
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** Positional arguments, in order; all required. */
  positionals: readonly { name: string; description: string }[];
  options: Readonly<Record<string, OptionSpec>>;
  examples: readonly string[];
  notes?: readonly string[];
  run(args: ParsedCommand, io: CliIo): Promise<number> | number;
}

export interface ParsedCommand {
  positionals: readonly string[];
  strings: Readonly<Record<string, string | undefined>>;
  flags: Readonly<Record<string, boolean>>;
}

function usageError(message: string): SignerError {
  return new SignerError('ERR_USAGE', message);
}

/**
 * Parses a command's arguments strictly: unknown options, missing values, repeated options and
 * missing required options are usage errors, never silently resolved.
 *
 * @throws {SignerError} `ERR_USAGE`
 */
export function parseCommand(spec: CommandSpec, argv: readonly string[]): ParsedCommand {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, option] of Object.entries(spec.options)) {
    options[name] =
      option.short === undefined
        ? { type: option.type }
        : { type: option.type, short: option.short };
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options,
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
  } catch (error) {
    throw usageError(
      error instanceof Error ? (error.message.split('\n')[0] ?? 'bad arguments') : 'bad arguments',
    );
  }
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option') continue;
    if (seen.has(token.name)) throw usageError(`--${token.name} is given more than once`);
    seen.add(token.name);
  }
  const strings: Record<string, string | undefined> = {};
  const flags: Record<string, boolean> = {};
  for (const [name, option] of Object.entries(spec.options)) {
    const value: unknown = (parsed.values as Record<string, unknown>)[name];
    if (option.type === 'string') {
      if (typeof value === 'string' && value === '') throw usageError(`--${name} needs a value`);
      strings[name] = typeof value === 'string' ? value : undefined;
      if (option.required === true && strings[name] === undefined) {
        throw usageError(`--${name} is required`);
      }
    } else {
      flags[name] = value === true;
    }
  }
  const expected = spec.positionals.length;
  if (parsed.positionals.length < expected) {
    const missing = spec.positionals[parsed.positionals.length]?.name ?? 'argument';
    throw usageError(`missing <${missing}>`);
  }
  if (parsed.positionals.length > expected) {
    throw usageError(`unexpected argument ${quoteInput(parsed.positionals[expected] ?? '')}`);
  }
  return { positionals: parsed.positionals, strings, flags };
}

/** The `--help` text of a command. */
export function formatCommandHelp(spec: CommandSpec): string {
  const positionals = spec.positionals.map((p) => ` <${p.name}>`).join('');
  const lines = [`Usage: cfsign ${spec.name}${positionals} [options]`, '', spec.summary, ''];
  if (spec.positionals.length > 0) {
    lines.push('Arguments:');
    for (const p of spec.positionals) lines.push(`  ${`<${p.name}>`.padEnd(28)}${p.description}`);
    lines.push('');
  }
  lines.push('Options:');
  const entries = Object.entries(spec.options);
  for (const [name, option] of entries) {
    const flag = `${option.short === undefined ? '' : `-${option.short}, `}--${name}${option.value === undefined ? '' : ` ${option.value}`}`;
    lines.push(
      `  ${flag.padEnd(28)}${option.description}${option.required === true ? ' (required)' : ''}`,
    );
  }
  if (spec.notes !== undefined) lines.push('', ...spec.notes);
  lines.push('', 'Examples:', ...spec.examples.map((example) => `  ${example}`), '');
  return lines.join('\n');
}
