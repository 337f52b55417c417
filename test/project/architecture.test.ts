import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

const SRC = new URL('../../src/', import.meta.url);

function sourceFiles(directory: string): string[] {
  return readdirSync(new URL(directory, SRC), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => `${entry.parentPath}/${entry.name}`);
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [
    ...text.matchAll(/^\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/gm),
    ...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm),
  ].map((m) => m[1] ?? '');
}

describe('architecture', () => {
  it('keeps core/ pure: it imports only errors, other core modules and node:crypto', () => {
    for (const file of sourceFiles('core/')) {
      for (const specifier of importsOf(file)) {
        const allowed =
          specifier === 'node:crypto' ||
          specifier === '../errors.ts' ||
          /^\.\/[a-z0-9-]+\.ts$/.test(specifier);
        assert.ok(allowed, `${file} imports ${specifier}`);
      }
      const text = readFileSync(file, 'utf8');
      assert.doesNotMatch(
        text,
        /Date\.now\(|new Date\(\)|process\.|console\./,
        `${file} reads the clock, the process or logs`,
      );
    }
  });

  it('lets keys/ import only core, errors and node built-ins', () => {
    for (const file of sourceFiles('keys/')) {
      for (const specifier of importsOf(file)) {
        assert.ok(
          specifier.startsWith('node:') ||
            specifier.startsWith('../core/') ||
            specifier === '../errors.ts' ||
            specifier.startsWith('./'),
          `${file} imports ${specifier}`,
        );
      }
    }
  });

  it('lets config/ import only core, errors, node built-ins and its schema, validation and YAML libraries', () => {
    for (const file of sourceFiles('config/')) {
      for (const specifier of importsOf(file)) {
        const allowed =
          specifier.startsWith('node:') ||
          specifier.startsWith('../core/') ||
          specifier === '../errors.ts' ||
          specifier.startsWith('./') ||
          ['typebox', 'ajv', 'yaml'].includes(specifier);
        assert.ok(allowed, `${file} imports ${specifier}`);
      }
    }
  });

  it('lets edge/ import only core, keys, errors, node built-ins and its HTTP libraries', () => {
    for (const file of sourceFiles('edge/')) {
      for (const specifier of importsOf(file)) {
        const allowed =
          specifier.startsWith('node:') ||
          specifier.startsWith('../core/') ||
          specifier.startsWith('../keys/') ||
          specifier === '../errors.ts' ||
          /^\.\/[a-z0-9-]+\.ts$/.test(specifier) ||
          ['fastify', '@fastify/static', '@fastify/reply-from', 'pino'].includes(specifier);
        assert.ok(allowed, `${file} imports ${specifier}`);
      }
    }
  });

  it('lets only the CLI and server/start.ts import edge/', () => {
    const importers = [...sourceFiles('./')].filter(
      (file) =>
        !file.includes('/src/edge/') &&
        importsOf(file).some((specifier) => /(^|\/)edge\//.test(specifier)),
    );
    assert.ok(importers.length > 0, 'something imports the edge');
    for (const file of importers) {
      assert.ok(
        file.includes('/src/cli/') || file.endsWith('/src/server/start.ts'),
        `${file} imports edge/`,
      );
    }
  });

  it('never lets the library import the CLI or the server', () => {
    for (const file of [
      ...sourceFiles('core/'),
      ...sourceFiles('keys/'),
      `${SRC.pathname}index.ts`,
      `${SRC.pathname}errors.ts`,
    ]) {
      for (const specifier of importsOf(file))
        assert.doesNotMatch(
          specifier,
          /cli\/|server\/|edge\/|fastify/,
          `${file} imports ${specifier}`,
        );
    }
  });

  it('builds a library entry whose whole import graph holds no CLI, server or third-party module', () => {
    const dist = new URL('../../dist/', import.meta.url);
    const seen = new Set<string>();
    const pending = [new URL('index.js', dist).href];
    while (pending.length > 0) {
      const href = pending.pop() ?? '';
      if (seen.has(href)) continue;
      seen.add(href);
      for (const specifier of importsOf(new URL(href).pathname)) {
        if (specifier.startsWith('node:')) continue;
        assert.ok(specifier.startsWith('.'), `${href} imports the package ${specifier}`);
        const target = new URL(specifier, href).href;
        assert.doesNotMatch(target, /\/dist\/(cli|server|edge)\//, `${href} imports ${target}`);
        pending.push(target);
      }
    }
    assert.ok(seen.size > 10, 'the graph was walked');
  });

  it('resolves the package name to the library entry', async () => {
    const root = new URL('../..', import.meta.url).pathname;
    const probe =
      "const m = await import('cfsign'); process.stdout.write(typeof m.signUrl + ' ' + typeof m.verifyUrl)";
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', probe],
      { cwd: root },
    );
    assert.equal(stdout, 'function function');
  });
});
