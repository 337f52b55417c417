import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { AUTH, PRODUCTION_ENV, assertAccepted } from '../helpers/server.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('npm start', () => {
  // An image or a process manager that runs `npm start` signals npm, not node: the script must
  // hand the signal on, or node keeps serving, orphaned, while readiness still says yes.
  it('passes SIGTERM on to the service, which drains and exits 0 with npm', async (t) => {
    const npm = spawn('npm', ['start', '--silent'], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'], PORT: '0', ...PRODUCTION_ENV },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so that whatever outlives a failed test can be ended with it.
      detached: true,
    });
    t.after(() => {
      try {
        process.kill(-(npm.pid ?? 0), 'SIGKILL');
      } catch {
        // Already gone: the test passed.
      }
    });
    let output = '';
    const exited = new Promise<number | null>((resolve) => npm.once('exit', resolve));
    const address = await new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        output += chunk.toString('utf8');
        const match = /Server listening at (http:\/\/[\d.]+:\d+)/.exec(output);
        if (match?.[1] !== undefined) resolve(match[1]);
      };
      npm.stdout.on('data', onData);
      npm.stderr.on('data', onData);
      void exited.then((code) => {
        reject(new Error(`npm start exited with ${String(code)}`));
      });
      setTimeout(() => {
        reject(new Error('npm start did not listen within 20 s'));
      }, 20_000).unref();
    });
    const before = await fetch(`${address}/generate-signed-url?object_key=a.mp4`, {
      headers: AUTH,
    });
    assertAccepted(((await before.json()) as { signed_url: string }).signed_url, new Date());
    npm.kill('SIGTERM');
    const code = await Promise.race([
      exited,
      new Promise<'timeout'>((resolve) =>
        setTimeout(() => {
          resolve('timeout');
        }, 12_000).unref(),
      ),
    ]);
    assert.equal(code, 0, output.slice(-2000));
    assert.match(output, /shutting down/);
    await assert.rejects(fetch(`${address}/healthz`), 'the service still answers after npm exited');
  });
});
