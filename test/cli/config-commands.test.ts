import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Value } from 'typebox/value';
import { parse } from 'yaml';
import { digestToken, loadConfig } from '../../src/config/load-config.ts';
import { ConfigFileSchema } from '../../src/config/service-config.ts';
import { runCli } from '../helpers/cli.ts';
import { MULTI_TENANT_CONFIG, writeConfigFile } from '../helpers/config-file.ts';
import { readFileSync } from 'node:fs';

describe('cfsign config schema', () => {
  it('prints the JSON Schema that the example configuration satisfies', async () => {
    const result = await runCli(['config', 'schema']);
    assert.equal(result.code, 0);
    const schema = JSON.parse(result.stdout) as {
      title: string;
      properties: Record<string, unknown>;
    };
    assert.match(schema.title, /CFSIGN_CONFIG/);
    assert.deepEqual(Object.keys(schema.properties).sort(), [
      'auth',
      'clients',
      'distributions',
      'rateLimit',
      'server',
    ]);
    const example: unknown = parse(
      readFileSync(new URL('../../examples/cfsign.config.yaml', import.meta.url), 'utf8'),
    );
    assert.equal(Value.Check(ConfigFileSchema, example), true);
  });
});

describe('cfsign config check', () => {
  it('says ok and loads every key of a valid file', async (t) => {
    const result = await runCli(['config', 'check', writeConfigFile(t, MULTI_TENANT_CONFIG)]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      'ok: 2 distribution(s) (media, downloads), 3 client(s), keys loaded: K2JCJMDEHXQW5F, K3ECDSAP256KEY, K3ECDSAP256KEY\n',
    );
  });

  it('prints one line per problem and exits 2', async (t) => {
    const broken = { distributions: [{ name: 'x', url: 'ftp://nope', keys: [{ id: 'K1' }] }] };
    const result = await runCli(['config', 'check', writeConfigFile(t, broken)]);
    assert.equal(result.code, 2);
    const lines = result.stderr.trimEnd().split('\n');
    assert.ok(lines.length >= 2, result.stderr);
    assert.ok(lines.every((line) => line.startsWith('cfsign config check: ERR_CONFIG_INVALID: ')));
  });
});

describe('cfsign token create', () => {
  it('prints a fresh token once, with the digest the configuration stores', async () => {
    const first = await runCli(['token', 'create', '--client', 'web', '--json']);
    const second = await runCli(['token', 'create', '--client', 'web', '--json']);
    const a = JSON.parse(first.stdout) as { client: string; token: string; tokenSha256: string };
    const b = JSON.parse(second.stdout) as { token: string };
    assert.equal(a.client, 'web');
    assert.match(a.token, /^cfs_[A-Za-z0-9_-]{43}$/);
    assert.notEqual(a.token, b.token);
    assert.equal(a.tokenSha256, digestToken(a.token));
  });

  it('prints a snippet whose digest authenticates the token', async (t) => {
    const result = await runCli(['token', 'create', '--client', 'web']);
    const token = /: (cfs_\S+)/.exec(result.stdout)?.[1] ?? '';
    const digest = /tokenSha256: ([0-9a-f]{64})/.exec(result.stdout)?.[1] ?? '';
    assert.equal(digest, digestToken(token));
    const config = loadConfig({
      CFSIGN_CONFIG: writeConfigFile(t, {
        ...MULTI_TENANT_CONFIG,
        clients: [{ name: 'web', tokenSha256: digest, allow: [{ distribution: 'media' }] }],
      }),
    });
    assert.equal(config.clients[0]?.tokenSha256, digestToken(token));
  });

  it('refuses a missing or odd client name', async () => {
    assert.equal((await runCli(['token', 'create'])).code, 2);
    assert.equal((await runCli(['token', 'create', '--client', 'a b'])).code, 2);
  });
});
