import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

/**
 * The arguments `npm start` gives `node` (package.json's start script, `exec node <flags>
 * dist/server/main.cjs`), with the entry point made absolute. The bench starts cfsign with
 * exactly these, so it measures the service as shipped, V8 heap flags included.
 */
export function startCommandArgs(root: string): string[] {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    scripts?: Record<string, string>;
  };
  const [command, ...args] = (manifest.scripts?.['start'] ?? '').replace(/^exec /, '').split(' ');
  const entry = args.at(-1);
  if (command !== 'node' || entry === undefined || !entry.endsWith('.cjs')) {
    throw new Error('package.json: the start script is not `exec node [flags] <entry>.cjs`');
  }
  return [...args.slice(0, -1), isAbsolute(entry) ? entry : join(root, entry)];
}
