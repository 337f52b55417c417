#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import cluster from 'node:cluster';
import { isSignerError } from '../errors.ts';
import { DEV_KEY_DIRECTORY, loadConfig, type Environment } from '../config/load-config.ts';
import type { ServiceConfig } from '../config/service-config.ts';
import type { Edge } from '../edge/build-edge.ts';
import { ensureDevKeyPair } from '../keys/dev-key-pair.ts';
import type { Keyring } from '../keys/keyring.ts';
import { buildServer } from './build-server.ts';
import { loadKeyrings } from './load-keyring.ts';
import { createReloader } from './reload.ts';
import { superviseWorkers } from './workers.ts';

/** From the signal, the time by which the process is gone, whatever is still in flight. */
const SHUTDOWN_DEADLINE_MS = 9_500;

/** The sample files dev mode's edge serves: in the package, whatever the working directory. */
const DEV_EDGE_ROOT = fileURLToPath(new URL('../../examples/edge-root/', import.meta.url));

/** The local edge of dev mode, or why it is not running (the service runs either way). */
type DevEdge = { edge: Edge; problem?: never } | { problem: string; edge?: never };

/**
 * Starts the edge where the dev distribution's URL points, trusting the dev key, over the
 * sample folder. A taken port is said in one line and signing goes on: links keep pointing at
 * the same URL, which works again as soon as that port is free and the service restarted.
 */
async function startDevEdge(config: ServiceConfig, keyring: Keyring | undefined): Promise<DevEdge> {
  const url = new URL(config.distributions[0]?.url ?? '');
  const where = `${url.hostname}:${url.port}`;
  if (keyring === undefined) return { problem: 'the dev key is not loaded' };
  let edge: Edge | undefined;
  try {
    // Loaded here, not at the top: outside dev mode the edge and its static-file and proxy
    // plugins would only slow every start and take memory.
    const { buildEdge } = await import('../edge/build-edge.ts');
    edge = await buildEdge({ root: DEV_EDGE_ROOT, keys: keyring, logLevel: config.logLevel });
    await edge.listen({ host: url.hostname, port: Number(url.port) });
    return { edge };
  } catch (error) {
    await edge?.close();
    const code = (error as { code?: unknown }).code;
    if (code === 'EADDRINUSE') {
      return { problem: `${where} is already in use (set CFSIGN_EDGE_PORT to move the edge)` };
    }
    return {
      problem: isSignerError(error)
        ? `the sample folder examples/edge-root/ cannot be served: ${error.message}`
        : `it could not listen on ${where} (${typeof code === 'string' ? code : 'unknown error'})`,
    };
  }
}

function devBanner(
  config: ServiceConfig,
  address: string,
  keyCreated: boolean,
  devEdge: DevEdge,
): string {
  const [distribution] = config.distributions;
  const edgeUrl = distribution?.url ?? '';
  const edgeLines =
    devEdge.problem === undefined
      ? [
          `  - links point at the local edge ${edgeUrl}: a stand-in for CloudFront that serves`,
          '    examples/edge-root/ only to valid signed URLs or cookies (403 + x-cfsign-reason if not)',
        ]
      : [`  - links point at ${edgeUrl}, but the local edge is NOT running: ${devEdge.problem}`];
  return [
    '',
    '  cfsign is running in DEV MODE: no configuration was given.',
    `  - listening on ${address}, accepting requests without a token from this machine only`,
    `  - signing with a development key ${keyCreated ? 'created just now' : 'kept'} in ${DEV_KEY_DIRECTORY}/ (git-ignored), Key-Pair-Id ${distribution?.activeKey ?? ''}`,
    ...edgeLines,
    '',
    `  Try:  curl '${address}/generate-signed-url?object_key=videos/intro.mp4'`,
    ...(devEdge.problem === undefined
      ? ['        then open the signed_url it returns in a browser: the video plays']
      : []),
    `  Console: ${address}/console/  (sign and inspect links in a browser)`,
    `  Docs:    ${address}/docs`,
    '',
    '  For production set CLOUDFRONT_URL, CLOUDFRONT_KEY_PAIR_ID, PRIVATE_KEY_PATH and',
    '  CFSIGN_API_KEYS (name:token,...) and see README.md, Configuration.',
    '',
  ].join('\n');
}

