/**
 * `npm run bench [-- --quick]`: one bounded run on loopback that measures, side by side, with
 * the same keys on the same machine:
 *
 * - the raw limit: async `crypto.sign` over a cached KeyObject, enough in flight to fill every
 *   core (libuv's pool);
 * - cfsign (the built service, `dist/server/main.cjs`): `GET /generate-signed-url` with a unique
 *   object key per request, `POST /v1/signed-urls` batches of 100 unique keys, one hot key;
 * - a baseline server: node:http + `@aws-sdk/cloudfront-signer` getSignedUrl with the PEM string;
 * - the signing floor: bare Fastify, a cached KeyObject and async `crypto.sign`, nothing else
 *   (bench/floor-server.ts), the most any Fastify signing route can reach on this machine;
 * - the ceilings: an empty Fastify route, and cfsign's own `GET /healthz`;
 *
 * for RSA-2048/SHA-1, RSA-2048/SHA-256 and ECDSA P-256/SHA-256. Prints a table with each figure's
 * ratio to the raw limit and to the baseline, and writes JSON under bench-results/ (git-ignored).
 * Targets are informational: the exit code is non-zero only when a server fails to start, a
 * link does not verify, or requests fail. Never part of `npm test`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { failures, fixedGet, runLoad, uniqueBatch, uniqueGet, type LoadResult } from './load.ts';
import {
  freePort,
  observe,
  readThreadCpu,
  startServer,
  type Observation,
  type ServerProcess,
  type ThreadCpu,
} from './processes.ts';
import { measureRawSign, type RawSignResult } from './raw-sign.ts';
import {
  evaluate,
  formatCpuTable,
  formatTable,
  TARGETS,
  type Row,
  type Scenario,
} from './report.ts';
import { startCommandArgs } from './start-command.ts';
import { checkCannedUrl, checkServerLink } from './verify-link.ts';
import { messageOf } from './errors.ts';
import type autocannon from 'autocannon';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DISTRIBUTION_URL = 'https://d111111abcdef8.cloudfront.net';
const KEY_PAIR_ID = 'K2JCJMDEHXQW5F';
const BATCH_SIZE = 100;
const LINK_WINDOW = 300;
const DEFAULT_BATCH_CONNECTIONS = 5;
const DRAIN_PATH = '/generate-signed-url?object_key=bench%2Fdrain.mp4';
const RESULTS_DIRECTORY = join(ROOT, 'bench-results');

interface Algorithm {
  id: string;
  label: string;
  keyType: 'rsa' | 'ec';
  hash: 'sha1' | 'sha256';
}

const ALGORITHMS: readonly Algorithm[] = [
  { id: 'rsa-sha1', label: 'RSA-2048/SHA-1', keyType: 'rsa', hash: 'sha1' },
  { id: 'rsa-sha256', label: 'RSA-2048/SHA-256', keyType: 'rsa', hash: 'sha256' },
  { id: 'ecdsa-p256', label: 'ECDSA P-256/SHA-256', keyType: 'ec', hash: 'sha256' },
];

const USAGE = `usage: npm run bench [-- options]

  --quick                 1 s per measurement (a smoke run)
  --duration <s>          seconds per measurement (default 5; 1 with --quick)
  --connections <n>       autocannon connections (default 50)
  --batch-connections <n> connections for the batch runs (default 5: 500 signatures in flight,
                          under the service's default cap of 512, enough to fill the pool)
  --in-flight <n>         signatures in flight for the raw limit (default 64)
  --only <ids>            comma-separated subset of ${ALGORITHMS.map((a) => a.id).join(',')}
  --uv-threadpool <n>     UV_THREADPOOL_SIZE for cfsign only (default: inherited, else 4)
  --workers <n>           CFSIGN_WORKERS for cfsign (default 1; the CPU table then counts
                          only the primary as "main")
  --profile               run cfsign under --cpu-prof (profiles in bench-results/)
  --skip-build            use dist/ as it is
  --help
`;

interface Options {
  seconds: number;
  warmupSeconds: number;
  connections: number;
  batchConnections: number;
  inFlight: number;
  /** UV_THREADPOOL_SIZE for the cfsign processes only, when asked. */
  cfsignThreadpool?: number;
  /** CFSIGN_WORKERS for cfsign, when asked. */
  workers?: number;
  algorithms: Algorithm[];
  profile: boolean;
  build: boolean;
  quick: boolean;
}

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!(value > 0) || !Number.isFinite(value))
    throw new Error(`--${name} must be a positive number`);
  return value;
}

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      duration: { type: 'string' },
      connections: { type: 'string' },
      'batch-connections': { type: 'string' },
      'in-flight': { type: 'string' },
      'uv-threadpool': { type: 'string' },
      workers: { type: 'string' },
      only: { type: 'string' },
      profile: { type: 'boolean', default: false },
      'skip-build': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return undefined;
  }
  const quick = values.quick;
  const connections = Math.round(positive('connections', values.connections, 50));
  const only = values.only?.split(',').map((id) => id.trim());
  const algorithms = ALGORITHMS.filter((algorithm) => only?.includes(algorithm.id) ?? true);
  const unknown = only?.filter((id) => !ALGORITHMS.some((algorithm) => algorithm.id === id));
  if (unknown !== undefined && unknown.length > 0)
    throw new Error(`--only: unknown ${unknown.join(', ')}`);
  const options: Options = {
    quick,
    seconds: positive('duration', values.duration, quick ? 1 : 5),
    warmupSeconds: 1,
    connections,
    batchConnections: Math.round(
      positive('batch-connections', values['batch-connections'], DEFAULT_BATCH_CONNECTIONS),
    ),
    inFlight: Math.round(positive('in-flight', values['in-flight'], 64)),
    algorithms,
    profile: values.profile,
    build: !values['skip-build'],
  };
  if (values['uv-threadpool'] !== undefined) {
    options.cfsignThreadpool = Math.round(positive('uv-threadpool', values['uv-threadpool'], 4));
  }
  if (values.workers !== undefined) {
    options.workers = Math.round(positive('workers', values.workers, 1));
  }
  return options;
}

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

