// The service's entry point (`npm start`), CommonJS on purpose. libuv reads UV_THREADPOOL_SIZE
// once, when its pool first runs, and Node's ESM loader reads files on that pool: only code that
// runs before the first ESM import can size it. Every signature is made on that pool, so it gets
// one thread per core (at least 2): more threads than cores only preempt the event loop (on 2
// cores, unique-key req/s measured 2 threads > 4 > 8, side by side). An explicit
// UV_THREADPOOL_SIZE wins.
// CommonJS has no other way to import under verbatimModuleSyntax.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import os = require('node:os');

if (process.env['UV_THREADPOOL_SIZE'] === undefined) {
  process.env['UV_THREADPOOL_SIZE'] = String(Math.max(2, os.availableParallelism()));
}
void import('./start.js');
