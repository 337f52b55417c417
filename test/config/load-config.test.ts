import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignerError } from '../../src/errors.ts';
import {
  digestToken,
  loadConfig,
  DEV_DISTRIBUTION_URL,
  type Environment,
} from '../../src/config/load-config.ts';
import { DISTRIBUTION, fixturePath, RSA } from '../helpers/fixtures.ts';
import { PRODUCTION_ENV, TOKENS } from '../helpers/server.ts';

function problemsOf(env: Environment): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof SignerError);
    assert.equal(error.code, 'ERR_CONFIG_INVALID');
    return error.details?.['problems'] as string[];
  }
  assert.fail('the configuration was accepted');
}

describe('loadConfig', () => {
  it('starts in dev mode with no configuration at all: loopback, links on the local edge, no token', () => {
    const config = loadConfig({});
    assert.equal(config.mode, 'dev');
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, 8080);
    assert.equal(config.distributions[0]?.url, DEV_DISTRIBUTION_URL);
    assert.equal(DEV_DISTRIBUTION_URL, 'http://127.0.0.1:8081');
    assert.equal(config.auth, 'loopback');
    assert.deepEqual(
      config.clients.map((client) => client.name),
      ['dev'],
    );
  });

  it('moves the dev edge, and the links with it, to CFSIGN_EDGE_PORT; refuses it outside dev mode', () => {
    assert.equal(
      loadConfig({ CFSIGN_EDGE_PORT: '9081' }).distributions[0]?.url,
      'http://127.0.0.1:9081',
    );
    assert.deepEqual(problemsOf({ CFSIGN_EDGE_PORT: '0' }), [
      "CFSIGN_EDGE_PORT: must be a whole number from 1 to 65535, not '0'",
    ]);
    assert.deepEqual(problemsOf({ ...PRODUCTION_ENV, CFSIGN_EDGE_PORT: '9081' }), [
      'CFSIGN_EDGE_PORT: only dev mode starts the local edge; run cfsign edge instead',
    ]);
  });

  it("reads the seed's variables and the service's own", () => {
    const config = loadConfig({
      ...PRODUCTION_ENV,
      PORT: '9000',
      CFSIGN_DEFAULT_TTL: '600',
      CFSIGN_MAX_TTL: '7200',
      CFSIGN_HASH: 'sha256',
      CFSIGN_LOG_LEVEL: 'warn',
      CFSIGN_MAX_BATCH: '10',
    });
    assert.equal(config.mode, 'production');
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.port, 9000);
    assert.deepEqual(config.distributions, [
      {
        name: 'default',
        url: DISTRIBUTION,
        keys: [{ id: RSA.keyPairId, privateKeyFile: fixturePath('rsa-2048.pkcs8.pem') }],
        activeKey: RSA.keyPairId,
        defaultTtl: 600,
        maxTtl: 7200,
        hash: 'sha256',
      },
    ]);
    assert.equal(config.logLevel, 'warn');
    assert.equal(config.maxBatchSize, 10);
    assert.ok(Object.isFrozen(config.distributions[0]));
  });

  it('keeps only SHA-256 digests of API tokens', () => {
    const config = loadConfig(PRODUCTION_ENV);
    assert.equal(config.auth, 'tokens');
    const everything = [
      { distribution: 'default', prefixes: [''], wildcards: true, cookies: true },
    ];
    const rate = { perSecond: 100, burst: 200 };
    assert.deepEqual(config.clients, [
      { name: 'web', tokenSha256: digestToken(TOKENS.web), allow: everything, rateLimit: rate },
      { name: 'batch', tokenSha256: digestToken(TOKENS.batch), allow: everything, rateLimit: rate },
    ]);
    assert.ok(!JSON.stringify(config).includes(TOKENS.web));
  });

  it('gathers every problem at once, one line per problem naming the variable', () => {
    const problems = problemsOf({
      CLOUDFRONT_URL: 'ftp://x',
      CFSIGN_MAX_TTL: '-5',
      CFSIGN_HASH: 'md5',
      PORT: '99999',
      CFSIGN_LOG_LEVEL: 'loud',
    });
    for (const variable of [
      'CLOUDFRONT_KEY_PAIR_ID',
      'PRIVATE_KEY_PATH',
      'CLOUDFRONT_URL',
      'CFSIGN_MAX_TTL',
      'CFSIGN_HASH',
      'PORT',
      'CFSIGN_LOG_LEVEL',
      'CFSIGN_API_KEYS',
    ]) {
      assert.ok(
        problems.some((line) => line.startsWith(`${variable}: `)),
        `${variable} in ${problems.join('\n')}`,
      );
    }
  });

  it('refuses a real distribution without API keys unless CFSIGN_AUTH=none', () => {
    const { CFSIGN_API_KEYS: _keys, ...withoutKeys } = PRODUCTION_ENV;
    assert.match(
      problemsOf(withoutKeys).join('\n'),
      /CFSIGN_API_KEYS: is required for a real distribution/,
    );
    assert.equal(loadConfig({ ...withoutKeys, CFSIGN_AUTH: 'none' }).auth, 'none');
    assert.match(
      problemsOf({ ...PRODUCTION_ENV, CFSIGN_AUTH: 'none' }).join('\n'),
      /CFSIGN_AUTH: is none, but CFSIGN_API_KEYS is set/,
    );
  });

  it('refuses weak or malformed API keys without echoing any token', () => {
    const secret = 'short-secret';
    const tooLong = 'k'.repeat(513);
    // Written the wrong way round, token:name would put the token where a name is echoed.
    const swapped = '3f9a1c0d7e2b4a6f8c1d3e5f7a9b0c2d';
    const problems = problemsOf({
      ...PRODUCTION_ENV,
      CFSIGN_API_KEYS: `web:${secret},oops,web:${TOKENS.web},x y:${TOKENS.batch},long:${tooLong},${swapped}:web`,
    });
    const text = problems.join('\n');
    assert.match(text, /the token of entry 1 must be 16 to 512 visible ASCII characters/);
    assert.match(text, /entry 2 is not name:token/);
    assert.match(text, /entry 4 is not name:token/);
    assert.match(text, /the token of entry 5 must be 16 to 512 visible ASCII characters/);
    assert.match(text, /the token of entry 6 must be 16 to 512 visible ASCII characters/);
    for (const token of [secret, TOKENS.web, TOKENS.batch, tooLong, swapped]) {
      assert.ok(!text.includes(token), 'a problem line echoes a token');
    }
  });

  it('refuses a default TTL above the maximum', () => {
    assert.match(
      problemsOf({ ...PRODUCTION_ENV, CFSIGN_DEFAULT_TTL: '2h', CFSIGN_MAX_TTL: '1h' }).join('\n'),
      /CFSIGN_DEFAULT_TTL: \(7200 s\) is above CFSIGN_MAX_TTL \(3600 s\)/,
    );
  });

  it('reads CFSIGN_LINK_WINDOW as seconds or a duration, and refuses anything else', () => {
    const windowOf = (value: string) =>
      loadConfig({ ...PRODUCTION_ENV, CFSIGN_LINK_WINDOW: value }).distributions[0]?.linkWindow;
    assert.equal(windowOf('300'), 300);
    assert.equal(windowOf('5m'), 300);
    assert.equal(loadConfig(PRODUCTION_ENV).distributions[0]?.linkWindow, undefined);
    for (const value of ['0', '-5', '1.5', 'soon']) {
      assert.match(
        problemsOf({ ...PRODUCTION_ENV, CFSIGN_LINK_WINDOW: value }).join('\n'),
        /^CFSIGN_LINK_WINDOW: must be a positive number of seconds or a duration/m,
        value,
      );
    }
    assert.match(
      problemsOf({ ...PRODUCTION_ENV, CFSIGN_LINK_WINDOW: '2h', CFSIGN_MAX_TTL: '1h' }).join('\n'),
      /linkWindow: \(7200 s\) is above maxTtl \(3600 s\)/,
    );
  });

  it('refuses an unknown CFSIGN_ variable and suggests the likely one', () => {
    assert.match(
      problemsOf({ ...PRODUCTION_ENV, CFSIGN_MAX_TLL: '60' }).join('\n'),
      /CFSIGN_MAX_TLL: unknown variable; did you mean CFSIGN_MAX_TTL\?/,
    );
  });

  it('checks cookie settings at start-up', () => {
    assert.match(
      problemsOf({ ...PRODUCTION_ENV, CFSIGN_COOKIE_DOMAIN: 'x.cloudfront.net' }).join('\n'),
      /public suffix/,
    );
    assert.match(
      problemsOf({ ...PRODUCTION_ENV, CFSIGN_COOKIE_SAMESITE: 'lax' }).join('\n'),
      /CFSIGN_COOKIE_SAMESITE: must be Strict, Lax or None/,
    );
  });

  it('never puts a key path in a problem', () => {
    const path = '/secret-place/key.pem';
    const problems = problemsOf({ CLOUDFRONT_URL: DISTRIBUTION, PRIVATE_KEY_PATH: path });
    assert.ok(!problems.join('\n').includes('secret-place'));
  });
});
