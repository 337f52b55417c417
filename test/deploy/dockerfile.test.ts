import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { validate } from 'dockerfile-utils';
import ts from 'typescript';
import {
  dockerignoreMatcher,
  envOf,
  execForm,
  instructionsOf,
  parseDockerfile,
  parseHealthcheck,
  readDockerfile,
  REPOSITORY,
} from './dockerfile.ts';

const PACKAGE = JSON.parse(readFileSync(`${REPOSITORY}package.json`, 'utf8')) as {
  files: string[];
  engines: { node: string };
  scripts: Record<string, string>;
};
const PRIVATE_KEY_PEM = /-----BEGIN [A-Z ]*PRIVATE KEY-----\r?\n[A-Za-z0-9+/=:, -]{16,}/;

const stages = readDockerfile();
const runtime = stages.at(-1);
if (runtime === undefined) throw new Error('the Dockerfile has no stage');

/** Every file of the working tree, relative to it, without descending into node_modules/.git. */
function workingTree(directory = REPOSITORY): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.name === 'node_modules' || entry.name === '.git') return [];
    if (entry.isDirectory()) return workingTree(path);
    return entry.isFile() ? [relative(REPOSITORY, path)] : [];
  });
}

describe('the Dockerfile', () => {
  it('reads multi-line instructions and comments as BuildKit does', () => {
    const parsed = parseDockerfile(
      [
        'FROM node:20-bookworm-slim AS build',
        'RUN a \\',
        '# a comment inside a continuation',
        '  && b',
        'ENV A=1 B=two',
        'FROM node:20-bookworm-slim',
        'CMD ["node", "x.js"]',
      ].join('\n'),
    );
    assert.deepEqual(
      parsed.map((stage) => [stage.image, stage.name]),
      [
        ['node:20-bookworm-slim', 'build'],
        ['node:20-bookworm-slim', undefined],
      ],
    );
    const [build, run] = parsed;
    assert.ok(build !== undefined && run !== undefined);
    assert.deepEqual(build.instructions[0], { keyword: 'RUN', args: 'a && b' });
    assert.deepEqual(envOf(build), { A: '1', B: 'two' });
    assert.deepEqual(execForm(run.instructions[0]?.args ?? ''), ['node', 'x.js']);
    assert.equal(execForm('node x.js'), undefined);
  });

  it('has no problem that a maintained Dockerfile validator finds (dockerfile-utils), which would find a bad flag', () => {
    const text = readFileSync(`${REPOSITORY}Dockerfile`, 'utf8');
    assert.deepEqual(
      validate(text).map((problem) => ({
        line: problem.range.start.line + 1,
        problem: problem.message,
      })),
      [],
    );
    const broken = text.replace('--start-period=', '--start-perod=');
    assert.deepEqual(
      validate(broken).map((problem) => problem.message),
      ['Unknown flag: start-perod'],
    );
  });

  it("builds in one stage and runs in another, both from the official slim Node image of the engines' major version", () => {
    assert.ok(stages.length >= 2, 'multi-stage');
    const major = /^>=(\d+)\./.exec(PACKAGE.engines.node)?.[1];
    const baseImages = stages.filter(
      (stage) => !stages.some((other) => other.name === stage.image),
    );
    for (const stage of baseImages) {
      // An official library image has no registry or namespace; the tag names the major and slim.
      assert.match(stage.image, new RegExp(`^node:${major ?? '?'}-([a-z]+-)?slim$`), stage.image);
    }
    const build = stages[0];
    assert.ok(build !== undefined);
    assert.ok(
      instructionsOf(build, 'RUN').some((run) => /npm ci\b(?!.*--omit=dev)/.test(run)),
      'the build stage installs dev dependencies',
    );
    assert.ok(instructionsOf(build, 'RUN').some((run) => run.includes('npm run build')));
  });

  it('runs only the packed package with production dependencies, installed without scripts', () => {
    const copies = instructionsOf(runtime, 'COPY');
    assert.ok(copies.length > 0);
    for (const copy of copies) assert.match(copy, /^--from=\S+ /, `runtime COPY ${copy}`);
    assert.deepEqual(instructionsOf(runtime, 'ADD'), []);
    const installs = instructionsOf(runtime, 'RUN').filter((run) => run.includes('npm ci'));
    assert.equal(installs.length, 1);
    assert.match(installs[0] ?? '', /npm ci --omit=dev --ignore-scripts\b/);
    // "prepare" builds with tsc, a dev dependency: the scripts must not run where it is absent.
    assert.match(PACKAGE.scripts['prepare'] ?? '', /build/);
    assert.equal(envOf(runtime)['NODE_ENV'], 'production');
  });

  it('runs as a numeric non-root user, exposes 8080 and starts with exec-form npm start', () => {
    const users = instructionsOf(runtime, 'USER');
    assert.equal(users.length, 1);
    const [uid] = (users[0] ?? '').split(':');
    assert.match(uid ?? '', /^[1-9]\d*$/, 'numeric, so runAsNonRoot can check it');
    const keywords = runtime.instructions.map((item) => item.keyword);
    assert.ok(
      keywords.lastIndexOf('RUN') < keywords.indexOf('USER'),
      'nothing runs as root after USER',
    );
    assert.deepEqual(instructionsOf(runtime, 'EXPOSE'), ['8080']);
    assert.deepEqual(instructionsOf(runtime, 'ENTRYPOINT'), []);
    const cmd = instructionsOf(runtime, 'CMD');
    assert.equal(cmd.length, 1);
    // npm start execs node so that signals reach it; the image runs node itself, PID 1.
    assert.deepEqual(
      execForm(cmd[0] ?? ''),
      (PACKAGE.scripts['start'] ?? '').replace(/^exec /, '').split(' '),
    );
  });

  it('checks liveness on /healthz with an exec-form HEALTHCHECK that can time out', () => {
    const checks = instructionsOf(runtime, 'HEALTHCHECK');
    assert.equal(checks.length, 1);
    const { options, command } = parseHealthcheck(checks[0] ?? '');
    assert.ok(command !== undefined, 'exec form');
    assert.equal(command[0], 'node');
    assert.match(command.join(' '), /\/healthz/);
    for (const option of ['interval', 'timeout', 'start-period', 'retries'])
      assert.ok(options[option] !== undefined, option);
  });

  it('copies into the build stage every file the TypeScript build and npm pack read, through the .dockerignore', () => {
    const build = stages[0];
    assert.ok(build !== undefined);
    const ignored = dockerignoreMatcher(readFileSync(`${REPOSITORY}.dockerignore`, 'utf8'));
    const copied = instructionsOf(build, 'COPY')
      .filter((copy) => !copy.startsWith('--from='))
      .flatMap((copy) => copy.split(' ').slice(0, -1))
      .map((source) => source.replace(/\/$/, ''));
    const inBuildStage = (path: string): boolean =>
      !ignored(path) && copied.some((source) => path === source || path.startsWith(`${source}/`));
    const config = ts.getParsedCommandLineOfConfigFile(
      `${REPOSITORY}tsconfig.build.json`,
      {},
      { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
    );
    assert.ok(config !== undefined && config.errors.length === 0);
    // Resolving the program lists every file the build reads, without type-checking it;
    // node_modules/ comes from npm ci, so its files need not even be parsed.
    const host = ts.createCompilerHost(config.options);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (name, version, ...rest) =>
      name.includes('/node_modules/')
        ? ts.createSourceFile(name, '', version)
        : getSourceFile(name, version, ...rest);
    const program = ts.createProgram(config.fileNames, config.options, host);
    const read = program
      .getSourceFiles()
      .map((file) => relative(REPOSITORY, file.fileName))
      .filter((path) => !path.startsWith('node_modules/') && !path.startsWith('../'));
    assert.ok(read.includes('src/server/main.cts'), read.join(', '));
    const configs = ['tsconfig.build.json', 'tsconfig.json', 'package.json', 'package-lock.json'];
    for (const path of [...read, ...configs]) assert.ok(inBuildStage(path), path);
    // What npm pack ships, apart from the dist/ the build makes.
    for (const entry of PACKAGE.files.map((file) => file.replace(/\/$/, '')))
      assert.ok(entry === 'dist' || inBuildStage(entry), entry);
  });

  it('never copies a key into any stage', () => {
    for (const stage of stages) {
      for (const instruction of stage.instructions.filter((item) =>
        ['COPY', 'ADD'].includes(item.keyword),
      )) {
        assert.doesNotMatch(instruction.args, /\.pem|\.key\b|keys\/|secrets|\.cfsign|(^| )\. /);
      }
    }
  });
});

describe('the .dockerignore', () => {
  const ignored = dockerignoreMatcher(readFileSync(`${REPOSITORY}.dockerignore`, 'utf8'));

  it('matches as Docker does: segments, ** across directories, directories with their contents, ! exceptions', () => {
    const matcher = dockerignoreMatcher('# c\n/dist/\n**/*.pem\nkeys\n!keys/README.md\n*.tgz\n');
    assert.equal(matcher('dist/index.js'), true);
    assert.equal(matcher('src/dist.ts'), false);
    assert.equal(matcher('a/b/c.pem'), true);
    assert.equal(matcher('top.pem'), true);
    assert.equal(matcher('keys/private_key.pem'), true);
    assert.equal(matcher('keys/README.md'), false);
    assert.equal(matcher('x.tgz'), true);
    assert.equal(matcher('sub/x.tgz'), false);
  });

  it('keeps keys, .git, node_modules and dev-mode keys out of the build context', () => {
    for (const path of [
      '.git',
      '.git/config',
      'node_modules/fastify/package.json',
      'src/node_modules/x.js',
      '.cfsign/dev/private_key.pem',
      'keys/private_key.pem',
      'secrets/cloudfront.pem',
      'somewhere/else/id.key',
      'test/fixtures/keys/rsa-2048.pkcs8.pem',
      'dist/index.js',
      '.env',
    ]) {
      assert.equal(ignored(path), true, path);
    }
  });

  it('leaves in every file the Dockerfile copies from the context, and no private key by content', () => {
    const context = workingTree().filter((path) => !ignored(path));
    const sources = stages
      .flatMap((stage) => instructionsOf(stage, 'COPY'))
      .filter((copy) => !copy.startsWith('--from='))
      .flatMap((copy) => copy.split(' ').slice(0, -1));
    assert.ok(sources.length > 0);
    for (const source of sources) {
      const prefix = source.replace(/\/$/, '');
      assert.ok(
        context.some((path) => path === prefix || path.startsWith(`${prefix}/`)),
        `${source} is in the build context`,
      );
    }
    const keyFiles = workingTree().filter((path) => path.endsWith('.pem'));
    assert.ok(keyFiles.length > 0, 'the fixtures give the test keys to keep out');
    for (const path of context) {
      assert.doesNotMatch(readFileSync(join(REPOSITORY, path), 'latin1'), PRIVATE_KEY_PEM, path);
    }
  });
});
