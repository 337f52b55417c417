import assert from 'node:assert/strict';
import {
  copyFileSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { digestToken } from '../../src/config/load-config.ts';
import { verifyCookies, verifyUrl } from '../../src/core/verify.ts';
import { createReloader } from '../../src/server/reload.ts';
import { bearer, MULTI_TENANT_CONFIG, writeConfigFile } from '../helpers/config-file.ts';
import { DISTRIBUTION, ECDSA, fixturePath, RSA, TRUSTED_KEYS } from '../helpers/fixtures.ts';
import { build, NOW } from '../helpers/server.ts';
import { RedisServer } from './rate-limit/redis-server.ts';
import { startLoad, tally, type LoadRequest, type Outcome } from './load.ts';
import { readMetric, startService, type RunningService } from './running-service.ts';

type Client = Parameters<typeof bearer>[0];

/** Limits far above anything a test offers, for tests about something else. */
const UNLIMITED = { perSecond: 1_000_000, burst: 1_000_000 };

function withClientLimits(rule: { perSecond: number; burst: number }) {
  return MULTI_TENANT_CONFIG.clients.map((client) => ({ ...client, rateLimit: rule }));
}

function signOne(address: string, key: string, client: Client = 'broad'): LoadRequest {
  return {
    address,
    path: `/generate-signed-url?object_key=${encodeURIComponent(key)}`,
    headers: bearer(client),
  };
}

function signBatch(address: string, keys: string[], client: Client = 'broad'): LoadRequest {
  return {
    address,
    method: 'POST',
    path: '/v1/signed-urls',
    headers: bearer(client),
    json: { items: keys.map((key) => ({ key })) },
  };
}

function signCookies(address: string): LoadRequest {
  return {
    address,
    method: 'POST',
    path: '/v1/signed-cookies',
    headers: bearer('cookie'),
    json: { resource: 'videos/*' },
  };
}

/**
 * Checks a 200 as a viewer would: every link (or cookie set) in it verifies with the public key
 * named by its own Key-Pair-Id, at `at`. Returns the Key-Pair-Id of each.
 */
function verifyIssued(outcome: Pick<Outcome, 'status' | 'body'>, at = new Date()): string[] {
  assert.equal(outcome.status, 200, outcome.body);
  const verdicts = (() => {
    const options = { keys: TRUSTED_KEYS, now: at };
    const body = JSON.parse(outcome.body ?? '') as {
      signed_url?: string;
      items?: { url: string }[];
      cookies?: Record<string, string>;
    };
    if (body.signed_url !== undefined) return [verifyUrl(body.signed_url, options)];
    if (body.items !== undefined) return body.items.map((item) => verifyUrl(item.url, options));
    assert.ok(body.cookies !== undefined, outcome.body);
    return [verifyCookies(`${DISTRIBUTION}/videos/any.mp4`, body.cookies, options)];
  })();
  return verdicts.map((verdict) => {
    assert.equal(verdict.valid, true, verdict.reason);
    return verdict.keyPairId ?? '';
  });
}

/** Waits, boundedly, until `condition` holds. */
async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    assert.ok(performance.now() < deadline, `${what} within ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** Whether a new TCP connection to `address` is refused (its listener is closed). */
function refusesConnections(address: string): Promise<boolean> {
  const { hostname, port } = new URL(address);
  return new Promise((resolve) => {
    const probe = connect({ host: hostname, port: Number(port) });
    probe.once('connect', () => {
      probe.destroy();
      resolve(false);
    });
    probe.once('error', () => {
      resolve(true);
    });
  });
}

/** The exit code, or 'still running' after `timeoutMs`: a service that never exits fails. */
function exitWithin(service: RunningService, timeoutMs: number): Promise<number | null | string> {
  return Promise.race([service.exited, sleep(timeoutMs, 'still running', { ref: false })]);
}

function stopAtEnd(service: RunningService): () => void {
  return () => service.child.kill('SIGKILL');
}

describe('SIGTERM under load', () => {
  it('finishes every request in flight, fails readiness at once, and exits 0 within 10 s', async (t) => {
    const config = writeConfigFile(t, {
      ...MULTI_TENANT_CONFIG,
      clients: withClientLimits(UNLIMITED),
      rateLimit: { ip: UNLIMITED },
      server: { shutdownDelaySeconds: 2 },
    });
    const service = await startService({ CFSIGN_CONFIG: config, HOST: '127.0.0.1' });
    t.after(stopAtEnd(service));
    assert.equal((await fetch(`${service.address}/readyz`)).status, 200);
    const keys = Array.from({ length: 10 }, (_, index) => `videos/${index}.mp4`);
    // Single links and batches of ten, so that responses of both sizes are in flight.
    const load = startLoad(t, 32, (worker, sequence) =>
      worker % 4 === 0
        ? signBatch(service.address, keys)
        : signOne(service.address, `videos/${sequence}.mp4`),
    );
    await until(() => load.outcomes.length >= 200, 'the service is under load');

    const signalledAt = performance.now();
    service.child.kill('SIGTERM');
    // The service fails readiness as it handles the signal, before it logs the shutdown.
    await until(
      () => service.logs().some((line) => String(line['msg']).startsWith('shutting down')),
      'the shutdown begins',
    );
    const probe = await fetch(`${service.address}/readyz`);
    const notReadyAt = performance.now();
    assert.equal(probe.status, 503);
    assert.deepEqual(await probe.json(), { status: 'draining' });
    // A load balancer notices a failed probe a little later; the drain delay covers that lag.
    await sleep(250);
    const outcomes = await load.stop();
    const code = await exitWithin(service, 12_000);
    const exitedAfterMs = performance.now() - signalledAt;

    const inFlightAtSignal = outcomes.filter(
      (outcome) => outcome.sentAt < signalledAt && outcome.doneAt > signalledAt,
    ).length;
    assert.ok(inFlightAtSignal >= 16, `${inFlightAtSignal} requests in flight at SIGTERM`);
    assert.deepEqual(
      outcomes.filter((outcome) => outcome.failure !== undefined || outcome.status !== 200),
      [],
      `every request got its whole response: ${JSON.stringify(tally(outcomes))}`,
    );
    for (const outcome of outcomes) verifyIssued(outcome);
    const sentWhileNotReady = outcomes.filter((outcome) => outcome.sentAt > notReadyAt).length;
    assert.ok(sentWhileNotReady > 0, 'requests sent after readiness failed were served');
    assert.equal(code, 0);
    assert.ok(exitedAfterMs < 10_000, `exited ${Math.round(exitedAfterMs)} ms after SIGTERM`);
    t.diagnostic(
      `${outcomes.length} requests, ${inFlightAtSignal} in flight at SIGTERM, ` +
        `${sentWhileNotReady} sent after /readyz failed ` +
        `(${Math.round(notReadyAt - signalledAt)} ms after the signal); ` +
        `exit 0 after ${Math.round(exitedAfterMs)} ms`,
    );
  });

  it('answers a request that was half sent when the listener closed with its link, not a bare 503', async (t) => {
    const config = writeConfigFile(t, {
      ...MULTI_TENANT_CONFIG,
      server: { shutdownDelaySeconds: 0 },
    });
    const service = await startService({ CFSIGN_CONFIG: config, HOST: '127.0.0.1' });
    t.after(stopAtEnd(service));
    const { hostname, port } = new URL(service.address);
    const socket = connect({ host: hostname, port: Number(port) });
    t.after(() => socket.destroy());
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write(
      `GET /generate-signed-url?object_key=videos/a.mp4 HTTP/1.1\r\nHost: ${hostname}\r\n`,
    );
    // A request sent after the first half and answered means the service has read that half:
    // the connection is now mid-request, not idle.
    assert.equal((await fetch(`${service.address}/healthz`)).status, 200);
    service.child.kill('SIGTERM');
    await until(() => /"msg":"shutting down/.test(service.output()), 'the shutdown begins');
    await until(() => refusesConnections(service.address), 'the listener closes');
    socket.write(`Authorization: ${bearer('broad').authorization}\r\n\r\n`);
    await Promise.race([closed, sleep(5_000, undefined, { ref: false })]);
    const [head = '', body = ''] = received.split('\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 200 /);
    assert.match(head, /\r\nconnection: close\r\n/i);
    assert.match(head, /\r\ncache-control: no-store\r\n/i);
    verifyIssued({ status: 200, body });
    assert.equal(await exitWithin(service, 12_000), 0);
  });
});

describe('the log under sustained signing', () => {
  it('keeps up with the links issued while the signing pool stays full, instead of piling up in memory', async (t) => {
    const config = writeConfigFile(t, {
      ...MULTI_TENANT_CONFIG,
      clients: withClientLimits(UNLIMITED),
      rateLimit: { ip: UNLIMITED },
    });
    const service = await startService({ CFSIGN_CONFIG: config, HOST: '127.0.0.1' });
    t.after(stopAtEnd(service));
    // Five batches of 100 in flight keep about 500 signatures queued on libuv's pool, where
    // the log's own writes wait their turn.
    const load = startLoad(t, 5, (worker, sequence) =>
      signBatch(
        service.address,
        Array.from({ length: 100 }, (_, index) => `videos/${worker}-${sequence}-${index}.mp4`),
      ),
    );
    await sleep(3_000);
    // Read while the load still runs: a backlog drains as soon as the pool is idle.
    const issued = load.outcomes.filter((outcome) => outcome.status === 200).length * 100;
    const audited = service.logs().filter((line) => line['audit'] === 'issued').length;
    const outcomes = await load.stop();
    assert.ok(issued >= 500, `${issued} links issued in 3 s`);
    assert.deepEqual(tally(outcomes), { 200: outcomes.length });
    // Each link's audit line is written before its response is sent; only the lines of the
    // last pool turn may still be on their way.
    assert.ok(
      audited >= issued / 2,
      `${audited} audit lines had reached stdout when ${issued} links had been issued`,
    );
  });
});

describe('three times the signing capacity offered', () => {
  it('answers only 200, 429 and 503, each refusal with Retry-After, and every link verifies', async (t) => {
    const maxSigningInFlight = 6;
    // One client is held to a low rate, so it meets its limit; the others are not, so their
    // signing keeps the gate full.
    const limited = { perSecond: 20, burst: 20 };
    const config = writeConfigFile(t, {
      ...MULTI_TENANT_CONFIG,
      clients: MULTI_TENANT_CONFIG.clients.map((client) => ({
        ...client,
        rateLimit: client.name === 'broad' ? limited : UNLIMITED,
      })),
      rateLimit: { ip: UNLIMITED },
      server: { maxSigningInFlight, maxBatchSize: 4 },
    });
    const service = await startService({ CFSIGN_CONFIG: config, HOST: '127.0.0.1' });
    t.after(stopAtEnd(service));
    const batch = ['videos/a.mp4', 'videos/b.mp4', 'videos/c.mp4', 'videos/d.mp4'];
    // 3 batches of 4, 3 single links and 3 cookie sets at once: 18 signatures, 3 × the cap.
    const offered = (worker: number, sequence: number): LoadRequest => {
      switch (worker % 3) {
        case 0:
          return { ...signBatch(service.address, batch), tag: 'limited' };
        case 1:
          return signOne(service.address, `tenants/acme/${sequence}.mp4`, 'acme');
        default:
          return signCookies(service.address);
      }
    };
    const startedAt = performance.now();
    const load = startLoad(t, 9, offered);
    const health: number[] = [];
    const healthLatencyMs: number[] = [];
    while (performance.now() - startedAt < 2_000) {
      const probedAt = performance.now();
      health.push((await fetch(`${service.address}/healthz`)).status);
      healthLatencyMs.push(performance.now() - probedAt);
      await sleep(100);
    }
    const outcomes = await load.stop();
    const elapsedSeconds = (performance.now() - startedAt) / 1000;

    const counts = tally(outcomes);
    assert.deepEqual(
      Object.keys(counts).sort(),
      ['200', '429', '503'],
      `only 200, 429 and 503, and each of them: ${JSON.stringify(counts)}`,
    );
    let limitedSignatures = 0;
    let limitedOffered = 0;
    for (const outcome of outcomes) {
      if (outcome.request.tag === 'limited') limitedOffered += batch.length;
      const headers = outcome.headers ?? {};
      assert.equal(headers['cache-control'], 'no-store');
      if (outcome.status === 200) {
        const links = verifyIssued(outcome).length;
        if (outcome.request.tag === 'limited') limitedSignatures += links;
        continue;
      }
      const retryAfter = Number(headers['retry-after']);
      assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, JSON.stringify(headers));
      const { error, message } = JSON.parse(outcome.body ?? '') as {
        error: string;
        message: string;
      };
      assert.equal(error, outcome.status === 429 ? 'ERR_RATE_LIMITED' : 'ERR_OVERLOADED');
      if (outcome.status === 503) assert.equal(message, 'internal error');
    }
    // The limited client asked for more than three times what its bucket allows, and got no
    // more than the bucket allows.
    const allowed = limited.burst + limited.perSecond * elapsedSeconds;
    assert.ok(
      limitedOffered >= 3 * allowed,
      `${limitedOffered} signatures asked, ${allowed} allowed`,
    );
    assert.ok(limitedSignatures <= allowed, `${limitedSignatures} signatures > ${allowed}`);
    assert.ok(
      health.every((status) => status === 200),
      String(health),
    );
    t.diagnostic(
      `${JSON.stringify(counts)} in ${elapsedSeconds.toFixed(1)} s; the limited client asked ` +
        `${limitedOffered} signatures, got ${limitedSignatures}, allowed ${Math.floor(allowed)}; ` +
        `/healthz slowest ` +
        `${Math.round(Math.max(...healthLatencyMs))} ms`,
    );
  });
});

/** The media distribution's two keys, copied into a folder of their own that a test may spoil. */
function ownKeyFiles(t: TestContext): { rsa: string; ecdsa: string } {
  const directory = mkdtempSync(join(tmpdir(), 'cfsign-keys-'));
  t.after(() => {
    rmSync(directory, { recursive: true, force: true });
  });
  const rsa = join(directory, 'media-rsa.pem');
  const ecdsa = join(directory, 'media-ec.pem');
  copyFileSync(fixturePath('rsa-2048.pkcs8.pem'), rsa);
  copyFileSync(fixturePath('ec-p256.pkcs8.pem'), ecdsa);
  return { rsa, ecdsa };
}

function withKeyFiles(files: { rsa: string; ecdsa: string }) {
  const [media, downloads] = MULTI_TENANT_CONFIG.distributions;
  assert.ok(media !== undefined && downloads !== undefined);
  const keys = [
    { id: RSA.keyPairId, privateKeyFile: files.rsa },
    { id: ECDSA.keyPairId, privateKeyFile: files.ecdsa },
  ];
  return { ...MULTI_TENANT_CONFIG, distributions: [{ ...media, keys }, downloads] };
}

const SPOILERS: [string, (file: string) => void][] = [
  [
    'renamed away',
    (file) => {
      renameSync(file, `${file}.old`);
    },
  ],
  [
    'deleted',
    (file) => {
      rmSync(file);
    },
  ],
  [
    'replaced by garbage',
    (file) => {
      writeFileSync(file, '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n');
    },
  ],
  [
    'cut short by a write in progress',
    (file) => {
      const pem = readFileSync(file, 'utf8');
      writeFileSync(file, pem.slice(0, pem.length / 2));
    },
  ],
];

describe('a reload that finds a key file missing or spoiled', () => {
  for (const [what, spoil] of SPOILERS) {
    for (const role of ['active', 'listed'] as const) {
      it(`keeps the old keys when the ${role} key file was ${what}: one line naming the setting, no path or PEM, counted`, async (t) => {
        const files = ownKeyFiles(t);
        const env = { CFSIGN_CONFIG: writeConfigFile(t, withKeyFiles(files)) };
        const server = await build(t, env);
        const reloader = createReloader(server.app, env, { watchFiles: false });
        t.after(() => {
          reloader.close();
        });
        const signedKeyId = async (): Promise<string | undefined> => {
          const response = await server.app.inject({
            url: '/generate-signed-url?object_key=videos/a.mp4',
            headers: bearer('broad'),
          });
          assert.equal(response.statusCode, 200, response.body);
          const link = response.json<{ signed_url: string }>().signed_url;
          const verdict = verifyUrl(link, { keys: TRUSTED_KEYS, now: NOW });
          assert.equal(verdict.valid, true, verdict.reason);
          return verdict.keyPairId;
        };
        const failures = async (): Promise<string | undefined> => {
          const text = (await server.app.inject({ url: '/metrics' })).body;
          return /^cfsign_reload_failures_total (\d+)$/m.exec(text)?.[1];
        };
        const file = role === 'active' ? files.rsa : files.ecdsa;
        const id = role === 'active' ? RSA.keyPairId : ECDSA.keyPairId;
        // What the key file held: its base64 lines must never reach a log line.
        const pemLines = readFileSync(file, 'utf8')
          .split('\n')
          .filter((text) => /^[A-Za-z0-9+/=]{16,}$/.test(text));
        assert.equal(await signedKeyId(), RSA.keyPairId);

        spoil(file);
        const before = server.logs.length;
        assert.equal(reloader.reload('SIGHUP'), false);
        const lines = server.logs.slice(before);
        assert.equal(lines.length, 1, JSON.stringify(lines));
        const [line] = lines;
        assert.equal(line?.['level'], 50);
        assert.equal(line['msg'], 'reload refused; keeping the previous configuration and keys');
        assert.match(
          JSON.stringify(line['problems']),
          new RegExp(`distributions\\.media\\.keys\\.${id}`),
        );
        for (const secret of [file, dirname(file), basename(file), ...pemLines]) {
          assert.ok(!server.logText().includes(secret), `the log holds ${secret}`);
        }
        assert.equal(await failures(), '1');
        assert.equal(await signedKeyId(), RSA.keyPairId, 'the old key still signs');
        assert.equal(reloader.reload('SIGHUP'), false);
        assert.equal(await failures(), '2', 'each refused reload is counted');

        copyFileSync(
          fixturePath(role === 'active' ? 'rsa-2048.pkcs8.pem' : 'ec-p256.pkcs8.pem'),
          file,
        );
        assert.equal(reloader.reload('SIGHUP'), true, 'a reload succeeds once the file is back');
      });
    }
  }
});

describe('a reload that finds the configuration file missing', () => {
  for (const [what, spoil] of SPOILERS.slice(0, 2)) {
    it(`keeps the old configuration and keys when the file was ${what}: one line naming CFSIGN_CONFIG, no path, counted`, async (t) => {
      const path = writeConfigFile(t, MULTI_TENANT_CONFIG);
      const env = { CFSIGN_CONFIG: path };
      const server = await build(t, env);
      const reloader = createReloader(server.app, env, { watchFiles: false });
      t.after(() => {
        reloader.close();
      });
      spoil(path);
      const before = server.logs.length;
      assert.equal(reloader.reload('SIGHUP'), false);
      const lines = server.logs.slice(before);
      assert.equal(lines.length, 1, JSON.stringify(lines));
      assert.match(
        JSON.stringify(lines[0]?.['problems']),
        /CFSIGN_CONFIG: the file cannot be read/,
      );
      for (const secret of [path, dirname(path), basename(path)]) {
        assert.ok(!server.logText().includes(secret), `the log holds ${secret}`);
      }
      const text = (await server.app.inject({ url: '/metrics' })).body;
      assert.match(text, /^cfsign_reload_failures_total 1$/m);
      // The clients and keys of the old configuration still sign.
      const response = await server.app.inject({
        url: '/generate-signed-url?object_key=tenants/acme/a.mp4',
        headers: bearer('acme'),
      });
      assert.equal(response.statusCode, 200, response.body);
      verifyIssued({ status: 200, body: response.body }, NOW);
    });
  }
});

/** Replaces a file whole, as editors and secret mounts do, so no reader sees half of it. */
function replaceFile(path: string, text: string): void {
  writeFileSync(`${path}.next`, text);
  renameSync(`${path}.next`, path);
}

describe('key rotation under load', () => {
  it('fails no request while activeKey switches back and forth, and every link verifies with the key it names', async (t) => {
    const configFor = (activeKey: string) => {
      const [media, downloads] = MULTI_TENANT_CONFIG.distributions;
      assert.ok(media !== undefined && downloads !== undefined);
      return {
        ...MULTI_TENANT_CONFIG,
        distributions: [{ ...media, activeKey }, downloads],
        clients: withClientLimits(UNLIMITED),
        rateLimit: { ip: UNLIMITED },
      };
    };
    const config = writeConfigFile(t, configFor(RSA.keyPairId));
    const service = await startService({ CFSIGN_CONFIG: config, HOST: '127.0.0.1' });
    t.after(stopAtEnd(service));
    const batch = ['videos/a.mp4', 'videos/b.mp4', 'videos/c.mp4'];
    const load = startLoad(t, 16, (worker, sequence) => {
      switch (worker % 3) {
        case 0:
          return signBatch(service.address, batch);
        case 1:
          return signOne(service.address, `videos/${sequence}.mp4`);
        default:
          return signCookies(service.address);
      }
    });
    const isReload = (line: Record<string, unknown>) =>
      line['msg'] === 'configuration and keys reloaded';
    const activeKeyOf = (line: Record<string, unknown>) =>
      (line['distributions'] as { activeKey: string }[])[0]?.activeKey;

    /** Per key phase: the key, when its reload was seen, when the next switch was asked. */
    const phases: { key: string; seenAt: number; endedAt: number }[] = [
      { key: RSA.keyPairId, seenAt: 0, endedAt: Number.POSITIVE_INFINITY },
    ];
    await until(() => load.outcomes.length >= 50, 'the service is under load');
    for (let round = 1; round <= 6; round += 1) {
      const key = round % 2 === 1 ? ECDSA.keyPairId : RSA.keyPairId;
      const reloadsBefore = service.logs().filter(isReload).length;
      const previous = phases.at(-1);
      assert.ok(previous !== undefined);
      previous.endedAt = performance.now();
      replaceFile(config, stringify(configFor(key)));
      // Odd rounds also send SIGHUP; even rounds rely on the file watcher alone.
      if (round % 2 === 1) service.child.kill('SIGHUP');
      await until(
        () =>
          service
            .logs()
            .filter(isReload)
            .slice(reloadsBefore)
            .some((line) => activeKeyOf(line) === key),
        `the reload to ${key}`,
      );
      const seenAt = performance.now();
      phases.push({ key, seenAt, endedAt: Number.POSITIVE_INFINITY });
      await until(
        () => load.outcomes.filter((outcome) => outcome.sentAt > seenAt).length >= 30,
        'requests under the new key',
      );
    }
    const outcomes = await load.stop();

    assert.deepEqual(
      outcomes.filter((outcome) => outcome.failure !== undefined || outcome.status !== 200),
      [],
      `no request failed: ${JSON.stringify(tally(outcomes))}`,
    );
    const seen = new Set<string>();
    let checkedInPhase = 0;
    for (const outcome of outcomes) {
      const ids = new Set(verifyIssued(outcome));
      assert.equal(ids.size, 1, 'one key signs every link of a request');
      const [id = ''] = ids;
      seen.add(id);
      // A request sent after a switch was seen, and answered before the next was asked, has
      // the new key: the swap is whole and immediate.
      const phase = phases.find(
        (candidate) => outcome.sentAt > candidate.seenAt && outcome.doneAt < candidate.endedAt,
      );
      if (phase !== undefined) {
        assert.equal(id, phase.key);
        checkedInPhase += 1;
      }
    }
    assert.deepEqual([...seen].sort(), [RSA.keyPairId, ECDSA.keyPairId].sort());
    const reasons = new Set(
      service
        .logs()
        .filter(isReload)
        .map((line) => line['reason']),
    );
    assert.deepEqual([...reasons].sort(), ['SIGHUP', 'file change']);
    assert.equal(await readMetric(service.address, 'cfsign_reload_failures_total'), 0);
    t.diagnostic(
      `${outcomes.length} requests over 6 switches, ${checkedInPhase} inside one key phase; ` +
        `${service.logs().filter(isReload).length} reloads`,
    );
  });
});

describe('Redis stopped and restarted under load, two instances', () => {
  it('never answers 5xx, falls back within a second, and shares the limits again once Redis is back', async (t) => {
    const redis = await RedisServer.start();
    t.after(() => redis.stop());
    // A rate so slow that no token comes back during the test: every count below is exact.
    const never = 0.001;
    const probes = Array.from({ length: 40 }, (_, index) => `probe${index}`);
    const bursts: Record<string, number> = {
      loaded: 20,
      before: 10,
      after: 10,
      ...Object.fromEntries(probes.map((probe) => [probe, 1])),
    };
    const token = (client: string) => `tok-${client}-0123456789abcdef`;
    const config = writeConfigFile(t, {
      distributions: MULTI_TENANT_CONFIG.distributions,
      clients: Object.entries(bursts).map(([name, burst]) => ({
        name,
        tokenSha256: digestToken(token(name)),
        allow: [{ distribution: 'media', prefixes: ['videos/'] }],
        rateLimit: { perSecond: never, burst },
      })),
      rateLimit: { store: redis.url, ip: UNLIMITED },
      server: { maxBatchSize: 1 },
    });
    const instances = [
      await startService({ CFSIGN_CONFIG: config, HOST: '127.0.0.1' }),
      await startService({ CFSIGN_CONFIG: config, HOST: '127.0.0.1' }),
    ];
    for (const instance of instances) t.after(stopAtEnd(instance));
    const [first, second] = instances;
    assert.ok(first !== undefined && second !== undefined);
    const sign = async (instance: RunningService, client: string): Promise<number> => {
      const url = `${instance.address}/generate-signed-url?object_key=videos/x`;
      const response = await fetch(url, { headers: { authorization: `Bearer ${token(client)}` } });
      await response.arrayBuffer();
      assert.ok(response.status === 200 || response.status === 429, String(response.status));
      return response.status;
    };
    /**
     * Whether both instances draw on one bucket in Redis right now: a bucket of one spent on
     * the first is empty on the second. Each try uses a client of its own.
     */
    const sharing = async (): Promise<boolean> => {
      const probe = probes.shift();
      assert.ok(probe !== undefined, 'a probe client is left');
      const onFirst = await sign(first, probe);
      const onSecond = await sign(second, probe);
      if (onFirst === 200 && onSecond === 429) return true;
      await sleep(100);
      return false;
    };
    /** 2 × burst requests, alternating between the instances: how many passed. */
    const passedAlternating = async (client: 'before' | 'after'): Promise<number> => {
      let passed = 0;
      for (let i = 0; i < 2 * (bursts[client] ?? 0); i += 1) {
        if ((await sign(i % 2 === 0 ? first : second, client)) === 200) passed += 1;
      }
      return passed;
    };

    // On a busy machine a limiter's ready check can outlast its command timeout; it then
    // reconnects, so the start is when both are seen sharing.
    await until(sharing, 'both instances share the limits');
    assert.equal(await passedAlternating('before'), bursts['before'], 'one bucket for both');
    const load = startLoad(t, 16, (worker, sequence) => ({
      ...signOne(instances[worker % 2]?.address ?? '', `videos/${sequence}.mp4`),
      headers: { authorization: `Bearer ${token('loaded')}` },
      tag: String(worker % 2),
    }));
    await until(() => load.outcomes.length >= 200, 'the instances are under load');
    const killedAt = performance.now();
    await redis.kill();
    await until(
      () => load.outcomes.filter((outcome) => outcome.sentAt > killedAt).length >= 400,
      'load while Redis is down',
    );
    const restartedAt = performance.now();
    await redis.restart();
    await until(sharing, 'both instances share the limits again');
    const sharingAgainAfterMs = performance.now() - restartedAt;
    // The restarted Redis holds a full bucket that both instances draw from, under load.
    assert.equal(await passedAlternating('after'), bursts['after'], 'one bucket for both again');
    const outcomes = await load.stop();

    assert.deepEqual(
      Object.keys(tally(outcomes)).filter((status) => status !== '200' && status !== '429'),
      [],
      `never 5xx nor a failed request: ${JSON.stringify(tally(outcomes))}`,
    );
    for (const outcome of outcomes) {
      if (outcome.status === 200) verifyIssued(outcome);
      else assert.ok(Number(outcome.headers?.['retry-after']) >= 1);
    }
    const passed = outcomes.filter((outcome) => outcome.status === 200);
    // Under load before the outage, the two instances drew on one bucket of 20.
    assert.equal(passed.filter((outcome) => outcome.doneAt < killedAt).length, bursts['loaded']);
    const fallbackMs: number[] = [];
    for (const instance of ['0', '1']) {
      // While Redis is down each instance limits alone, with a full bucket of its own.
      const during = passed.filter(
        (outcome) =>
          outcome.request.tag === instance &&
          outcome.doneAt > killedAt &&
          outcome.sentAt < restartedAt,
      );
      assert.ok(
        during.length >= 1 && during.length <= (bursts['loaded'] ?? 0),
        `${during.length} passed`,
      );
      const firstFallback = Math.min(...during.map((outcome) => outcome.doneAt)) - killedAt;
      assert.ok(firstFallback < 1_000, `instance ${instance} fell back after ${firstFallback} ms`);
      fallbackMs.push(Math.round(firstFallback));
    }
    for (const instance of instances) {
      // One warning in the 30 s interval (a hiccup before the outage may have used it up).
      const warnings = instance.logs().filter((line) => /is unavailable/.test(String(line['msg'])));
      assert.equal(warnings.length, 1, 'one warning per interval');
      assert.equal(warnings[0]?.['level'], 40);
    }
    t.diagnostic(
      `${JSON.stringify(tally(outcomes))}; fell back after ${fallbackMs.join(' and ')} ms; ` +
        `sharing again ${Math.round(sharingAgainAfterMs)} ms after the restart began`,
    );
  });
});
