import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import type * as Library from '../../src/index.ts';
import { DISTRIBUTION, fixturePath, RSA } from '../helpers/fixtures.ts';
import { freePort } from '../server/rate-limit/redis-server.ts';
import {
  envOf,
  execForm,
  instructionsOf,
  parseHealthcheck,
  readDockerfile,
  REPOSITORY,
  type Stage,
} from './dockerfile.ts';
import { layOutMountedConfig } from './mounted-config.ts';

/** npm ci from the registry is slow on a cold cache; this bounds the whole file. */
const TIMEOUT_MS = 180_000;
const TOKEN = 'tok-install-path-0123456789';

interface Lockfile {
  packages: Record<string, { dev?: boolean }>;
}
interface PackageJson {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
}

const runtime = readDockerfile().at(-1);
if (runtime === undefined) throw new Error('the Dockerfile has no stage');

/** The npm ci of the image's runtime stage, word for word (its `npm cache clean` is not run). */
function imageInstallCommand(stage: Stage): string[] {
  const [install] = instructionsOf(stage, 'RUN')
    .flatMap((run) => run.split('&&'))
    .map((command) => command.trim())
    .filter((command) => command.startsWith('npm ci '));
  if (install === undefined) throw new Error('the runtime stage runs no npm ci');
  return install.split(' ');
}

/** The environment with no npm_* variable: under `npm test` they would point npm at this repo. */
function cleanEnvironment(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (
      value !== undefined &&
      !/^npm_/i.test(name) &&
      name !== 'NODE_PATH' &&
      name !== 'NODE_OPTIONS'
    )
      env[name] = value;
  }
  return { ...env, ...extra };
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function execute(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: Record<string, string> },
): Promise<Result> {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  return { code, stdout, stderr };
}

/** Package directories under node_modules (scoped and nested ones too), relative to root. */
function installedPackages(root: string, directory = join(root, 'node_modules')): string[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    if (!entry.isDirectory() || entry.name.startsWith('.')) return [];
    const path = join(directory, entry.name);
    if (entry.name.startsWith('@')) return installedPackages(root, path);
    return [relative(root, path), ...installedPackages(root, join(path, 'node_modules'))];
  });
}

