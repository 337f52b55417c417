import { parseArgs } from 'node:util';
import { SignerError } from '../errors.ts';
import { quoteInput } from '../core/quote-input.ts';
import type { CliIo } from './io.ts';

export interface OptionSpec {
  /**
   * `string`: at most once. `string[]`: repeatable, every value kept in order (e.g.
   * `--public-key A=a.pem --public-key B=b.pem`). `boolean`: a flag.
   */
  type: 'string' | 'string[]' | 'boolean';
  short?: string;
  /** e.g. `WHEN`, shown in help. */
  value?: string;
  description: string;
  /** For `string[]`: at least one value. */
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
  /** The values of each `string[]` option, in the order given; empty when absent. */
  lists: Readonly<Record<string, readonly string[]>>;
  flags: Readonly<Record<string, boolean>>;
}

function usageError(message: string): SignerError {
  return new SignerError('ERR_USAGE', message);
}

/**
 * Parses a command's arguments strictly: unknown options, missing values, repeated options
 * (unless declared `string[]`) and missing required options are usage errors, never silently
 * resolved.
 *
 * @throws {SignerError} `ERR_USAGE`
 */
export function parseCommand(spec: CommandSpec, argv: readonly string[]): ParsedCommand {
  const options: Record<string, { type: 'string' | 'boolean'; multiple: boolean; short?: string }> =
    {};
  for (const [name, option] of Object.entries(spec.options)) {
    const type = option.type === 'boolean' ? 'boolean' : 'string';
    const multiple = option.type === 'string[]';
    options[name] =
      option.short === undefined ? { type, multiple } : { type, multiple, short: option.short };
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
    if (token.kind !== 'option' || spec.options[token.name]?.type === 'string[]') continue;
    if (seen.has(token.name)) throw usageError(`--${token.name} is given more than once`);
    seen.add(token.name);
  }
  const strings: Record<string, string | undefined> = {};
  const lists: Record<string, readonly string[]> = {};
  const flags: Record<string, boolean> = {};
  for (const [name, option] of Object.entries(spec.options)) {
    const value: unknown = (parsed.values as Record<string, unknown>)[name];
    if (option.type === 'string[]') {
      const values = Array.isArray(value) ? value.filter((v) => typeof v === 'string') : [];
      if (values.includes('')) throw usageError(`--${name} needs a value`);
      if (option.required === true && values.length === 0) {
        throw usageError(`--${name} is required`);
      }
      lists[name] = values;
    } else if (option.type === 'string') {
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
  return { positionals: parsed.positionals, strings, lists, flags };
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
    const marks = [
      ...(option.required === true ? ['required'] : []),
      ...(option.type === 'string[]' ? ['repeatable'] : []),
    ];
    lines.push(
      `  ${flag.padEnd(28)}${option.description}${marks.length === 0 ? '' : ` (${marks.join(', ')})`}`,
    );
  }
  if (spec.notes !== undefined) lines.push('', ...spec.notes);
  lines.push('', 'Examples:', ...spec.examples.map((example) => `  ${example}`), '');
  return lines.join('\n');
}