/** The parent's environment without anything cfsign would read (or refuse as a typo). */
function cleanEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith('CFSIGN_') || name.startsWith('CLOUDFRONT_')) continue;
    if (['PRIVATE_KEY_PATH', 'PORT', 'HOST', 'NODE_OPTIONS'].includes(name)) continue;
    env[name] = value;
  }
  return env;
}

interface Keys {
  rsa: { path: string; privateKey: KeyObject; publicKey: KeyObject };
  ec: { path: string; privateKey: KeyObject; publicKey: KeyObject };
}

/** Fresh keys for this run, written as PKCS#8 PEM (owner-only) into the run's temp directory. */
function generateKeys(directory: string): Keys {
  const write = (name: string, privateKey: KeyObject): Keys['rsa'] => {
    const path = join(directory, name);
    writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    return { path, privateKey, publicKey: createPublicKey(privateKey) };
  };
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { rsa: write('rsa-2048.pem', rsa.privateKey), ec: write('ec-p256.pem', ec.privateKey) };
}

class Bench {
  readonly rows: Row[] = [];
  readonly notes: string[] = [];
  /** Milliseconds from spawning cfsign until /readyz answered 200, per algorithm. */
  readonly startups: { algorithm: string; readyMs: number }[] = [];
  /** The pool size cfsign reported at start-up (dist/server/main.cjs sizes it). */
  signingThreads = '?';
  private readonly running = new Set<ServerProcess>();
  /** Per server, a request that waits behind everything already queued (see drain). */
  private readonly drainPaths = new Map<ServerProcess, string>();
  private readonly token = randomBytes(24).toString('hex');
  private readonly runId = Date.now().toString(36);
  /** Servers started so far, to name their log files. */
  private started = 0;
  readonly profileDirectory: string;

  constructor(
    private readonly options: Options,
    private readonly directory: string,
    private readonly keys: Keys,
    stamp: string,
  ) {
    this.profileDirectory = join(RESULTS_DIRECTORY, `profiles-${stamp}`);
  }

  private get authorization(): Record<string, string> {
    return { authorization: `Bearer ${this.token}` };
  }

