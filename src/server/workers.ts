import cluster, { type Worker } from 'node:cluster';

/** One JSON line in the shape of the workers' pino lines, for the supervising process. */
function logLine(level: 'info' | 'warn' | 'error', msg: string, fields: object = {}): void {
  const numeric = { info: 30, warn: 40, error: 50 }[level];
  process.stdout.write(
    `${JSON.stringify({ level: numeric, time: Date.now(), pid: process.pid, ...fields, msg })}\n`,
  );
}

/**
 * The primary of `CFSIGN_WORKERS=n`: forks n workers that share the listening port (node:cluster
 * hands connections out round-robin), passes SIGHUP, SIGTERM and SIGINT on to every worker,
 * replaces a worker that dies while serving, and exits when every worker has stopped: 0 if they
 * all stopped cleanly. A worker that dies before it listens (a key that no longer loads, a
 * taken port) stops them all: restarting it would only fail again.
 */
export function superviseWorkers(count: number, sharedLimits: boolean): void {
  if (!sharedLimits) {
    logLine(
      'warn',
      `rate limits are counted by each of the ${count} workers alone: set CFSIGN_RATE_LIMIT_STORE to a redis:// URL to share them`,
    );
  }
  const listening = new WeakSet<Worker>();
  let stopping = false;
  let failed = false;
  const workers = (): Worker[] =>
    Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
  const stopAll = (signal: NodeJS.Signals): void => {
    stopping = true;
    for (const worker of workers()) worker.process.kill(signal);
  };

  cluster.on('listening', (worker) => {
    listening.add(worker);
  });
  cluster.on('exit', (worker, code, signal) => {
    const clean = code === 0;
    if (!clean) failed = true;
    if (!stopping && !listening.has(worker)) {
      logLine('error', 'a worker stopped before it listened; stopping every worker', {
        worker: worker.id,
        code,
        signal,
      });
      stopAll('SIGTERM');
    } else if (!stopping) {
      logLine('error', 'a worker died while serving; starting another', {
        worker: worker.id,
        code,
        signal,
      });
      cluster.fork();
    }
    if (stopping && workers().length === 0) process.exitCode = failed ? 1 : 0;
  });
  process.on('SIGHUP', () => {
    for (const worker of workers()) worker.process.kill('SIGHUP');
  });
  process.once('SIGTERM', () => {
    stopAll('SIGTERM');
  });
  process.once('SIGINT', () => {
    stopAll('SIGINT');
  });

  logLine('info', `starting ${count} workers on one port`, { workers: count });
  for (let index = 0; index < count; index += 1) cluster.fork();
}
