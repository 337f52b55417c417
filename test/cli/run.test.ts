import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { decodeCloudFrontBase64 } from '../../src/core/cloudfront-base64.ts';
import { verifyCookies, verifyUrl } from '../../src/core/verify.ts';
import { loadPublicKey } from '../../src/keys/load-key.ts';
import { runCli } from '../helpers/cli.ts';
import { DISTRIBUTION, fixturePath, RSA, TRUSTED_KEYS } from '../helpers/fixtures.ts';

const NOW = new Date('2026-06-01T12:00:00Z');
const SIGN = ['--key-pair-id', RSA.keyPairId, '--private-key', fixturePath('rsa-2048.pkcs8.pem')];

describe('cfsign url', () => {
  it('prints only the signed URL, which verifies', async () => {
    const result = await runCli([
      'url',
      `${DISTRIBUTION}/videos/a.mp4`,
      ...SIGN,
      '--expires',
      '1h',
    ]);
    assert.equal(result.code, 0);
    assert.equal(result.stderr, '');
    assert.match(result.stdout, /^https:\/\/\S+\n$/);
    const verdict = verifyUrl(result.stdout.trim(), { keys: TRUSTED_KEYS, now: NOW });
    assert.equal(verdict.valid, true);
    assert.equal(verdict.expiresAt, NOW.getTime() / 1000 + 3600);
  });

  it('encodes a raw object key given with --object-key', async () => {
    const result = await runCli([
      'url',
      DISTRIBUTION,
      '--object-key',
      'a b/ü?*.mp4',
      ...SIGN,
      '--expires',
      '15m',
    ]);
    assert.equal(result.code, 0);
    assert.ok(result.stdout.startsWith(`${DISTRIBUTION}/a%20b/%C3%BC%3F%2A.mp4?Expires=`));
  });

  it('makes a custom policy with --resource, --ip, --not-before and --hash', async () => {
    const result = await runCli([
      'url',
      `${DISTRIBUTION}/videos/a.mp4`,
      ...SIGN,
      '--expires',
      '2026-06-02T00:00:00Z',
      '--resource',
      `${DISTRIBUTION}/videos/*`,
      '--ip',
      '203.0.113.0/24',
      '--not-before',
      '2026-06-01T13:00:00+01:00',
      '--hash',
      'sha256',
      '--json',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const signed = JSON.parse(result.stdout) as {
      url: string;
      policyType: string;
      notBefore: number;
      ipAddress: string;
      hash: string;
    };
    assert.equal(signed.policyType, 'custom');
    assert.equal(signed.notBefore, NOW.getTime() / 1000);
    assert.equal(signed.ipAddress, '203.0.113.0/24');
    assert.match(signed.url, /&Hash-Algorithm=SHA256$/);
    const at = new Date(NOW.getTime() + 1000);
    assert.equal(
      verifyUrl(signed.url, { keys: TRUSTED_KEYS, now: at, ipAddress: '203.0.113.5' }).valid,
      true,
    );
  });

  it('reads an encrypted key with the passphrase from --passphrase-env', async () => {
    const argv = [
      'url',
      `${DISTRIBUTION}/a.mp4`,
      '--key-pair-id',
      RSA.keyPairId,
      '--private-key',
      fixturePath('rsa-2048.encrypted.pem'),
      '--expires',
      '1h',
      '--passphrase-env',
      'KEY_PASS',
    ];
    assert.equal((await runCli(argv, { env: { KEY_PASS: 'correct-horse' } })).code, 0);
    const missing = await runCli(argv);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /ERR_USAGE: --passphrase-env: the variable KEY_PASS is not set/);
    const wrong = await runCli(argv, { env: { KEY_PASS: 'nope' } });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /ERR_KEY_PASSPHRASE/);
    assert.doesNotMatch(wrong.stderr, /nope/);
  });

  const usageErrors: [string, string[], RegExp][] = [
    [
      'a missing required option',
      ['url', `${DISTRIBUTION}/a`, '--expires', '1h'],
      /ERR_USAGE: --key-pair-id is required/,
    ],
    [
      'an unknown option',
      ['url', `${DISTRIBUTION}/a`, ...SIGN, '--expires', '1h', '--expire', '2h'],
      /ERR_USAGE: Unknown option '--expire'/,
    ],
    [
      'a repeated option',
      ['url', `${DISTRIBUTION}/a`, ...SIGN, '--expires', '1h', '--expires', '2h'],
      /ERR_USAGE: --expires is given more than once/,
    ],
    ['a missing URL', ['url', ...SIGN, '--expires', '1h'], /ERR_USAGE: missing <url>/],
    [
      'a second URL',
      ['url', `${DISTRIBUTION}/a`, `${DISTRIBUTION}/b`, ...SIGN, '--expires', '1h'],
      /ERR_USAGE: unexpected argument/,
    ],
    [
      'milliseconds',
      ['url', `${DISTRIBUTION}/a`, ...SIGN, '--expires', '1780315200000'],
      /ERR_DATE_MILLISECONDS/,
    ],
    [
      'a past expiry',
      ['url', `${DISTRIBUTION}/a`, ...SIGN, '--expires', '2020-01-01'],
      /ERR_DATE_IN_PAST/,
    ],
    [
      'an IPv6 condition',
      ['url', `${DISTRIBUTION}/a`, ...SIGN, '--expires', '1h', '--ip', '2001:db8::/32'],
      /ERR_IP_V6_UNSUPPORTED/,
    ],
    [
      'a raw space',
      ['url', `${DISTRIBUTION}/a b`, ...SIGN, '--expires', '1h'],
      /ERR_URL_NOT_CANONICAL: URL contains a raw space/,
    ],
    [
      'a bad hash',
      ['url', `${DISTRIBUTION}/a`, ...SIGN, '--expires', '1h', '--hash', 'md5'],
      /ERR_HASH_UNSUPPORTED/,
    ],
  ];
  for (const [what, argv, message] of usageErrors) {
    it(`exits 2 with one line naming the code for ${what}`, async () => {
      const result = await runCli(argv);
      assert.equal(result.code, 2);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trimEnd().split('\n').length, 1);
      assert.match(result.stderr, /see 'cfsign url --help'/);
    });
  }

  it('exits 1 for an unusable key without naming the file or showing a stack', async () => {
    const result = await runCli([
      'url',
      `${DISTRIBUTION}/a`,
      '--key-pair-id',
      'K1',
      '--private-key',
      fixturePath('rsa-1024.pem'),
      '--expires',
      '1h',
    ]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^cfsign url: ERR_KEY_UNSUPPORTED: found a RSA-1024 private key/);
    assert.doesNotMatch(result.stderr, /rsa-1024\.pem|\n\s+at /);
  });

  it('shows the stack only with --verbose', async () => {
    const result = await runCli([
      'url',
      `${DISTRIBUTION}/a`,
      ...SIGN,
      '--expires',
      'soon',
      '--verbose',
    ]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /\n\s+at /);
  });
});