  private async start(
    name: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    port: number,
    readyPath: string,
    drainPath: string,
  ): Promise<ServerProcess> {
    // Every server's stdout (cfsign's request and audit lines) goes to a file of its own.
    this.started += 1;
    const logFile = join(this.directory, `server-${this.started}.log`);
    const server = await startServer({ name, args, env, port, readyPath, logFile });
    this.running.add(server);
    this.drainPaths.set(server, drainPath);
    return server;
  }

  private async stop(server: ServerProcess): Promise<void> {
    await server.stop();
    this.running.delete(server);
    this.drainPaths.delete(server);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running].map((server) => this.stop(server)));
  }

  private keyOf(algorithm: Algorithm): Keys['rsa'] {
    return algorithm.keyType === 'rsa' ? this.keys.rsa : this.keys.ec;
  }

  /** Drain, warm-up, drain, then the measured run, observing the server's RSS and CPU. */
  private async measure(
    server: ServerProcess,
    request: autocannon.Request,
    connections: number,
    headers: Record<string, string>,
  ): Promise<Measured> {
    const base = { url: server.baseUrl, connections, headers };
    // What the previous run left queued must not spill into this warm-up: up to 512
    // signatures still in flight would shed its first requests with 503s.
    await this.drain(server);
    const warmup = await runLoad({ ...base, seconds: this.options.warmupSeconds, request });
    await this.drain(server);
    const observed = await observe(server, () =>
      runLoad({ ...base, seconds: this.options.seconds, request }),
    );
    return { ...observed, warmup };
  }

  /**
   * Waits until the server has finished what the last run left behind. autocannon drops its
   * connections when time is up, but signatures already queued on libuv's pool still run (up to
   * 5,000 after a run of batches), and would otherwise eat into the next measurement. One more
   * signing request joins the back of that FIFO queue, so its answer means the queue is empty.
   */
  private async drain(server: ServerProcess): Promise<void> {
    const path = this.drainPaths.get(server);
    if (path === undefined) return;
    const response = await fetch(`${server.baseUrl}${path}`, {
      headers: this.authorization,
      signal: AbortSignal.timeout(60_000),
    });
    await response.arrayBuffer();
    if (response.status !== 200) {
      throw new Error(`${server.name}: drain request answered HTTP ${response.status}`);
    }
    // With two pool threads a batch's last signature can finish just after that request's, so
    // where the server reports its gate (cfsign's /metrics), wait until it holds nothing.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const metrics = await fetch(`${server.baseUrl}/metrics`, {
        signal: AbortSignal.timeout(5_000),
      });
      const text = await metrics.text();
      const inFlight = /^cfsign_signing_in_flight (\d+)$/m.exec(text)?.[1];
      if (metrics.status !== 200 || inFlight === undefined || inFlight === '0') return;
      if (Date.now() > deadline) throw new Error(`${server.name}: ${inFlight} signatures stuck`);
      await sleep(10);
    }
  }

  private addLoadRow(
    algorithm: string,
    scenario: Scenario,
    label: string,
    measured: Measured,
    linksPerRequest: number,
  ): Row {
    const { result: load, warmup, peakRssMiB, serverCpu, wallSeconds } = measured;
    const row: Row = {
      algorithm,
      scenario,
      label,
      connections: load.connections,
      requestsPerSecond: load.requestsPerSecond,
      p50Ms: load.latencyMs.p50,
      p99Ms: load.latencyMs.p99,
      failures: failures(load) + failures(warmup),
      misses: [],
      load,
      warmup,
    };
    if (linksPerRequest > 0) row.linksPerSecond = load.requestsPerSecond * linksPerRequest;
    if (peakRssMiB !== undefined) row.peakRssMiB = peakRssMiB;
    if (serverCpu !== undefined) {
      const links = load.responses * Math.max(linksPerRequest, 1);
      row.cpu = {
        mainCores: serverCpu.mainSeconds / wallSeconds,
        otherCores: serverCpu.otherSeconds / wallSeconds,
        generatorCores: measured.generatorCpuSeconds / wallSeconds,
        mainUsPerRequest: (serverCpu.mainSeconds / Math.max(load.responses, 1)) * 1e6,
        otherUsPerLink: (serverCpu.otherSeconds / Math.max(links, 1)) * 1e6,
      };
    }
    this.rows.push(row);
    const failed = row.failures > 0 ? `, ${row.failures} FAILED requests ${describe(load)}` : '';
    log(
      `  ${label}: ${load.requestsPerSecond.toFixed(0)} req/s, p99 ${load.latencyMs.p99.toFixed(1)} ms${failed}`,
    );
    return row;
  }

  /**
   * The ceiling no route of any Fastify server on this machine can beat. Measured first and
   * again last; the second call folds into the first row.
   */
  async measureEmptyRoute(): Promise<void> {
    log('empty Fastify route');
    const port = await freePort();
    const server = await this.start(
      'empty Fastify server',
      ['--import', 'tsx', join(ROOT, 'bench', 'empty-server.ts')],
      { ...cleanEnvironment(), HOST: '127.0.0.1', PORT: String(port) },
      port,
      '/empty',
      '/empty',
    );
    try {
      const measured = await this.measure(
        server,
        fixedGet('/empty'),
        this.options.connections,
        this.authorization,
      );
      const previous = this.rows.find((row) => row.scenario === 'empty');
      if (previous?.load === undefined) {
        this.addLoadRow('-', 'empty', 'empty Fastify route (ceiling)', measured, 0);
        return;
      }
      // Measured again at the end, like the raw limit: the table shows the mean.
      const again = measured.result;
      const first = previous.load.requestsPerSecond;
      previous.requestsPerSecond = (first + again.requestsPerSecond) / 2;
      previous.p50Ms = Math.max(previous.p50Ms ?? 0, again.latencyMs.p50);
      previous.p99Ms = Math.max(previous.p99Ms ?? 0, again.latencyMs.p99);
      previous.failures += failures(again) + failures(measured.warmup);
      previous.loadAfter = again;
      this.notes.push(
        `empty Fastify route: ${first.toFixed(0)} then ${again.requestsPerSecond.toFixed(0)} req/s (the table shows the mean)`,
      );
      log(`  empty route again: ${again.requestsPerSecond.toFixed(0)} req/s`);
    } finally {
      await this.stop(server);
    }
  }

  /** The raw limit once: a short warm-up, then `seconds` of signing, with the CPU it took. */
  private async measureRaw(
    algorithm: Algorithm,
  ): Promise<{ raw: RawSignResult; cpu: ThreadCpu | undefined }> {
    const key = this.keyOf(algorithm);
    const settings = {
      key: key.privateKey,
      hash: algorithm.hash,
      inFlight: this.options.inFlight,
      distributionUrl: DISTRIBUTION_URL,
    };
    await measureRawSign({ ...settings, seconds: Math.min(0.5, this.options.seconds) });
    const before = readThreadCpu(process.pid);
    const raw = await measureRawSign({ ...settings, seconds: this.options.seconds });
    const after = readThreadCpu(process.pid);
    const cpu =
      before === undefined || after === undefined
        ? undefined
        : {
            mainSeconds: after.mainSeconds - before.mainSeconds,
            otherSeconds: after.otherSeconds - before.otherSeconds,
          };
    log(`  raw: ${raw.perSecond.toFixed(0)} signatures/s`);
    return { raw, cpu };
  }

  /**
   * Raw limit, cfsign, baseline, raw limit again. This machine's speed drifts by tens of percent
   * over minutes, so the raw limit is the mean of a measurement before and after the servers.
   */
  async measureAlgorithm(algorithm: Algorithm, first: boolean): Promise<void> {
    const key = this.keyOf(algorithm);
    const { label } = algorithm;

    log(`${label}: raw crypto.sign, ${this.options.inFlight} in flight (before)`);
    const before = await this.measureRaw(algorithm);
    await this.measureCfsign(algorithm, key, first);
    await this.measureReference(algorithm, key, FLOOR);
    await this.measureReference(algorithm, key, BASELINE);
    log(`${label}: raw crypto.sign, ${this.options.inFlight} in flight (after)`);
    const after = await this.measureRaw(algorithm);

    const runs = [before, after];
    const signatures = before.raw.signatures + after.raw.signatures;
    const seconds = before.raw.seconds + after.raw.seconds;
    const row: Row = {
      algorithm: label,
      scenario: 'raw',
      label: `raw crypto.sign (${this.options.inFlight} in flight)`,
      linksPerSecond: signatures / seconds,
      p50Ms: Math.max(before.raw.latencyMs.p50, after.raw.latencyMs.p50),
      p99Ms: Math.max(before.raw.latencyMs.p99, after.raw.latencyMs.p99),
      failures: 0,
      misses: [],
      raw: before.raw,
      rawAfter: after.raw,
    };
    if (before.cpu !== undefined && after.cpu !== undefined) {
      const main = before.cpu.mainSeconds + after.cpu.mainSeconds;
      const other = before.cpu.otherSeconds + after.cpu.otherSeconds;
      row.cpu = {
        mainCores: main / seconds,
        otherCores: other / seconds,
        generatorCores: 0,
        mainUsPerRequest: (main / Math.max(signatures, 1)) * 1e6,
        otherUsPerLink: (other / Math.max(signatures, 1)) * 1e6,
      };
    }
    this.rows.push(row);
    const spread = runs.map((run) => run.raw.perSecond.toFixed(0)).join(' then ');
    this.notes.push(`${label}: raw limit ${spread} signatures/s (the table shows the mean)`);
  }

  private async measureCfsign(
    algorithm: Algorithm,
    key: Keys['rsa'],
    first: boolean,
  ): Promise<void> {
    const { label } = algorithm;
    const port = await freePort();
    const configPath = join(this.directory, `cfsign-${algorithm.id}.json`);
    // JSON is YAML; CFSIGN_CONFIG takes either. Rate limits are lifted so that the bench
    // measures signing, not limiting; everything else is the shipped default (the signing gate
    // of 512 in flight, log level info with its request and audit lines).
    writeFileSync(
      configPath,
      JSON.stringify({
        distributions: [
          {
            name: 'bench',
            url: DISTRIBUTION_URL,
            keys: [{ id: KEY_PAIR_ID, privateKeyFile: key.path }],
            // Stable links for the hot-key run; unique keys never share a policy anyway.
            linkWindow: LINK_WINDOW,
          },
        ],
        rateLimit: {
          store: 'memory',
          default: { perSecond: 1_000_000, burst: 1_000_000 },
          ip: { perSecond: 1_000_000, burst: 1_000_000 },
        },
      }),
    );
    const env: NodeJS.ProcessEnv = {
      ...cleanEnvironment(),
      CFSIGN_CONFIG: configPath,
      CLOUDFRONT_URL: DISTRIBUTION_URL,
      CLOUDFRONT_KEY_PAIR_ID: KEY_PAIR_ID,
      PRIVATE_KEY_PATH: key.path,
      CFSIGN_API_KEYS: `bench:${this.token}`,
      CFSIGN_HASH: algorithm.hash,
      CFSIGN_LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      PORT: String(port),
    };
    if (this.options.cfsignThreadpool !== undefined) {
      env['UV_THREADPOOL_SIZE'] = String(this.options.cfsignThreadpool);
    }
    if (this.options.workers !== undefined) env['CFSIGN_WORKERS'] = String(this.options.workers);
    const args = startCommandArgs(ROOT);
    if (this.options.profile) {
      mkdirSync(this.profileDirectory, { recursive: true });
      args.unshift(
        '--cpu-prof',
        '--cpu-prof-dir',
        this.profileDirectory,
        '--cpu-prof-name',
        `cfsign-${algorithm.id}.cpuprofile`,
      );
    }
    const server = await this.start(`cfsign (${label})`, args, env, port, '/readyz', DRAIN_PATH);
    this.startups.push({ algorithm: label, readyMs: server.readyMs });
    const threads = /"signingThreads":(\d+)/.exec(server.output())?.[1] ?? '?';
    log(
      `  cfsign ready ${server.readyMs.toFixed(0)} ms after spawn, signing on ${threads} threads`,
    );
    this.signingThreads = threads;
    try {
      const expected = { keyPairId: KEY_PAIR_ID, hash: algorithm.hash };
      const problem = await checkServerLink(
        `${server.baseUrl}/generate-signed-url?object_key=bench%2Fverify.mp4`,
        this.authorization,
        key.publicKey,
        expected,
      );
      if (problem !== undefined) throw new Error(`cfsign (${label}): bad link: ${problem}`);
      await this.checkBatch(server, key.publicKey, expected);

      if (first) {
        log('cfsign GET /healthz (cfsign ceiling)');
        this.addLoadRow(
          '-',
          'healthz',
          'cfsign GET /healthz (ceiling)',
          await this.measure(server, fixedGet('/healthz'), this.options.connections, {}),
          0,
        );
      }
      log(`${label}: cfsign`);
      const { connections, batchConnections } = this.options;
      const prefix = `bench%2F${this.runId}%2F${algorithm.id}`;
      this.addLoadRow(
        label,
        'unique',
        'cfsign GET unique keys',
        await this.measure(
          server,
          uniqueGet(`/generate-signed-url?object_key=${prefix}%2Fu`),
          connections,
          this.authorization,
        ),
        1,
      );
      this.addLoadRow(
        label,
        'batch',
        `cfsign POST batches of ${BATCH_SIZE}`,
        await this.measure(
          server,
          uniqueBatch(`bench/${this.runId}/${algorithm.id}/b`, BATCH_SIZE),
          batchConnections,
          this.authorization,
        ),
        BATCH_SIZE,
      );
      this.addLoadRow(
        label,
        'hot',
        `cfsign GET one hot key (linkWindow ${LINK_WINDOW})`,
        await this.measure(
          server,
          fixedGet(`/generate-signed-url?object_key=${prefix}%2Fhot.mp4`),
          connections,
          this.authorization,
        ),
        1,
      );
    } catch (error) {
      if (error instanceof Error && !error.message.includes(server.output())) {
        error.message += `\n--- cfsign output ---\n${server.output()}`;
      }
      throw error;
    } finally {
      await this.stop(server);
    }
  }

  /** One batch, answered 200 with every link valid, before load. */
  private async checkBatch(
    server: ServerProcess,
    publicKey: KeyObject,
    expected: { keyPairId: string; hash: 'sha1' | 'sha256' },
  ): Promise<void> {
    const items = Array.from({ length: BATCH_SIZE }, (_, index) => ({
      key: `bench/verify-${index}.mp4`,
    }));
    const response = await fetch(`${server.baseUrl}/v1/signed-urls`, {
      method: 'POST',
      headers: { ...this.authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ items }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    if (response.status !== 200) {
      throw new Error(`${server.name}: batch refused: HTTP ${response.status}: ${text}`);
    }
    const body = JSON.parse(text) as { items?: { url?: unknown }[] };
    if (body.items?.length !== BATCH_SIZE) throw new Error(`${server.name}: batch incomplete`);
    for (const item of body.items) {
      const problem =
        typeof item.url === 'string'
          ? checkCannedUrl(item.url, publicKey, expected)
          : 'no url in a batch item';
      if (problem !== undefined) throw new Error(`${server.name}: bad batch link: ${problem}`);
    }
  }

  /**
   * A comparison server signing unique keys with the same key: the baseline (as most Node users
   * write it) or the signing floor (the least a Fastify signing route can do). Its first link is
   * verified before any load, so a server that signs wrongly never gets a figure.
   */
  private async measureReference(
    algorithm: Algorithm,
    key: Keys['rsa'],
    reference: Reference,
  ): Promise<void> {
    const { label } = algorithm;
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...cleanEnvironment(),
      CLOUDFRONT_URL: DISTRIBUTION_URL,
      CLOUDFRONT_KEY_PAIR_ID: KEY_PAIR_ID,
      PRIVATE_KEY_PATH: key.path,
      BENCH_TOKEN: this.token,
      BENCH_HASH: algorithm.hash,
      HOST: '127.0.0.1',
      PORT: String(port),
    };
    const server = await this.start(
      `${reference.scenario} (${label})`,
      ['--import', 'tsx', join(ROOT, 'bench', reference.script)],
      env,
      port,
      '/healthz',
      DRAIN_PATH,
    );
    try {
      const problem = await checkServerLink(
        `${server.baseUrl}/generate-signed-url?object_key=bench%2Fverify.mp4`,
        this.authorization,
        key.publicKey,
        { keyPairId: KEY_PAIR_ID, hash: algorithm.hash },
      );
      if (problem !== undefined) {
        // The SDK names its algorithms RSA-SHA1/RSA-SHA256; should it ever refuse an ECDSA key,
        // the baseline is "n/a" for ECDSA rather than a fake.
        if (reference.scenario !== 'baseline' || algorithm.keyType !== 'ec') {
          throw new Error(`${reference.scenario} (${label}): ${problem}`);
        }
        this.rows.push({
          algorithm: label,
          scenario: reference.scenario,
          label: reference.label,
          failures: 0,
          misses: [],
          note: `the SDK cannot sign with this key: ${problem}`,
        });
        this.notes.push(`${label}: baseline n/a (${problem})`);
        log(`  baseline n/a: ${problem}`);
        return;
      }
      log(`${label}: ${reference.label}`);
      this.addLoadRow(
        label,
        reference.scenario,
        reference.label,
        await this.measure(
          server,
          uniqueGet(
            `/generate-signed-url?object_key=bench%2F${this.runId}%2F${algorithm.id}%2F${reference.scenario}`,
          ),
          this.options.connections,
          this.authorization,
        ),
        1,
      );
    } finally {
      await this.stop(server);
    }
  }
}

