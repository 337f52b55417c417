import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SignerError } from '../../src/errors.ts';
import { loadConfig, type Environment } from '../../src/config/load-config.ts';
import { DISTRIBUTION, fixturePath, fixturePem, RSA } from '../helpers/fixtures.ts';
import { loadKeyrings } from '../../src/server/load-keyring.ts';
import {
  MULTI_TENANT_CONFIG,
  SECOND_DISTRIBUTION,
  writeConfigFile,
} from '../helpers/config-file.ts';

function problemsOf(env: Environment): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof SignerError && error.code === 'ERR_CONFIG_INVALID', String(error));
    return error.details?.['problems'] as string[];
  }
  assert.fail('the configuration was accepted');
}

describe('CFSIGN_CONFIG', () => {
  it('reads a YAML file with several distributions and clients, applying defaults', (t) => {
    const config = loadConfig({ CFSIGN_CONFIG: writeConfigFile(t, MULTI_TENANT_CONFIG) });
    assert.equal(config.mode, 'production');
    assert.equal(config.auth, 'tokens');
    assert.deepEqual(
      config.distributions.map((d) => [d.name, d.url, d.activeKey, d.defaultTtl, d.maxTtl]),
      [
        ['media', DISTRIBUTION, RSA.keyPairId, 600, 86_400],
        ['downloads', SECOND_DISTRIBUTION, 'K3ECDSAP256KEY', 3600, 86_400],
      ],
    );
    const acme = config.clients.find((client) => client.name === 'acme');
    assert.deepEqual(acme?.allow, [
      {
        distribution: 'media',
        prefixes: ['tenants/acme/'],
        maxTtl: 3600,
        wildcards: false,
        cookies: false,
      },
    ]);
    assert.deepEqual(acme.rateLimit, { perSecond: 100, burst: 200 });
  });

  it('reads the same settings from JSON', (t) => {
    const config = loadConfig({
      CFSIGN_CONFIG: writeConfigFile(t, MULTI_TENANT_CONFIG, 'cfsign.json'),
    });
    assert.equal(config.clients.length, 3);
  });

  it('lets environment variables override the file', (t) => {
    const config = loadConfig({
      CFSIGN_CONFIG: writeConfigFile(t, MULTI_TENANT_CONFIG),
      PORT: '9100',
      CFSIGN_MAX_TTL: '7200',
      CFSIGN_RATE_LIMIT_STORE: 'redis://127.0.0.1:6379/0',
      CLOUDFRONT_URL: 'https://d333333abcdef8.cloudfront.net',
    });
    assert.equal(config.port, 9100);
    assert.deepEqual(
      config.distributions.map((d) => d.maxTtl),
      [7200, 7200],
    );
    assert.equal(config.distributions[0]?.url, 'https://d333333abcdef8.cloudfront.net');
    assert.equal(config.rateLimit.store, 'redis://127.0.0.1:6379/0');
  });

  it('names every schema problem by its place in the file', (t) => {
    const broken = {
      distributions: [{ name: 'media', url: 7, keys: [], colour: 'blue', hash: 'md5' }],
      clients: [
        { name: 'x', tokenSha256: 'not-hex', allow: [{ distribution: 'media', wildcard: true }] },
      ],
    };
    const text = problemsOf({ CFSIGN_CONFIG: writeConfigFile(t, broken) }).join('\n');
    assert.match(text, /CFSIGN_CONFIG: distributions\.0: unknown setting 'colour'/);
    assert.match(text, /CFSIGN_CONFIG: distributions\.0\.url: must be string/);
    assert.match(text, /CFSIGN_CONFIG: distributions\.0\.hash: must be one of 'sha1', 'sha256'$/m);
    assert.match(text, /CFSIGN_CONFIG: distributions\.0\.keys: must not have fewer than 1 items/);
    assert.match(text, /CFSIGN_CONFIG: clients\.0\.tokenSha256: must match pattern/);
    assert.match(text, /CFSIGN_CONFIG: clients\.0\.allow\.0: unknown setting 'wildcard'/);
  });

  it('checks what a schema cannot: references, duplicates and orderings', (t) => {
    const [media, downloads] = MULTI_TENANT_CONFIG.distributions;
    const [acme, broad, cookie] = MULTI_TENANT_CONFIG.clients;
    assert.ok(media && downloads && acme && broad && cookie);
    const file = {
      distributions: [
        { ...media, activeKey: 'KMISSING', defaultTtl: 90_000 },
        { ...downloads, name: 'media' },
      ],
      clients: [
        { ...acme, allow: [{ distribution: 'nowhere', prefixes: ['a*'], maxTtl: 60 }] },
        { ...broad, name: 'acme' },
        cookie,
      ],
    };
    const text = problemsOf({ CFSIGN_CONFIG: writeConfigFile(t, file) }).join('\n');
    assert.match(text, /distributions\.0\.activeKey: 'KMISSING' is not one of its keys/);
    assert.match(text, /distributions\.0\.defaultTtl: \(90000 s\) is above maxTtl \(86400 s\)/);
    assert.match(text, /distributions\.1: the name 'media' is used twice/);
    assert.match(
      text,
      /clients\.0\.allow\.0\.distribution: 'nowhere' is not a configured distribution/,
    );
    assert.match(text, /clients\.0\.allow\.0\.prefixes: prefixes are literal/);
    assert.match(text, /clients\.1: the name 'acme' is used twice/);
  });

  it('refuses a file with no clients unless auth: none', (t) => {
    const { clients: _clients, ...withoutClients } = MULTI_TENANT_CONFIG;
    assert.match(
      problemsOf({ CFSIGN_CONFIG: writeConfigFile(t, withoutClients) }).join('\n'),
      /CFSIGN_API_KEYS: is required/,
    );
    const open = loadConfig({
      CFSIGN_CONFIG: writeConfigFile(t, { ...withoutClients, auth: 'none' }),
    });
    assert.equal(open.auth, 'none');
    assert.deepEqual(
      open.clients[0]?.allow.map((rule) => rule.distribution),
      ['media', 'downloads'],
    );
  });

  it('reports a missing or unparsable file without its path', (t) => {
    assert.match(
      problemsOf({ CFSIGN_CONFIG: '/nonexistent/secret-dir/cfsign.yaml' }).join('\n'),
      /CFSIGN_CONFIG: the file cannot be read \(ENOENT\)/,
    );
    const path = writeConfigFile(t, 'placeholder');
    writeFileSync(path, 'distributions: [\n');
    const text = problemsOf({ CFSIGN_CONFIG: path }).join('\n');
    assert.match(text, /CFSIGN_CONFIG: the file is not valid YAML/);
    assert.ok(!text.includes(path));
  });

  it('reports a file that cannot be read in one line, with no schema echo of it', () => {
    const problems = problemsOf({ CFSIGN_CONFIG: '/nonexistent/secret-dir/cfsign.yaml' });
    assert.deepEqual(problems, ['CFSIGN_CONFIG: the file cannot be read (ENOENT)']);
  });

  it('names where a JSON file is broken, never the text around it', (t) => {
    const path = writeConfigFile(t, 'placeholder', 'cfsign.json');
    writeFileSync(
      path,
      '{"auth":"none","distributions":[{"name":"a","url":"https://d111111abcdef8.cloudfront.net",\n"keys":[{"id":"K2JCJMDEHXQW5F","privateKeyFile": /run/secrets/hidden-dir/media.pem}]}]}',
    );
    const problems = problemsOf({ CFSIGN_CONFIG: path });
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(
      problems[0] ?? '',
      /^CFSIGN_CONFIG: the file is not valid JSON \(line 2, column \d+\)$/,
    );
    assert.doesNotMatch(problems[0] ?? '', /secrets|hidden-dir|media/);
  });

  it('refuses a YAML alias bomb as an invalid file, not an unexpected error', (t) => {
    const path = writeConfigFile(t, 'placeholder');
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (const [name, previous] of [
      ['b', 'a'],
      ['c', 'b'],
      ['d', 'c'],
      ['e', 'd'],
    ]) {
      levels.push(
        `${name ?? ''}: &${name ?? ''} [${Array(9)
          .fill(`*${previous ?? ''}`)
          .join(', ')}]`,
      );
    }
    writeFileSync(path, `${levels.join('\n')}\n`);
    assert.deepEqual(problemsOf({ CFSIGN_CONFIG: path }), [
      'CFSIGN_CONFIG: the file is not valid YAML (its aliases expand too far)',
    ]);
  });

  it('refuses a YAML file with an unknown tag, without quoting the tagged value', (t) => {
    const path = writeConfigFile(t, 'placeholder');
    writeFileSync(
      path,
      [
        'auth: none',
        'distributions:',
        '  - name: a',
        '    url: https://d111111abcdef8.cloudfront.net',
        '    keys:',
        '      - id: K2JCJMDEHXQW5F',
        '        privateKeyFile: !file /run/secrets/hidden-dir/media.pem',
        '',
      ].join('\n'),
    );
    const problems = problemsOf({ CFSIGN_CONFIG: path });
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(
      problems[0] ?? '',
      /^CFSIGN_CONFIG: the file is not valid YAML \(tag resolve failed at line 7, column \d+\)$/,
    );
    assert.doesNotMatch(problems[0] ?? '', /secrets|hidden-dir|media/);
  });

  it('loads a key held in an environment variable, with \\n escapes', (t) => {
    const file = {
      distributions: [
        { name: 'env', url: DISTRIBUTION, keys: [{ id: 'KENV', privateKeyEnv: 'MEDIA_KEY' }] },
      ],
      auth: 'none',
    };
    const env = {
      CFSIGN_CONFIG: writeConfigFile(t, file),
      MEDIA_KEY: fixturePem('rsa-2048.pkcs1.pem').trimEnd().split('\n').join('\\n'),
    };
    const config = loadConfig(env);
    assert.deepEqual(config.distributions[0]?.keys, [{ id: 'KENV', privateKeyEnv: 'MEDIA_KEY' }]);
    assert.deepEqual(loadKeyrings(config.distributions, env).get('env')?.keyPairIds, ['KENV']);
    const problems = (() => {
      try {
        loadKeyrings(config.distributions, { ...env, MEDIA_KEY: '' });
      } catch (error) {
        return (error as SignerError).details?.['problems'] as string[];
      }
      return [];
    })();
    assert.deepEqual(problems, [
      'MEDIA_KEY (KENV): the environment variable meant to hold the key is not set',
    ]);
  });
});