describe('cfsign cookies', () => {
  it('prints Set-Cookie lines for a pattern', async () => {
    const result = await runCli([
      'cookies',
      `${DISTRIBUTION}/videos/*`,
      ...SIGN,
      '--expires',
      '1h',
      '--domain',
      'media.example.com',
      '--same-site',
      'lax',
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^note: '\*' makes <url-or-pattern> a pattern/);
    const lines = result.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    assert.match(
      lines[0] ?? '',
      /^CloudFront-Policy=[A-Za-z0-9_~-]+; Domain=media\.example\.com; Path=\/; Secure; HttpOnly; SameSite=Lax$/,
    );
    assert.match(lines[1] ?? '', /^CloudFront-Signature=/);
    assert.match(lines[2] ?? '', /^CloudFront-Key-Pair-Id=K2JCJMDEHXQW5F;/);
  });

  it('prints a JSON object of cookies that verify for the pattern', async () => {
    const result = await runCli([
      'cookies',
      `${DISTRIBUTION}/videos/*`,
      ...SIGN,
      '--expires',
      '1h',
      '--json',
    ]);
    const cookies = JSON.parse(result.stdout) as Record<string, string>;
    const policy =
      decodeCloudFrontBase64(cookies['CloudFront-Policy'] ?? '')?.toString('utf8') ?? '';
    assert.match(policy, /"Resource":"https:\/\/d111111abcdef8\.cloudfront\.net\/videos\/\*"/);
    assert.equal(
      verifyCookies(`${DISTRIBUTION}/videos/x.mp4`, cookies, { keys: TRUSTED_KEYS, now: NOW })
        .valid,
      true,
    );
  });

  it('makes canned cookies for an exact URL', async () => {
    const result = await runCli([
      'cookies',
      `${DISTRIBUTION}/a.mp4`,
      ...SIGN,
      '--expires',
      '1h',
      '--json',
    ]);
    assert.deepEqual(Object.keys(JSON.parse(result.stdout) as object), [
      'CloudFront-Expires',
      'CloudFront-Signature',
      'CloudFront-Key-Pair-Id',
    ]);
  });

  it('refuses a cookie domain of cloudfront.net', async () => {
    const result = await runCli([
      'cookies',
      `${DISTRIBUTION}/videos/*`,
      ...SIGN,
      '--expires',
      '1h',
      '--domain',
      'd111111abcdef8.cloudfront.net',
    ]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /ERR_COOKIE_OPTION_INVALID/);
  });
});

describe('cfsign verify', () => {
  async function signed(extra: string[] = []): Promise<string> {
    return (
      await runCli(['url', `${DISTRIBUTION}/a.mp4`, ...SIGN, '--expires', '10m', ...extra])
    ).stdout.trim();
  }

  it('exits 0 and says until when for a valid link', async () => {
    const result = await runCli([
      'verify',
      await signed(),
      '--public-key',
      fixturePath('rsa-2048.public.pem'),
    ]);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, 'valid: valid until 2026-06-01T12:10:00Z (expires in 10 min)\n');
  });

  it('exits 1 with the reason on stderr for an expired link, judged --at a later time', async () => {
    const result = await runCli([
      'verify',
      await signed(),
      '--public-key',
      fixturePath('rsa-2048.public.pem'),
      '--at',
      '2026-06-01T12:15:12Z',
    ]);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^invalid: expired 312 s ago/);
    assert.match(result.stderr, /403 AccessDenied/);
  });

  it('exits 1 for a link signed by another key, and prints JSON verdicts', async () => {
    const result = await runCli([
      'verify',
      await signed(),
      '--public-key',
      fixturePath('rsa-2048-other.public.pem'),
      '--json',
    ]);
    assert.equal(result.code, 1);
    const verdict = JSON.parse(result.stdout) as { valid: boolean; failure: string };
    assert.deepEqual([verdict.valid, verdict.failure], [false, 'BAD_SIGNATURE']);
  });

  it('checks --ip against an IP condition and --key-pair-id against the link', async () => {
    const link = await signed(['--ip', '192.0.2.0/24']);
    const key = ['--public-key', fixturePath('rsa-2048.public.pem')];
    assert.equal((await runCli(['verify', link, ...key, '--ip', '192.0.2.9'])).code, 0);
    assert.equal((await runCli(['verify', link, ...key, '--ip', '198.51.100.9'])).code, 1);
    assert.match(
      (await runCli(['verify', link, ...key, '--key-pair-id', 'KOTHER'])).stderr,
      /not one of the trusted public keys/,
    );
  });

  it('exits 2 for a --ip that is not an address', async () => {
    const result = await runCli([
      'verify',
      await signed(),
      '--public-key',
      fixturePath('rsa-2048.public.pem'),
      '--ip',
      'garbage',
    ]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /ERR_IP_INVALID/);
  });

  it('verifies cookies with --cookie', async () => {
    const cookies = JSON.parse(
      (await runCli(['cookies', `${DISTRIBUTION}/v/*`, ...SIGN, '--expires', '1h', '--json']))
        .stdout,
    ) as Record<string, string>;
    const header = Object.entries(cookies)
      .map(([name, value]) => `${name}=${value}`)
      .join('; ');
    const result = await runCli([
      'verify',
      `${DISTRIBUTION}/v/a.mp4`,
      '--cookie',
      header,
      '--public-key',
      fixturePath('rsa-2048.public.pem'),
    ]);
    assert.equal(result.code, 0, result.stderr);
  });
});