/** A server measured beside cfsign on unique keys. */
interface Reference {
  scenario: 'baseline' | 'floor';
  label: string;
  /** Under bench/. */
  script: string;
}

const BASELINE: Reference = {
  scenario: 'baseline',
  label: 'baseline node:http + SDK (PEM)',
  script: 'baseline-server.ts',
};

const FLOOR: Reference = {
  scenario: 'floor',
  label: 'floor: bare Fastify + async sign',
  script: 'floor-server.ts',
};

type Measured = Observation<LoadResult> & { warmup: LoadResult };

function describe(load: LoadResult): string {
  const parts = [
    `errors ${load.errors}`,
    `timeouts ${load.timeouts}`,
    `non-2xx ${load.non2xx}`,
    `statuses ${JSON.stringify(load.statusCodes)}`,
  ];
  if (load.firstError !== undefined) parts.push(`first error: ${load.firstError}`);
  return `(${parts.join(', ')})`;
}

/** The order the table reads best in: ceilings, then per algorithm raw, baseline, cfsign. */
function ordered(rows: readonly Row[]): Row[] {
  const rank: Record<Scenario, number> = {
    empty: 0,
    healthz: 1,
    raw: 2,
    baseline: 3,
    floor: 4,
    unique: 5,
    batch: 6,
    hot: 7,
  };
  const algorithms = [...new Set(rows.map((row) => row.algorithm))];
  return [...rows].sort(
    (a, b) =>
      algorithms.indexOf(a.algorithm) - algorithms.indexOf(b.algorithm) ||
      rank[a.scenario] - rank[b.scenario],
  );
}

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (options === undefined) return 0;
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');

  if (options.build) {
    log('building (npm run -s build)');
    const build = spawnSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (build.status !== 0) {
      log('the build failed');
      return 1;
    }
  }

  const directory = mkdtempSync(join(tmpdir(), 'cfsign-bench-'));
  const keys = generateKeys(directory);
  const bench = new Bench(options, directory, keys, stamp);
  const meta = {
    startedAt: startedAt.toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    uvThreadpoolSize: Number(process.env['UV_THREADPOOL_SIZE'] ?? 4),
    commit: gitCommit(),
    options: {
      quick: options.quick,
      seconds: options.seconds,
      warmupSeconds: options.warmupSeconds,
      connections: options.connections,
      batchConnections: options.batchConnections,
      batchSize: BATCH_SIZE,
      rawInFlight: options.inFlight,
      cfsignThreadpool: options.cfsignThreadpool ?? null,
      algorithms: options.algorithms.map((algorithm) => algorithm.id),
      profile: options.profile,
    },
  };
  log(
    `${meta.cores} cores (${meta.cpu}), node ${meta.node}, UV_THREADPOOL_SIZE ${meta.uvThreadpoolSize}, ` +
      `${options.seconds} s per measurement after ${options.warmupSeconds} s warm-up, ${options.connections} connections`,
  );

  let fatal: unknown;
  try {
    await bench.measureEmptyRoute();
    for (const [index, algorithm] of options.algorithms.entries()) {
      await bench.measureAlgorithm(algorithm, index === 0);
    }
    await bench.measureEmptyRoute();
  } catch (error) {
    fatal = error;
  } finally {
    await bench.stopAll();
    rmSync(directory, { recursive: true, force: true });
  }

  const rows = ordered(bench.rows);
  evaluate(rows);
  const failedRequests = rows.reduce((total, row) => total + row.failures, 0);
  const finishedAt = new Date();

  process.stdout.write(
    `\ncfsign bench, ${meta.startedAt} (${Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000)} s): ` +
      `${meta.cores} x ${meta.cpu}, node ${meta.node}, commit ${meta.commit ?? '?'}\n` +
      `${options.seconds} s per figure, ${options.connections} connections (batches: ${options.batchConnections}), loopback, ` +
      `raw = async crypto.sign, ${options.inFlight} in flight, UV_THREADPOOL_SIZE ${meta.uvThreadpoolSize}` +
      ` (cfsign: ${bench.signingThreads})` +
      '\n\n',
  );
  process.stdout.write(`${formatTable(rows)}\n\n`);
  process.stdout.write(
    `Where the CPU went (${meta.cores} cores; cores = CPU seconds per second of the run):\n\n${formatCpuTable(rows)}\n\n`,
  );
  process.stdout.write(
    [
      'x raw: links/s over the raw limit of the same algorithm; x base: over the baseline (node:http +',
      '@aws-sdk/cloudfront-signer, PEM string per request); x empty: req/s over the empty Fastify route;',
      'x floor: unique-key req/s over the signing floor (bare Fastify + async crypto.sign, nothing else).',
      `Targets (informational): RSA unique keys >= ${TARGETS.rsaUniqueVsRaw} x raw, >= ${TARGETS.rsaUniqueVsBaseline} x baseline, ` +
        `p99 <= ${TARGETS.rsaUniqueP99Ms} ms, no errors; batches >= ${TARGETS.batchVsRaw} x raw; ` +
        `ECDSA unique keys >= ${TARGETS.ecdsaUniqueVsEmpty} x empty route; RSA hot key >= ${TARGETS.hotVsRaw} x raw; ` +
        `cfsign RSS <= ${TARGETS.maxRssMiB} MiB; ready <= ${TARGETS.maxReadyMs} ms after spawn.`,
      `cfsign start-up to ready: ${bench.startups.map((startup) => `${startup.readyMs.toFixed(0)} ms`).join(', ')}` +
        (bench.startups.every((startup) => startup.readyMs <= TARGETS.maxReadyMs)
          ? ' (PASS)'
          : ' (FAIL)'),
      ...bench.notes,
    ].join('\n') + '\n',
  );

  mkdirSync(RESULTS_DIRECTORY, { recursive: true });
  const resultPath = join(RESULTS_DIRECTORY, `bench-${stamp}.json`);
  const fatalMessage = fatal === undefined ? undefined : messageOf(fatal);
  writeFileSync(
    resultPath,
    `${JSON.stringify(
      {
        ...meta,
        finishedAt: finishedAt.toISOString(),
        targets: TARGETS,
        rows,
        notes: bench.notes,
        startups: bench.startups,
        failedRequests,
        ...(fatalMessage === undefined ? {} : { fatal: fatalMessage }),
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write(`\nwrote ${resultPath}\n`);
  if (options.profile) process.stdout.write(`CPU profiles in ${bench.profileDirectory}\n`);

  if (fatalMessage !== undefined) {
    log(`FAILED: ${fatalMessage}`);
    return 1;
  }
  if (failedRequests > 0) {
    log(`FAILED: ${failedRequests} requests failed (see the err column and ${resultPath})`);
    return 1;
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2)).catch((error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : messageOf(error));
  return 1;
});
