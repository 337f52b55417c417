/**
 * `node --import tsx bench/profile-route.ts [get|batch|hot|healthz] [seconds]`: runs the built service
 * under --cpu-prof with one kind of load and prints where the main thread's time went, plus the
 * CPU each request cost. For optimising; `npm run bench` is the comparison. cfsign starts as
 * `npm start` starts it; LINK_WINDOW, LOG_LEVEL, CONNECTIONS, UV_THREADPOOL_SIZE and PROFILE=0
 * (no profiler) adjust the run.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixedGet, runLoad, uniqueBatch, uniqueGet } from './load.ts';
import { freePort, observe, startServer } from './processes.ts';
import { startCommandArgs } from './start-command.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const kind = process.argv[2] ?? 'get';
const seconds = Number(process.argv[3] ?? 5);
const directory = mkdtempSync(join(tmpdir(), 'cfsign-profile-'));
const keyPath = join(directory, 'key.pem');
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
writeFileSync(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
const token = randomBytes(24).toString('hex');
const configPath = join(directory, 'config.json');
writeFileSync(
  configPath,
  JSON.stringify({
    distributions: [
      {
        name: 'bench',
        url: 'https://d111111abcdef8.cloudfront.net',
        keys: [{ id: 'K2JCJMDEHXQW5F', privateKeyFile: keyPath }],
        ...(process.env['LINK_WINDOW'] === undefined
          ? {}
          : { linkWindow: Number(process.env['LINK_WINDOW']) }),
      },
    ],
    rateLimit: {
      store: 'memory',
      default: { perSecond: 1_000_000, burst: 1_000_000 },
      ip: { perSecond: 1_000_000, burst: 1_000_000 },
    },
    server: { maxSigningInFlight: 100_000 },
  }),
);
const port = await freePort();
const profile = process.env['PROFILE'] !== '0';
const server = await startServer({
  name: 'cfsign',
  args: [
    ...(profile ? ['--cpu-prof', '--cpu-prof-dir', directory] : []),
    ...startCommandArgs(ROOT),
  ],
  logFile: join(directory, 'cfsign.log'),
  env: {
    PATH: process.env['PATH'],
    CFSIGN_CONFIG: configPath,
    CFSIGN_API_KEYS: `bench:${token}`,
    ...(process.env['UV_THREADPOOL_SIZE'] === undefined
      ? {}
      : { UV_THREADPOOL_SIZE: process.env['UV_THREADPOOL_SIZE'] }),
    CFSIGN_LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'warn',
    HOST: '127.0.0.1',
    PORT: String(port),
  },
  port,
  readyPath: '/readyz',
});
const headers = { authorization: `Bearer ${token}` };
const request =
  kind === 'batch'
    ? uniqueBatch(`p/${Date.now()}/b`, 100)
    : kind === 'hot'
      ? fixedGet('/generate-signed-url?object_key=p%2Fhot.mp4')
      : kind === 'healthz'
        ? fixedGet('/healthz')
        : uniqueGet(`/generate-signed-url?object_key=p%2F${Date.now()}%2Fu`);
// Batches of 100 at 50 connections would queue 5,000 signatures; the bench uses 5.
const connections = Number(process.env['CONNECTIONS'] ?? (kind === 'batch' ? 5 : 50));
await runLoad({ url: server.baseUrl, connections, seconds: 1, headers, request });
const observed = await observe(server, () =>
  runLoad({ url: server.baseUrl, connections, seconds, headers, request }),
);
await server.stop();
const { result, serverCpu, wallSeconds, peakRssMiB } = observed;
const links = result.responses * (kind === 'batch' ? 100 : 1);
console.log(
  `${kind}: ${result.requestsPerSecond.toFixed(0)} req/s, p99 ${result.latencyMs.p99.toFixed(1)} ms, RSS ${peakRssMiB ?? '?'} MiB, ` +
    `main ${serverCpu === undefined ? '?' : ((serverCpu.mainSeconds / result.responses) * 1e6).toFixed(0)} us/req, ` +
    `other ${serverCpu === undefined ? '?' : ((serverCpu.otherSeconds / links) * 1e6).toFixed(0)} us/link, ` +
    `generator ${((observed.generatorCpuSeconds / result.responses) * 1e6).toFixed(0)} us/req over ${wallSeconds.toFixed(1)} s`,
);
if (profile) {
  const file = readdirSync(directory).find((name) => name.endsWith('.cpuprofile'));
  if (file !== undefined) console.log(`profile: ${join(directory, file)}`);
}
