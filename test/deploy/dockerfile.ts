import { readFileSync } from 'node:fs';

export const REPOSITORY = new URL('../../', import.meta.url).pathname;

/** One Dockerfile instruction with its continuation lines joined. */
export interface Instruction {
  keyword: string;
  args: string;
}

export interface Stage {
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

/**
 * Reads a Dockerfile as BuildKit does for what these tests need: comment lines (inside
 * continuations too) dropped, `\` continuations joined, one stage per FROM.
 */
export function parseDockerfile(text: string): Stage[] {
  const instructions: Instruction[] = [];
  let pending = '';
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line) || (pending === '' && line.trim() === '')) continue;
    const continued = /\\\s*$/.test(line);
    pending += continued ? line.replace(/\\\s*$/, ' ') : line;
    if (continued) continue;
    const match = /^\s*(\S+)\s*(.*)$/s.exec(pending);
    if (match?.[1] !== undefined) {
      instructions.push({
        keyword: match[1].toUpperCase(),
        args: (match[2] ?? '').replace(/\s+/g, ' ').trim(),
      });
    }
    pending = '';
  }
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = instruction.args.split(' ');
      stages.push({
        image,
        name: as?.toUpperCase() === 'AS' ? name : undefined,
        instructions: [],
      });
    } else {
      const stage = stages.at(-1);
      if (stage === undefined) throw new Error(`${instruction.keyword} before the first FROM`);
      stage.instructions.push(instruction);
    }
  }
  return stages;
}

export function readDockerfile(): Stage[] {
  return parseDockerfile(readFileSync(`${REPOSITORY}Dockerfile`, 'utf8'));
}

/** The JSON array of an exec-form CMD, ENTRYPOINT or HEALTHCHECK CMD; undefined in shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  const value = JSON.parse(args) as unknown;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) return undefined;
  return value;
}

export function instructionsOf(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((item) => item.keyword === keyword).map((item) => item.args);
}

/** HEALTHCHECK [--option=value ...] CMD <command>. */
export function parseHealthcheck(args: string): {
  options: Record<string, string>;
  command: string[] | undefined;
} {
  const options: Record<string, string> = {};
  let rest = args;
  for (let match = /^--([a-z-]+)=(\S+)\s+/.exec(rest); match;) {
    options[match[1] ?? ''] = match[2] ?? '';
    rest = rest.slice(match[0].length);
    match = /^--([a-z-]+)=(\S+)\s+/.exec(rest);
  }
  const command = /^CMD\s+(.*)$/s.exec(rest)?.[1];
  return { options, command: command === undefined ? undefined : execForm(command) };
}

/** `ENV a=b c=d` (the key=value form; the legacy `ENV key value` is refused by the tests). */
export function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const args of instructionsOf(stage, 'ENV')) {
    for (const pair of args.split(' ')) {
      const separator = pair.indexOf('=');
      if (separator < 1) throw new Error(`ENV ${args} is not in key=value form`);
      env[pair.slice(0, separator)] = pair.slice(separator + 1);
    }
  }
  return env;
}

/**
 * Whether a .dockerignore excludes a path of the build context: patterns in order, the last
 * match wins, `!` re-includes, and a pattern that matches a directory excludes what it holds.
 * Pattern syntax as Docker's: `*` and `?` within one segment, `**` across segments.
 */
export function dockerignoreMatcher(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negated = line.startsWith('!');
      const pattern = (negated ? line.slice(1) : line).replace(/^\/+/, '').replace(/\/+$/, '');
      let source = '';
      for (let index = 0; index < pattern.length; index += 1) {
        const char = pattern.charAt(index);
        if (pattern.startsWith('**/', index)) {
          source += '(?:.*/)?';
          index += 2;
        } else if (pattern.startsWith('**', index)) {
          source += '.*';
          index += 1;
        } else if (char === '*') source += '[^/]*';
        else if (char === '?') source += '[^/]';
        else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      return { negated, regex: new RegExp(`^${source}$`) };
    });
  return (path) => {
    const segments = path.split('/');
    const candidates = segments.map((_, index) => segments.slice(0, index + 1).join('/'));
    let excluded = false;
    for (const rule of rules) {
      if (candidates.some((candidate) => rule.regex.test(candidate))) excluded = !rule.negated;
    }
    return excluded;
  };
}
