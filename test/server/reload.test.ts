import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { stringify } from 'yaml';
import { verifyUrl } from '../../src/core/verify.ts';
import { createReloader } from '../../src/server/reload.ts';
import { ECDSA, fixturePath, OTHER_RSA, RSA } from '../helpers/fixtures.ts';
import { bearer, MULTI_TENANT_CONFIG, writeConfigFile } from '../helpers/config-file.ts';
import { build, NOW, type TestServer } from '../helpers/server.ts';

const KEYS = new Map([
  [RSA.keyPairId, RSA.publicKey],
  [ECDSA.keyPairId, ECDSA.publicKey],
]);

function withActiveKey(activeKey: string, keyFile?: string): typeof MULTI_TENANT_CONFIG {
  const [media, downloads] = MULTI_TENANT_CONFIG.distributions;
  assert.ok(media && downloads);
  const keys =
    keyFile === undefined
      ? media.keys
      : [{ id: RSA.keyPairId, privateKeyFile: keyFile }, ...media.keys.slice(1)];
  return { ...MULTI_TENANT_CONFIG, distributions: [{ ...media, keys, activeKey }, downloads] };
}

async function signedKeyId(server: TestServer): Promise<string> {
  const response = await server.app.inject({
    url: '/generate-signed-url?object_key=videos/a.mp4',
    headers: bearer('broad'),
  });
  assert.equal(response.statusCode, 200, response.body);
  const verdict = verifyUrl(response.json<{ signed_url: string }>().signed_url, {
    keys: KEYS,
    now: NOW,
  });
  assert.equal(verdict.valid, true, verdict.reason);
  return verdict.keyPairId ?? '';
}

async function setup(t: TestContext, config = withActiveKey(RSA.keyPairId)) {
  const path = writeConfigFile(t, config);
  const env = { CFSIGN_CONFIG: path };
  const server = await build(t, env);
  return { server, path, env };
}

async function metric(server: TestServer, name: string): Promise<string | undefined> {
  const text = (await server.app.inject({ url: '/metrics' })).body;
  return new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1];
}