describe('CFSIGN_CONFIG rules that would widen or mislead', () => {
  it('refuses CFSIGN_API_KEYS beside file clients, two rules for one distribution, and a bad Redis URL', (t) => {
    const [media, downloads] = MULTI_TENANT_CONFIG.distributions;
    const [acme] = MULTI_TENANT_CONFIG.clients;
    assert.ok(media && downloads && acme);
    const file = {
      distributions: [
        media,
        { ...downloads, keys: [{ id: RSA.keyPairId, privateKeyFile: '/elsewhere.pem' }] },
      ],
      clients: [
        {
          ...acme,
          allow: [{ distribution: 'media', prefixes: ['a/'] }, { distribution: 'media' }],
        },
      ],
      rateLimit: { store: 'redis://[::1' },
    };
    const path = writeConfigFile(t, file);
    const withKeys = problemsOf({
      CFSIGN_CONFIG: path,
      CFSIGN_API_KEYS: 'ops:tok-ops-0123456789abcdef',
    });
    assert.match(withKeys.join('\n'), /CFSIGN_API_KEYS: is set, but CFSIGN_CONFIG has clients/);
    const text = problemsOf({ CFSIGN_CONFIG: path }).join('\n');
    assert.match(text, /clients\.0\.allow\.1: a second rule for 'media'/);
    assert.match(
      text,
      /rateLimit\.store \(CFSIGN_RATE_LIMIT_STORE\): must be 'memory' or a redis:\/\/ URL/,
    );
  });

  it('refuses one key id for two different keys, once the keys are loaded', (t) => {
    const [media, downloads] = MULTI_TENANT_CONFIG.distributions;
    assert.ok(media && downloads);
    const file = {
      distributions: [
        media,
        {
          ...downloads,
          keys: [{ id: RSA.keyPairId, privateKeyFile: fixturePath('rsa-2048-other.pem') }],
        },
      ],
      auth: 'none',
    };
    const env = { CFSIGN_CONFIG: writeConfigFile(t, file) };
    assert.throws(
      () => loadKeyrings(loadConfig(env).distributions, env),
      (error) =>
        error instanceof SignerError &&
        /the key id K2JCJMDEHXQW5F names two different keys/.test(error.message),
    );
  });

  it('refuses a JSON file that repeats a key, which JSON.parse would silently resolve', (t) => {
    const path = writeConfigFile(t, {}, 'cfsign.json');
    writeFileSync(path, '{"distributions":[],"distributions":[]}');
    assert.match(
      problemsOf({ CFSIGN_CONFIG: path }).join('\n'),
      /the file has the key 'distributions' twice/,
    );
  });

  it('sizes the default bucket to the largest batch, and refuses an explicit one that is smaller', (t) => {
    const bigBatches = { ...MULTI_TENANT_CONFIG, server: { maxBatchSize: 500 } };
    assert.equal(
      loadConfig({ CFSIGN_CONFIG: writeConfigFile(t, bigBatches) }).clients[0]?.rateLimit.burst,
      500,
    );
    const small = { ...bigBatches, rateLimit: { default: { perSecond: 10, burst: 20 } } };
    assert.match(
      problemsOf({ CFSIGN_CONFIG: writeConfigFile(t, small) }).join('\n'),
      /rateLimit\.default: burst \(20\) is below the largest batch \(500\)/,
    );
  });
});