function reportStartupFailure(error: unknown): void {
  if (isSignerError(error)) {
    const problems = error.details?.['problems'];
    const lines = Array.isArray(problems) ? (problems as string[]) : [error.message];
    for (const line of lines) process.stderr.write(`cfsign: ${error.code}: ${line}\n`);
  } else {
    process.stderr.write(
      `cfsign: could not start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
  }
}

/** Reads the configuration, loads the keys, listens, and owns signals and shutdown. */
async function start(env: Environment): Promise<void> {
  const config = loadConfig(env);
  let keyCreated = false;
  if (config.mode === 'dev' && cluster.isPrimary) {
    keyCreated = ensureDevKeyPair(DEV_KEY_DIRECTORY).created;
  }
  const keyrings = loadKeyrings(config.distributions, env);
  if (config.workers > 1 && cluster.isPrimary) {
    // Configuration and keys are checked once, here, so a mistake is reported once.
    superviseWorkers(config.workers, config.rateLimit.store !== 'memory');
    return;
  }
  // In a cluster, one worker speaks for all: the banner and the dev edge are its alone.
  const speaksForAll = cluster.isPrimary || cluster.worker?.id === 1;
  const app = await buildServer({ config, keyrings, processMetrics: true });
  let devEdge: DevEdge | undefined;
  const reloader = createReloader(app, env, { watchFiles: config.mode === 'production' });
  process.on('SIGHUP', () => {
    reloader.reload('SIGHUP');
  });
  // Signals are handled before listening, so no SIGTERM can arrive unhandled.
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    app.cfsign.state.draining = true;
    reloader.close();
    // An orchestrator's SIGTERM gets a short delay while readiness fails and load balancers
    // stop sending; a person's Ctrl-C (SIGINT) does not wait.
    const delayMs = signal === 'SIGTERM' ? config.shutdownDelaySeconds * 1000 : 0;
    app.log.info({ signal, delayMs }, 'shutting down: readiness fails, in-flight requests finish');
    setTimeout(() => {
      app.log.error('in-flight requests did not finish in time; exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    setTimeout(() => {
      Promise.all([app.close(), devEdge?.edge?.close()]).then(
        () => {
          process.exitCode = 0;
          // A worker's channel to its primary would keep it alive with nothing left to do.
          if (cluster.isWorker) process.disconnect();
        },
        (error: unknown) => {
          app.log.error({ err: error }, 'error while closing');
          process.exitCode = 1;
        },
      );
    }, delayMs);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);

  // main.cjs sizes the pool to the machine; started some other way, libuv's default applies.
  const signingThreads = Number(env['UV_THREADPOOL_SIZE'] ?? 4);
  app.log.info({ signingThreads }, `signing on libuv's pool of ${signingThreads} threads`);
  const address = await app.listen({ host: config.host, port: config.port });
  if (config.mode === 'dev' && speaksForAll) {
    devEdge = await startDevEdge(config, keyrings.get(config.distributions[0]?.name ?? ''));
    // A Ctrl-C while the edge was starting found no edge to close.
    if (app.cfsign.state.draining) await devEdge.edge?.close();
    if (devEdge.problem !== undefined) {
      process.stderr.write(`cfsign: the dev edge is not running: ${devEdge.problem}\n`);
    }
    process.stdout.write(devBanner(config, address, keyCreated, devEdge));
  }
}

try {
  await start(process.env);
} catch (error) {
  reportStartupFailure(error);
  process.exitCode = 1;
}