describe('reload', () => {
  it('switches the active key and its Key-Pair-Id together', async (t) => {
    const { server, path, env } = await setup(t);
    const reloader = createReloader(server.app, env, { watchFiles: false });
    t.after(() => {
      reloader.close();
    });
    assert.equal(await signedKeyId(server), RSA.keyPairId);
    writeFileSync(path, stringify(withActiveKey(ECDSA.keyPairId)));
    assert.equal(reloader.reload('test'), true);
    assert.equal(await signedKeyId(server), ECDSA.keyPairId);
    assert.equal(await metric(server, 'cfsign_reloads_total'), '1');
  });

  it('keeps the previous state when the new configuration is invalid, saying why without a path', async (t) => {
    const { server, path, env } = await setup(t);
    const reloader = createReloader(server.app, env, { watchFiles: false });
    t.after(() => {
      reloader.close();
    });
    writeFileSync(path, 'distributions: [\n');
    assert.equal(reloader.reload('test'), false);
    assert.equal(await signedKeyId(server), RSA.keyPairId);
    writeFileSync(path, stringify(withActiveKey('KNOTLISTED')));
    assert.equal(reloader.reload('test'), false);
    assert.equal(await metric(server, 'cfsign_reload_failures_total'), '2');
    const refusals = server.logs.filter(
      (line) => line['msg'] === 'reload refused; keeping the previous configuration and keys',
    );
    assert.equal(refusals.length, 2);
    assert.match(JSON.stringify(refusals[1]), /activeKey: 'KNOTLISTED' is not one of its keys/);
    assert.ok(!server.logText().includes(path) && !server.logText().includes(dirname(path)));
  });

  it('refuses a key file that no longer holds a usable key, keeping the old key', async (t) => {
    const keyDirectory = dirname(writeConfigFile(t, {}));
    const keyFile = join(keyDirectory, 'media.pem');
    copyFileSync(fixturePath('rsa-2048.pkcs8.pem'), keyFile);
    const { server, env } = await setup(t, withActiveKey(RSA.keyPairId, keyFile));
    const reloader = createReloader(server.app, env, { watchFiles: false });
    t.after(() => {
      reloader.close();
    });
    copyFileSync(fixturePath('rsa-1024.pem'), keyFile);
    assert.equal(reloader.reload('test'), false);
    assert.match(server.logText(), /RSA-1024/);
    assert.equal(await signedKeyId(server), RSA.keyPairId);
  });

  it('fails no request while reloading under load', async (t) => {
    const { server, path, env } = await setup(t);
    const reloader = createReloader(server.app, env, { watchFiles: false });
    t.after(() => {
      reloader.close();
    });
    const requests = Array.from({ length: 120 }, () => signedKeyId(server));
    for (let round = 0; round < 12; round += 1) {
      writeFileSync(
        path,
        stringify(withActiveKey(round % 2 === 0 ? ECDSA.keyPairId : RSA.keyPairId)),
      );
      assert.equal(reloader.reload('load test'), true);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const ids = await Promise.all(requests);
    assert.equal(ids.length, 120);
    assert.ok(ids.every((id) => id === RSA.keyPairId || id === ECDSA.keyPairId));
  });

  it('reloads by itself when the configuration file changes', async (t) => {
    const { server, path, env } = await setup(t);
    const reloader = createReloader(server.app, env, { watchFiles: true });
    t.after(() => {
      reloader.close();
    });
    writeFileSync(path, stringify(withActiveKey(ECDSA.keyPairId)));
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && (await metric(server, 'cfsign_reloads_total')) !== '1') {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(await signedKeyId(server), ECDSA.keyPairId);
  });
});

describe('reload of keys', () => {
  it('reloads by itself when a key file changes, signing with what the file now holds', async (t) => {
    const keyFile = join(dirname(writeConfigFile(t, {})), 'media.pem');
    copyFileSync(fixturePath('rsa-2048.pkcs8.pem'), keyFile);
    const { server, env } = await setup(t, withActiveKey(RSA.keyPairId, keyFile));
    const reloader = createReloader(server.app, env, { watchFiles: true });
    t.after(() => {
      reloader.close();
    });
    assert.equal(await signedKeyId(server), RSA.keyPairId);
    // The secret behind the same Key-Pair-Id is replaced, as a secret mount update would.
    copyFileSync(fixturePath('rsa-2048-other.pem'), keyFile);
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && (await metric(server, 'cfsign_reloads_total')) !== '1') {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const response = await server.app.inject({
      url: '/generate-signed-url?object_key=videos/a.mp4',
      headers: bearer('broad'),
    });
    const link = response.json<{ signed_url: string }>().signed_url;
    const withNewKey = verifyUrl(link, {
      keys: new Map([[RSA.keyPairId, OTHER_RSA.publicKey]]),
      now: NOW,
    });
    assert.equal(withNewKey.valid, true, withNewKey.reason);
  });

  it('still verifies the links of the previous active key after a rotation', async (t) => {
    const { server, path, env } = await setup(t);
    const reloader = createReloader(server.app, env, { watchFiles: false });
    t.after(() => {
      reloader.close();
    });
    const before = await server.app.inject({
      url: '/generate-signed-url?object_key=videos/a.mp4',
      headers: bearer('broad'),
    });
    const link = before.json<{ signed_url: string }>().signed_url;
    writeFileSync(path, stringify(withActiveKey(ECDSA.keyPairId)));
    assert.equal(reloader.reload('test'), true);
    assert.equal(await signedKeyId(server), ECDSA.keyPairId);
    const verdict = await server.app.inject({
      method: 'POST',
      url: '/v1/verify',
      headers: bearer('broad'),
      payload: { url: link, at: NOW.toISOString() },
    });
    assert.equal(verdict.statusCode, 200, verdict.body);
    const body = verdict.json<{ valid: boolean; keyPairId: string }>();
    assert.equal(body.valid, true);
    assert.equal(body.keyPairId, RSA.keyPairId);
  });
});

describe('reload of settings read once', () => {
  it('says which changed settings need a restart, and still reloads keys and clients', async (t) => {
    const { server, path, env } = await setup(t);
    const reloader = createReloader(server.app, env, { watchFiles: false });
    t.after(() => {
      reloader.close();
    });
    writeFileSync(
      path,
      stringify({ ...withActiveKey(ECDSA.keyPairId), server: { maxBatchSize: 5 } }),
    );
    assert.equal(reloader.reload('test'), true);
    const warning = server.logs.find((line) =>
      /take effect only on restart/.test(String(line['msg'])),
    );
    assert.deepEqual(warning?.['settings'], ['maxBatchSize']);
    assert.equal(await signedKeyId(server), ECDSA.keyPairId);
  });
});
