import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { describe, it } from 'node:test';
import { signUrl } from '../../src/core/sign-url.ts';
import { runCli } from '../helpers/cli.ts';
import { ECDSA, fixturePath, RSA } from '../helpers/fixtures.ts';
import { sampleFile, SAMPLE_ROOT, tamperSignature } from './helpers.ts';

const BIN = new URL('../../bin/cfsign', import.meta.url).pathname;
const RSA_KEY = `${RSA.keyPairId}=${fixturePath('rsa-2048.public.pem')}`;
const ECDSA_KEY = `${ECDSA.keyPairId}=${fixturePath('ec-p256.public.pem')}`;

interface RunningEdge {
  child: ChildProcess;
  address: string;
  exited: Promise<number | null>;
  output: () => string;
}

/** Starts `cfsign edge` as a user would, and waits for the line that says where it listens. */
async function startEdge(args: readonly string[]): Promise<RunningEdge> {
  const child = spawn(process.execPath, [BIN, 'edge', ...args], {
    env: { PATH: process.env['PATH'] },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', resolve);
  });
  const address = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const match = /cfsign edge: serving .* at (http:\/\/127\.0\.0\.1:\d+) /.exec(output);
      if (match?.[1] !== undefined) resolve(match[1]);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      reject(new Error(`exited with ${String(code)}:\n${output}`));
    });
    setTimeout(() => {
      reject(new Error(`did not listen within 10 s:\n${output}`));
    }, 10_000).unref();
  });
  return { child, address, exited, output: () => output };
}

describe('cfsign edge', () => {
  it('explains itself with --help: every option, the repeatable key and what it answers', async () => {
    const help = await runCli(['edge', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: cfsign edge \[options\]/);
    for (const option of ['--root DIR', '--origin URL', '--port PORT', '--host ADDR']) {
      assert.ok(help.stdout.includes(option), option);
    }
    assert.match(help.stdout, /--public-key ID=FILE +.*\(required, repeatable\)/);
    assert.match(help.stdout, /x-cfsign-reason/);
    const main = await runCli(['--help']);
    assert.match(main.stdout, /^ {2}edge +Serve a folder/m);
  });

  it('refuses, with exit 2 and one line, a call without --root or --origin, or with both', async () => {
    const neither = await runCli(['edge', '--public-key', RSA_KEY]);
    assert.equal(neither.code, 2);
    assert.equal(
      neither.stderr,
      "cfsign edge: ERR_USAGE: give --root DIR (files to serve) or --origin URL (to proxy) (see 'cfsign edge --help')\n",
    );
    const both = await runCli([
      'edge',
      '--root',
      SAMPLE_ROOT,
      '--origin',
      'http://127.0.0.1:3000',
      '--public-key',
      RSA_KEY,
    ]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /ERR_USAGE: give --root or --origin, not both/);
  });

  it('requires --public-key as ID=FILE, each ID once, and never echoes the key path', async () => {
    const missing = await runCli(['edge', '--root', SAMPLE_ROOT]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /ERR_USAGE: --public-key is required/);
    for (const spec of [
      fixturePath('rsa-2048.public.pem'),
      `k2jcjmdehxqw5f=${fixturePath('rsa-2048.public.pem')}`,
      `${RSA.keyPairId}=`,
    ]) {
      const result = await runCli(['edge', '--root', SAMPLE_ROOT, '--public-key', spec]);
      assert.equal(result.code, 2, spec);
      assert.match(result.stderr, /ERR_USAGE: --public-key takes ID=FILE/);
      assert.ok(!result.stderr.includes('fixtures'), result.stderr);
    }
    const twice = await runCli([
      'edge',
      '--root',
      SAMPLE_ROOT,
      '--public-key',
      RSA_KEY,
      '--public-key',
      `${RSA.keyPairId}=${fixturePath('ec-p256.public.pem')}`,
    ]);
    assert.equal(twice.code, 2);
    assert.match(
      twice.stderr,
      /ERR_USAGE: --public-key: Key-Pair-Id K2JCJMDEHXQW5F is given twice/,
    );
  });

  it('refuses a key file that is missing or holds no key with exit 1, naming the Key-Pair-Id only', async () => {
    const absent = await runCli([
      'edge',
      '--root',
      SAMPLE_ROOT,
      '--public-key',
      `${RSA.keyPairId}=/nonexistent/hidden-dir/public.pem`,
    ]);
    assert.equal(absent.code, 1);
    assert.equal(
      absent.stderr,
      'cfsign edge: ERR_KEY_UNREADABLE: --public-key K2JCJMDEHXQW5F: the key file does not exist\n',
    );
    const notAKey = await runCli([
      'edge',
      '--root',
      SAMPLE_ROOT,
      '--public-key',
      `${RSA.keyPairId}=${fixturePath('README.md')}`,
    ]);
    assert.equal(notAKey.code, 1);
    assert.match(notAKey.stderr, /^cfsign edge: ERR_KEY_INVALID: --public-key K2JCJMDEHXQW5F: /);
    assert.ok(!notAKey.stderr.includes('README'));
  });

  it('refuses a root that is not a folder and a port out of range with exit 2', async () => {
    const root = await runCli(['edge', '--root', '/nonexistent/edge', '--public-key', RSA_KEY]);
    assert.equal(root.code, 2);
    assert.match(root.stderr, /ERR_USAGE: the root folder does not exist/);
    for (const port of ['65536', '-1', 'http', '80.5']) {
      const result = await runCli([
        'edge',
        '--root',
        SAMPLE_ROOT,
        '--public-key',
        RSA_KEY,
        '--port',
        port,
      ]);
      assert.equal(result.code, 2, port);
      assert.match(result.stderr, /--port must be a whole number from 0 to 65535|ERR_USAGE/);
    }
  });

  it('serves the sample folder on a real port to links of each trusted key, refuses a tampered one, and stops on Ctrl-C', async () => {
    const edge = await startEdge([
      '--root',
      SAMPLE_ROOT,
      '--public-key',
      RSA_KEY,
      '--public-key',
      ECDSA_KEY,
      '--port',
      '0',
    ]);
    try {
      assert.match(edge.output(), /for Key-Pair-Id K2JCJMDEHXQW5F, K3ECDSAP256KEY;/);
      const now = new Date();
      for (const key of [RSA, ECDSA]) {
        const url = signUrl({ ...key, url: `${edge.address}/hello.txt`, expires: '5m', now }).url;
        const response = await fetch(url);
        assert.equal(response.status, 200, key.keyPairId);
        assert.deepEqual(Buffer.from(await response.arrayBuffer()), sampleFile('hello.txt'));
        const tampered = await fetch(tamperSignature(url));
        assert.equal(tampered.status, 403);
        assert.equal(tampered.headers.get('x-cfsign-failure'), 'BAD_SIGNATURE');
      }
      const port = new URL(edge.address).port;
      const second = await runCli([
        'edge',
        '--root',
        SAMPLE_ROOT,
        '--public-key',
        RSA_KEY,
        '--port',
        port,
      ]);
      assert.equal(second.code, 2);
      assert.equal(
        second.stderr,
        `cfsign edge: ERR_USAGE: 127.0.0.1:${port} is already in use; choose another --port (see 'cfsign edge --help')\n`,
      );
      assert.doesNotMatch(edge.output(), /Signature=|Expires=/);
    } finally {
      edge.child.kill('SIGINT');
    }
    assert.equal(await edge.exited, 0);
  });
});
