// The service's entry point (`npm start`), CommonJS on purpose. libuv reads UV_THREADPOOL_SIZE
// once, when its pool first runs, and Node's ESM loader reads files on that pool: only code that
// runs before the first ESM import can size it. Every signature is made on that pool, so it gets
// one thread per core (at least 2): more threads than cores only preempt the event loop (on 2
// cores, unique-key req/s measured 2 threads > 4 > 8, side by side). An explicit
// UV_THREADPOOL_SIZE wins.
// CommonJS has no other way to import under verbatimModuleSyntax.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import os = require('node:os');

// With CFSIGN_WORKERS=n, the cores are shared out among the n workers (at least one thread
// each) instead: every worker has a pool of its own.
if (process.env['UV_THREADPOOL_SIZE'] === undefined) {
  const cores = os.availableParallelism();
  const workers = Number(process.env['CFSIGN_WORKERS']);
  process.env['UV_THREADPOOL_SIZE'] = String(
    Number.isInteger(workers) && workers > 1
      ? Math.max(1, Math.round(cores / workers))
      : Math.max(2, cores),
  );
}
void import('./start.js');