describe('cfsign keygen', () => {
  it('writes a private key readable only by its owner and a public key that verifies its links', async () => {
    for (const type of ['rsa', 'ecdsa']) {
      const out = join(mkdtempSync(join(tmpdir(), 'cfsign-keygen-')), 'keys');
      const result = await runCli(['keygen', '--type', type, '--out', out]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(statSync(join(out, 'private_key.pem')).mode & 0o777, 0o600);
      const link = await runCli([
        'url',
        `${DISTRIBUTION}/a`,
        '--key-pair-id',
        'KNEW',
        '--private-key',
        join(out, 'private_key.pem'),
        '--expires',
        '1h',
      ]);
      const publicKey = loadPublicKey({ pem: readFileSync(join(out, 'public_key.pem'), 'utf8') });
      assert.equal(
        verifyUrl(link.stdout.trim(), { keys: new Map([['KNEW', publicKey]]), now: NOW }).valid,
        true,
      );
    }
  });

  it('refuses to overwrite an existing key unless --force', async () => {
    const out = mkdtempSync(join(tmpdir(), 'cfsign-keygen-'));
    writeFileSync(join(out, 'public_key.pem'), 'old');
    const refused = await runCli(['keygen', '--out', out]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /ERR_FILE_EXISTS: public_key\.pem already exists/);
    assert.throws(() => statSync(join(out, 'private_key.pem')), /ENOENT/);
    assert.equal((await runCli(['keygen', '--out', out, '--force'])).code, 0);
    assert.notEqual(readFileSync(join(out, 'public_key.pem'), 'utf8'), 'old');
  });

  it('replaces a world-readable old key with a new file of mode 0600, never rewriting it in place', async () => {
    const out = mkdtempSync(join(tmpdir(), 'cfsign-keygen-'));
    const privatePath = join(out, 'private_key.pem');
    writeFileSync(privatePath, 'old', { mode: 0o644 });
    chmodSync(privatePath, 0o644);
    const oldInode = statSync(privatePath).ino;
    assert.equal((await runCli(['keygen', '--out', out, '--force'])).code, 0);
    const replaced = statSync(privatePath);
    assert.equal(replaced.mode & 0o777, 0o600);
    assert.notEqual(replaced.ino, oldInode, 'the old file was rewritten in place');
    assert.match(readFileSync(privatePath, 'utf8'), /BEGIN PRIVATE KEY/);
    assert.deepEqual(readdirSync(out).sort(), ['private_key.pem', 'public_key.pem']);
  });

  it('answers an --out it cannot use with one coded usage line that names no path', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cfsign-keygen-')), 'hidden-name');
    writeFileSync(file, 'not a directory');
    for (const [out, message] of [
      [file, /ERR_USAGE: --out, or a folder above it, is a file, not a directory/],
      [join(file, 'sub'), /ERR_USAGE: --out, or a folder above it, is a file/],
      // mkdirSync's own recursion never returns here; cfsign must.
      ['/proc/cfsign-nope/keys', /ERR_USAGE: --out: cannot create the key files there \(ENOENT\)/],
    ] as const) {
      const result = await runCli(['keygen', '--out', out]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
      assert.doesNotMatch(result.stderr, /hidden-name|cfsign-nope|unexpected/);
    }
  });
});

describe('cfsign help', () => {
  it('lists every command, and each command has --help with an example', async () => {
    const main = await runCli(['--help']);
    assert.equal(main.code, 0);
    for (const command of ['url', 'cookies', 'verify', 'keygen']) {
      assert.match(main.stdout, new RegExp(`\\n  ${command} `));
      const help = await runCli([command, '--help']);
      assert.equal(help.code, 0);
      assert.match(help.stdout, new RegExp(`^Usage: cfsign ${command}`));
      assert.match(help.stdout, /\nExamples:\n {2}cfsign /);
    }
  });

  it('exits 2 for no command or an unknown one', async () => {
    assert.equal((await runCli([])).code, 2);
    const unknown = await runCli(['sign']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'sign'/);
  });

  it('prints the package version', async () => {
    const manifest = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    assert.equal((await runCli(['--version'])).stdout, `${manifest.version}\n`);
  });
});

describe('bin/cfsign', () => {
  it('runs the built CLI as the package bin and sets the exit code', async () => {
    const bin = new URL('../../bin/cfsign', import.meta.url).pathname;
    const { stdout } = await promisify(execFile)(bin, [
      'url',
      `${DISTRIBUTION}/a.mp4`,
      ...SIGN,
      '--expires',
      '5m',
    ]);
    assert.equal(verifyUrl(stdout.trim(), { keys: TRUSTED_KEYS, now: new Date() }).valid, true);
    await assert.rejects(
      promisify(execFile)(bin, ['url']),
      (error: { code?: number; stderr?: string }) =>
        error.code === 2 && /missing <url>|required/.test(error.stderr ?? ''),
    );
  });
});
