import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { AUTH, PRODUCTION_ENV, assertAccepted } from '../helpers/server.ts';
import { startService } from './running-service.ts';

const WORKERS_READY = /(Server listening at[\s\S]*){2}/;

describe('CFSIGN_WORKERS', () => {
  it('serves one port from several worker processes and stops them all on SIGTERM, exit 0', async (t) => {
    const service = await startService(
      { ...PRODUCTION_ENV, HOST: '127.0.0.1', CFSIGN_WORKERS: '2', CFSIGN_SHUTDOWN_DELAY: '0' },
      process.cwd(),
      WORKERS_READY,
    );
    t.after(() => service.child.kill('SIGKILL'));
    // A fresh connection per request, so the primary hands them out to both workers.
    for (let index = 0; index < 12; index += 1) {
      const response = await fetch(`${service.address}/generate-signed-url?object_key=w${index}`, {
        headers: { ...AUTH, connection: 'close' },
      });
      assert.equal(response.status, 200);
      assertAccepted(((await response.json()) as { signed_url: string }).signed_url, new Date());
    }
    const servedBy = new Set(
      service
        .logs()
        .filter((line) => line['msg'] === 'request')
        .map((line) => line['pid']),
    );
    assert.equal(servedBy.size, 2, 'the requests were not shared between the two workers');
    assert.ok(service.child.pid !== undefined && !servedBy.has(service.child.pid));
    // The cores are shared out: each worker's pool gets its part (at least one thread).
    const pools = service.logs().filter((line) => line['signingThreads'] !== undefined);
    assert.deepEqual(
      pools.map((line) => line['signingThreads']),
      [1, 1].map(() => Math.max(1, Math.round(availableParallelism() / 2))),
    );
    service.child.kill('SIGTERM');
    assert.equal(await service.exited, 0, service.output().slice(-2000));
    assert.equal(
      service.logs().filter((line) => /^shutting down/.test(String(line['msg']))).length,
      2,
    );
  });

  it('warns that in-memory rate limits are counted by each worker alone', async (t) => {
    const service = await startService(
      { ...PRODUCTION_ENV, HOST: '127.0.0.1', CFSIGN_WORKERS: '2' },
      process.cwd(),
      WORKERS_READY,
    );
    t.after(() => service.child.kill('SIGKILL'));
    assert.match(service.output(), /rate limits are counted by each of the 2 workers alone/);
  });

  it('refuses a worker count that is not a whole number from 1 to 64, before starting any', async () => {
    for (const value of ['0', '65', 'two', '1.5']) {
      await assert.rejects(
        startService({ ...PRODUCTION_ENV, CFSIGN_WORKERS: value }),
        (error: Error) => /CFSIGN_WORKERS: must be a whole number from 1 to 64/.test(error.message),
        value,
      );
    }
  });
});