/** Every bare module specifier a JavaScript file imports or requires, static or dynamic. */
function bareSpecifiers(text: string): string[] {
  const patterns = [
    /\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\bimport\s+['"]([^'"]+)['"]/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns
    .flatMap((pattern) => [...text.matchAll(pattern)].map((match) => match[1] ?? ''))
    .filter((specifier) => !specifier.startsWith('.') && !specifier.startsWith('node:'));
}

function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return (specifier.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
}

function filesUnder(directory: string): string[] {
  return readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('the production install path the image uses', { timeout: TIMEOUT_MS }, () => {
  const work = mkdtempSync(join(tmpdir(), 'cfsign-install-'));
  const app = join(work, 'app');
  let packedFiles: string[] = [];
  let packSeconds = 0;
  let installSeconds = 0;

  before(
    async () => {
      assert.ok(existsSync(`${REPOSITORY}dist/server/main.cjs`), 'npm run build comes first');
      let startedAt = performance.now();
      // Scripts off: "prepare" would rebuild dist/ while other test files run from it.
      const pack = await execute(
        'npm',
        ['pack', '--ignore-scripts', '--json', '--pack-destination', work],
        { cwd: REPOSITORY, env: cleanEnvironment() },
      );
      assert.equal(pack.code, 0, pack.stderr);
      const [packed] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
      assert.ok(packed !== undefined);
      packedFiles = packed.files.map((file) => file.path);
      mkdirSync(app);
      const unpack = await execute(
        'tar',
        ['-xzf', join(work, packed.filename), '-C', app, '--strip-components=1'],
        { cwd: work, env: cleanEnvironment() },
      );
      assert.equal(unpack.code, 0, unpack.stderr);
      // As the Dockerfile does: npm never packs the lockfile, so it is copied beside the package.
      copyFileSync(`${REPOSITORY}package-lock.json`, join(app, 'package-lock.json'));
      packSeconds = (performance.now() - startedAt) / 1000;

      startedAt = performance.now();
      const [command = 'npm', ...args] = imageInstallCommand(runtime);
      const install = await execute(command, [...args, '--prefer-offline'], {
        cwd: app,
        env: cleanEnvironment(),
      });
      assert.equal(install.code, 0, install.stderr);
      installSeconds = (performance.now() - startedAt) / 1000;
    },
    { timeout: TIMEOUT_MS },
  );

  after(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it('packs the built service, its package.json and the CLI, and no source, test or key', () => {
    for (const path of [
      'package.json',
      'dist/server/main.cjs',
      'dist/server/start.js',
      'dist/index.js',
      'bin/cfsign',
    ])
      assert.ok(packedFiles.includes(path), path);
    for (const path of packedFiles) {
      assert.doesNotMatch(
        path,
        /^(src|test|bench|scripts|deploy)\/|\.pem$|^package-lock\.json$/,
        path,
      );
    }
  });

  it("installs exactly the lockfile's production dependencies, so no dev-only module is there to be needed", (t) => {
    t.diagnostic(
      `npm pack and unpack: ${packSeconds.toFixed(1)} s; npm ci --omit=dev: ${installSeconds.toFixed(1)} s`,
    );
    const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as Lockfile;
    const entries = Object.entries(lock.packages).filter(([path]) => path !== '');
    const production = entries.filter(([, entry]) => entry.dev !== true).map(([path]) => path);
    const devOnly = entries.filter(([, entry]) => entry.dev === true).map(([path]) => path);
    assert.ok(devOnly.includes('node_modules/typescript') && devOnly.includes('node_modules/tsx'));
    assert.deepEqual(installedPackages(app).sort(), production.sort());
    // Nothing above the install could lend a module either.
    for (let directory = app; directory !== dirname(directory); directory = dirname(directory))
      assert.ok(directory === app || !existsSync(join(directory, 'node_modules')), directory);
  });

  it('imports in the packed code only production dependencies and node built-ins', () => {
    const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as PackageJson;
    const code = filesUnder(join(app, 'dist')).filter((file) => /\.c?js$/.test(file));
    const imported = new Set(
      code.flatMap((file) => bareSpecifiers(readFileSync(file, 'utf8')).map(packageNameOf)),
    );
    assert.ok(imported.has('fastify') && imported.has('ioredis'), [...imported].join(', '));
    for (const name of imported) {
      assert.ok(
        name in manifest.dependencies,
        `${name} is imported but not a production dependency`,
      );
      assert.ok(!(name in manifest.devDependencies), name);
    }
  });

  it("starts with the image's CMD and env configuration, signs a link that verifies with the public key, and exits 0 on SIGTERM", async () => {
    const cmd = execForm(instructionsOf(runtime, 'CMD')[0] ?? '');
    assert.ok(cmd !== undefined);
    const check = parseHealthcheck(instructionsOf(runtime, 'HEALTHCHECK')[0] ?? '').command;
    assert.ok(check !== undefined);
    const port = await freePort();
    const env = cleanEnvironment({
      ...envOf(runtime),
      HOST: '127.0.0.1',
      PORT: String(port),
      CLOUDFRONT_URL: DISTRIBUTION,
      CLOUDFRONT_KEY_PAIR_ID: RSA.keyPairId,
      PRIVATE_KEY_PATH: fixturePath('rsa-2048.pkcs8.pem'),
      CFSIGN_API_KEYS: `web:${TOKEN}`,
      CFSIGN_SHUTDOWN_DELAY: '1',
    });
    const healthcheck = (): Promise<Result> =>
      execute(process.execPath, check.slice(1), {
        cwd: app,
        env: cleanEnvironment({ PORT: String(port) }),
      });
    const [program, ...args] = cmd;
    assert.equal(program, 'node');
    const service = spawn(process.execPath, args, {
      cwd: app,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    service.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    service.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => service.once('exit', resolve));
    const base = `http://127.0.0.1:${port}`;
    try {
      let ready = false;
      for (let attempt = 0; attempt < 100 && !ready && service.exitCode === null; attempt += 1) {
        ready = await fetch(`${base}/readyz`).then(
          (response) => response.ok,
          () => false,
        );
        if (!ready) await sleep(100);
      }
      assert.ok(ready, `ready within 10 s:\n${output}`);

      const response = await fetch(
        `${base}/generate-signed-url?object_key=videos%2Fintro%20clip.mp4`,
        {
          headers: { authorization: `Bearer ${TOKEN}` },
        },
      );
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('cache-control'), 'no-store');
      const { signed_url: signedUrl } = (await response.json()) as { signed_url: string };
      assert.ok(
        signedUrl.startsWith(`${DISTRIBUTION}/videos/intro%20clip.mp4?Expires=`),
        signedUrl,
      );
      // The installed package's own library entry, resolved from its production install.
      const library = (await import(
        pathToFileURL(join(app, 'dist/index.js')).href
      )) as typeof Library;
      const publicKey = library.loadPublicKey({ file: fixturePath('rsa-2048.public.pem') });
      const verdict = library.verifyUrl(signedUrl, {
        keys: new Map([[RSA.keyPairId, publicKey]]),
        now: new Date(),
      });
      assert.equal(verdict.valid, true, verdict.reason);

      assert.equal((await healthcheck()).code, 0, 'the HEALTHCHECK passes while the service is up');

      const stoppedAt = Date.now();
      service.kill('SIGTERM');
      await sleep(200);
      assert.equal((await fetch(`${base}/readyz`)).status, 503, 'readiness fails at once');
      assert.equal(await exited, 0, output);
      assert.ok(Date.now() - stoppedAt < 10_000);
      assert.notEqual((await healthcheck()).code, 0, 'the HEALTHCHECK fails once it is gone');
      const signature = new URL(signedUrl).searchParams.get('Signature') ?? '';
      assert.ok(signature.length > 100);
      for (const secret of [TOKEN, signature, fixturePath('rsa-2048.pkcs8.pem')])
        assert.ok(!output.includes(secret), 'no token, signature or key path in the logs');
    } finally {
      service.kill('SIGKILL');
    }
  });

  it('runs the packed CLI too: config check accepts the configuration compose mounts', async () => {
    const text = readFileSync(`${REPOSITORY}deploy/compose/cfsign/cfsign.yaml`, 'utf8');
    const { configPath, keyDirectory } = layOutMountedConfig(text, '/run/secrets/cfsign');
    try {
      const result = await execute(
        process.execPath,
        ['bin/cfsign', 'config', 'check', configPath],
        {
          cwd: app,
          env: cleanEnvironment({ CFSIGN_API_KEYS: `web:${TOKEN}` }),
        },
      );
      assert.equal(result.code, 0, result.stderr);
      assert.match(
        result.stdout,
        /^ok: 1 distribution\(s\) \(media\), 1 client\(s\), keys loaded: K2JCJMDEHXQW5F\n$/,
      );
    } finally {
      rmSync(keyDirectory, { recursive: true, force: true });
    }
  });
});
