#!/usr/bin/env node
import { isSignerError } from '../errors.ts';
import { DEV_KEY_DIRECTORY, loadConfig, type Environment } from '../config/load-config.ts';
import type { ServiceConfig } from '../config/service-config.ts';
import { ensureDevKeyPair } from '../keys/dev-key-pair.ts';
import { buildServer } from './build-server.ts';
import { loadKeyrings } from './load-keyring.ts';
import { createReloader } from './reload.ts';

/** From the signal, the time by which the process is gone, whatever is still in flight. */
const SHUTDOWN_DEADLINE_MS = 9_500;

function devBanner(config: ServiceConfig, address: string, keyCreated: boolean): string {
  const [distribution] = config.distributions;
  return [
    '',
    '  cfsign is running in DEV MODE: no configuration was given.',
    `  - listening on ${address}, accepting requests without a token from this machine only`,
    `  - signing with a development key ${keyCreated ? 'created just now' : 'kept'} in ${DEV_KEY_DIRECTORY}/ (git-ignored), Key-Pair-Id ${distribution?.activeKey ?? ''}`,
    `  - links point at the placeholder ${distribution?.url ?? ''}, which CloudFront will not serve`,
    '',
    `  Try:  curl '${address}/generate-signed-url?object_key=videos/intro.mp4'`,
    `  Docs: ${address}/docs`,
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
  if (config.mode === 'dev') keyCreated = ensureDevKeyPair(DEV_KEY_DIRECTORY).created;
  const keyrings = loadKeyrings(config.distributions, env);
  const app = await buildServer({ config, keyrings, processMetrics: true });
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
      app.close().then(
        () => {
          process.exitCode = 0;
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
  if (config.mode === 'dev') process.stdout.write(devBanner(config, address, keyCreated));
}

try {
  await start(process.env);
} catch (error) {
  reportStartupFailure(error);
  process.exitCode = 1;
}
