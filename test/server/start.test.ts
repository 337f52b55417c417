import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { verifyUrl } from '../../src/core/verify.ts';
import { loadPublicKey } from '../../src/keys/load-key.ts';
import { RSA } from '../helpers/fixtures.ts';
import { AUTH, PRODUCTION_ENV } from '../helpers/server.ts';
import { SERVICE_ENTRY, startService, type RunningService } from './running-service.ts';

const SAMPLE_VIDEO = new URL('../../examples/edge-root/videos/intro.mp4', import.meta.url);

/** A loopback port that was free a moment ago (dev mode's edge must not meet another run's). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
  return port;
}

describe('the service started as npm start starts it', () => {
  it('serves the seed contract over a real port; on SIGTERM fails readiness at once, finishes in-flight requests and exits 0', async () => {
    const service = await startService(
      { ...PRODUCTION_ENV, HOST: '127.0.0.1', CFSIGN_SHUTDOWN_DELAY: '1' },
      process.cwd(),
    );
    try {
      const response = await fetch(
        `${service.address}/generate-signed-url?object_key=dir%2Fa%20b.mp4`,
        { headers: AUTH },
      );
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('cache-control'), 'no-store');
      const { signed_url: signedUrl } = (await response.json()) as { signed_url: string };
      assert.equal(
        verifyUrl(signedUrl, { keys: new Map([[RSA.keyPairId, RSA.publicKey]]), now: new Date() })
          .valid,
        true,
      );

      const items = Array.from({ length: 100 }, (_, index) => ({ key: `videos/${index}.mp4` }));
      const inFlight = fetch(`${service.address}/v1/signed-urls`, {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ items }),
      });
      await new Promise((resolve) => setTimeout(resolve, 30));
      const stoppedAt = Date.now();
      service.child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 100));
      const readiness = await fetch(`${service.address}/readyz`);
      assert.equal(readiness.status, 503);
      assert.deepEqual(await readiness.json(), { status: 'draining' });
      const batch = await inFlight;
      assert.equal(batch.status, 200);
      assert.equal(((await batch.json()) as { items: unknown[] }).items.length, 100);
      assert.equal(await service.exited, 0);
      assert.ok(Date.now() - stoppedAt < 10_000);
      assert.match(service.output(), /shutting down/);
    } finally {
      service.child.kill('SIGKILL');
    }
  });

  it("sizes libuv's signing pool to the machine, or as UV_THREADPOOL_SIZE says, before any module uses it", async () => {
    const threadsOf = (pid: number | undefined) => readdirSync(`/proc/${String(pid)}/task`).length;
    const started: RunningService[] = [];
    try {
      const env = { ...PRODUCTION_ENV, HOST: '127.0.0.1' };
      const sized = await startService(env, process.cwd(), /signing on libuv's pool/);
      started.push(sized);
      const expected = Math.max(2, availableParallelism());
      assert.match(sized.output(), new RegExp(`"signingThreads":${expected},`));
      const larger = await startService(
        { ...env, UV_THREADPOOL_SIZE: String(expected + 8) },
        process.cwd(),
        /signing on libuv's pool/,
      );
      started.push(larger);
      assert.match(larger.output(), new RegExp(`"signingThreads":${expected + 8},`));
      // libuv starts its whole pool at first use, so the extra threads are there to count.
      for (const service of started) {
        const response = await fetch(`${service.address}/generate-signed-url?object_key=a`, {
          headers: AUTH,
        });
        assert.equal(response.status, 200);
      }
      assert.equal(threadsOf(larger.child.pid) - threadsOf(sized.child.pid), 8);
    } finally {
      for (const service of started) service.child.kill('SIGKILL');
    }
  });

  it('starts in dev mode with no configuration: a banner, a kept dev key, and a first curl whose link opens on the local edge', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'cfsign-dev-'));
    const edgePort = await freePort();
    const env = { CFSIGN_EDGE_PORT: String(edgePort) };
    const first = await startService(env, cwd, /For production set/);
    try {
      assert.match(first.output(), /DEV MODE/);
      assert.match(first.address, /^http:\/\/127\.0\.0\.1:/);
      assert.match(
        first.output(),
        new RegExp(`links point at the local edge http://127\\.0\\.0\\.1:${edgePort}`),
      );
      const response = await fetch(
        `${first.address}/generate-signed-url?object_key=videos/intro.mp4`,
      );
      assert.equal(response.status, 200);
      const { signed_url: signedUrl } = (await response.json()) as { signed_url: string };
      assert.ok(
        signedUrl.startsWith(`http://127.0.0.1:${edgePort}/videos/intro.mp4?Expires=`),
        signedUrl,
      );
      const devKey = join(cwd, '.cfsign/dev/private_key.pem');
      assert.equal(statSync(devKey).mode & 0o777, 0o600);
      const publicKey = loadPublicKey({ file: join(cwd, '.cfsign/dev/public_key.pem') });
      assert.equal(
        verifyUrl(signedUrl, { keys: new Map([['KCFSIGNDEV', publicKey]]), now: new Date() }).valid,
        true,
      );

      const video = await fetch(signedUrl);
      assert.equal(video.status, 200);
      assert.equal(video.headers.get('content-type'), 'video/mp4');
      assert.deepEqual(Buffer.from(await video.arrayBuffer()), readFileSync(SAMPLE_VIDEO));
      const at = signedUrl.indexOf('Signature=') + 'Signature='.length + 10;
      const tampered = `${signedUrl.slice(0, at)}${signedUrl[at] === 'A' ? 'B' : 'A'}${signedUrl.slice(at + 1)}`;
      const refused = await fetch(tampered);
      assert.equal(refused.status, 403);
      assert.match(await refused.text(), /<Code>AccessDenied<\/Code>/);
      assert.match(refused.headers.get('x-cfsign-reason') ?? '', /signature does not match/);
    } finally {
      first.child.kill('SIGINT');
      await first.exited;
    }
    const second = await startService(env, cwd, /For production set/);
    try {
      assert.match(second.output(), /development key kept/);
    } finally {
      // Ctrl-C: no drain delay for a person at a terminal.
      const stoppedAt = Date.now();
      second.child.kill('SIGINT');
      assert.equal(await second.exited, 0);
      assert.ok(Date.now() - stoppedAt < 1000);
    }
  });

  it("keeps signing in dev mode when the edge's port is taken, and says so in one line", async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'cfsign-dev-'));
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    const service = await startService(
      { CFSIGN_EDGE_PORT: String(port) },
      cwd,
      /For production set/,
    );
    try {
      assert.match(
        service.output(),
        new RegExp(
          `^cfsign: the dev edge is not running: 127\\.0\\.0\\.1:${port} is already in use \\(set CFSIGN_EDGE_PORT to move the edge\\)$`,
          'm',
        ),
      );
      assert.match(service.output(), /the local edge is NOT running/);
      const response = await fetch(`${service.address}/generate-signed-url?object_key=a.txt`);
      assert.equal(response.status, 200);
    } finally {
      service.child.kill('SIGINT');
      await service.exited;
      await new Promise<void>((resolve) =>
        taken.close(() => {
          resolve();
        }),
      );
    }
  });

  it('exits non-zero before listening, one line per problem naming the variable', async () => {
    const child = spawn(process.execPath, [SERVICE_ENTRY], {
      env: {
        PATH: process.env['PATH'],
        CLOUDFRONT_URL: 'https://d111111abcdef8.cloudfront.net',
        CFSIGN_MAX_TTL: 'soon',
        PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 1);
    assert.doesNotMatch(stdout, /listening/);
    const lines = stderr.trimEnd().split('\n');
    assert.ok(
      lines.every((line) => line.startsWith('cfsign: ERR_CONFIG_INVALID: ')),
      stderr,
    );
    for (const variable of [
      'CLOUDFRONT_KEY_PAIR_ID',
      'PRIVATE_KEY_PATH',
      'CFSIGN_MAX_TTL',
      'CFSIGN_API_KEYS',
    ]) {
      assert.ok(
        lines.some((line) => line.includes(`: ${variable}: `)),
        `${variable} in\n${stderr}`,
      );
    }
  });

  it('names PRIVATE_KEY_PATH, not the path, when the key cannot be loaded', async () => {
    const child = spawn(process.execPath, [SERVICE_ENTRY], {
      env: {
        PATH: process.env['PATH'],
        ...PRODUCTION_ENV,
        PRIVATE_KEY_PATH: '/nonexistent/hidden-dir/key.pem',
        PORT: '0',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    assert.equal(await new Promise<number | null>((resolve) => child.once('exit', resolve)), 1);
    assert.match(stderr, /PRIVATE_KEY_PATH \(K2JCJMDEHXQW5F\): the key file does not exist/);
    assert.doesNotMatch(stderr, /hidden-dir/);
  });
});
