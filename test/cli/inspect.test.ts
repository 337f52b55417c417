import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Inspection } from '../../src/core/inspect.ts';
import { signCookies } from '../../src/core/sign-cookies.ts';
import { signUrl } from '../../src/core/sign-url.ts';
import { runCli } from '../helpers/cli.ts';
import { DISTRIBUTION, fixturePath, OTHER_RSA, RSA } from '../helpers/fixtures.ts';
import { seedSignedUrl } from '../helpers/seed-link.ts';

const NOW = new Date('2026-06-01T12:00:00Z');
const NOW_SECONDS = NOW.getTime() / 1000;
const URL_A = `${DISTRIBUTION}/videos/a.mp4`;
const PUBLIC_KEY = ['--public-key', fixturePath('rsa-2048.public.pem')];

function canned(ttl = 600): string {
  return signUrl({ ...RSA, url: URL_A, expires: NOW_SECONDS + ttl, now: NOW }).url;
}

function signatureOf(url: string): string {
  const signature = new URL(url).searchParams.get('Signature');
  assert.ok(signature !== null && signature.length > 20);
  return signature;
}

describe('cfsign inspect', () => {
  it('prints an aligned report of a good link without a key, and exits 0', async () => {
    const link = signUrl({
      ...RSA,
      url: URL_A,
      resource: `${DISTRIBUTION}/videos/*`,
      ipAddress: '203.0.113.0/24',
      notBefore: NOW_SECONDS - 7200,
      expires: NOW_SECONDS + 240,
      now: NOW,
    }).url;
    const result = await runCli(['inspect', link]);
    assert.equal(result.code, 0, result.stdout);
    assert.equal(result.stderr, '');
    const [header] = result.stdout.split('\nPolicy\n');
    assert.equal(
      header,
      [
        'Signed by    URL parameters',
        `URL          ${URL_A}`,
        'Policy type  custom',
        `Key-Pair-Id  ${RSA.keyPairId}`,
        'Hash         SHA1',
        `Resource     ${DISTRIBUTION}/videos/*`,
        'Expires      2026-06-01T12:04:00Z (expires in 240 s)',
        'Starts       2026-06-01T10:00:00Z (started 2 h ago)',
        'IP address   203.0.113.0/24',
      ].join('\n'),
    );
    assert.match(result.stdout, /\nPolicy\n {2}\{\n {4}"Statement": \[\n/);
    assert.match(result.stdout, /\n\nNo problems found\.\n$/);
    assert.equal(result.stdout.includes(signatureOf(link)), false);
  });

  it("lists the seed link's problems with severity, code and CloudFront's answer, and exits 1", async () => {
    const seed = seedSignedUrl(DISTRIBUTION, 'videos/my clip.mp4', NOW_SECONDS + 600, RSA);
    const result = await runCli(['inspect', seed.url]);
    assert.equal(result.code, 1);
    const problems = result.stdout.split('\n4 problems:\n')[1]?.trimEnd().split('\n') ?? [];
    assert.equal(problems.length, 4, result.stdout);
    assert.match(
      problems[0] ?? '',
      /^ {2}error {4}URL_UNENCODED_CHARACTERS {2}the URL contains a raw space/,
    );
    assert.match(
      problems[1] ?? '',
      /^ {2}error {4}STANDARD_BASE64 {11}Signature contains .* \(CloudFront: 403 MalformedSignature\)$/,
    );
    assert.match(
      problems[2] ?? '',
      /^ {2}error {4}STANDARD_BASE64 {11}Policy contains .*MalformedPolicy\)$/,
    );
    assert.match(problems[3] ?? '', /^ {2}error {4}RESOURCE_MISMATCH {9}the resource /);
  });

  it('adds the verdict with --public-key, and exits 1 when the key does not sign the link', async () => {
    const valid = await runCli(['inspect', canned(), ...PUBLIC_KEY]);
    assert.equal(valid.code, 0);
    assert.match(
      valid.stdout,
      /\n\nVerdict: valid: valid until 2026-06-01T12:10:00Z \(expires in 10 min\)\n$/,
    );
    const other = signUrl({ ...OTHER_RSA, url: URL_A, expires: '10m', now: NOW }).url.replace(
      OTHER_RSA.keyPairId,
      RSA.keyPairId,
    );
    const invalid = await runCli(['inspect', other, ...PUBLIC_KEY]);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stdout, /\nNo problems found\.\n/);
    assert.match(
      invalid.stdout,
      /\nVerdict: invalid: the signature does not match .* \(CloudFront would answer 403 AccessDenied\)\n$/,
    );
  });

  it('accepts the key only for --key-pair-id, which needs --public-key', async () => {
    const other = await runCli(['inspect', canned(), ...PUBLIC_KEY, '--key-pair-id', 'KOTHER']);
    assert.equal(other.code, 1);
    assert.match(
      other.stdout,
      /Verdict: invalid: Key-Pair-Id 'K2JCJMDEHXQW5F' is not one of the trusted public keys/,
    );
    const usage = await runCli(['inspect', canned(), '--key-pair-id', RSA.keyPairId]);
    assert.equal(usage.code, 2);
    assert.equal(usage.stdout, '');
    assert.match(usage.stderr, /^cfsign inspect: ERR_USAGE: --key-pair-id needs --public-key/);
  });

  it('prints the inspection as JSON with --json, the same object the library returns', async () => {
    const link = `${canned()}&t=5`;
    const result = await runCli(['inspect', link, '--json', ...PUBLIC_KEY]);
    assert.equal(result.code, 1);
    const inspection = JSON.parse(result.stdout) as Inspection;
    assert.equal(inspection.ok, false);
    assert.equal(inspection.policyType, 'canned');
    assert.equal(inspection.requestUrl, `${URL_A}?t=5`);
    assert.deepEqual(
      inspection.problems.map((problem) => [problem.code, problem.severity]),
      [['CANNED_QUERY_APPENDED', 'warning']],
    );
    assert.equal(inspection.verdict?.failure, 'BAD_SIGNATURE');
    assert.equal(result.stdout.includes(signatureOf(link)), false);
  });

  it('judges the times --at a given moment', async () => {
    const result = await runCli(['inspect', canned(600), '--at', '2026-06-01T14:10:00Z']);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /\nExpires +2026-06-01T12:10:00Z \(expired 2 h ago\)\n/);
    assert.match(
      result.stdout,
      /\n {2}error {4}EXPIRED {2}the link expired 2 h ago, at 2026-06-01T12:10:00Z/,
    );
    const bad = await runCli(['inspect', canned(), '--at', 'tomorrow']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /ERR_DATE_INVALID/);
  });

  it('checks the IP condition against --ip, and refuses an --ip that is not an address', async () => {
    const link = signUrl({
      ...RSA,
      url: URL_A,
      ipAddress: '203.0.113.0/24',
      expires: '10m',
      now: NOW,
    }).url;
    assert.equal((await runCli(['inspect', link, '--ip', '203.0.113.9'])).code, 0);
    const outside = await runCli(['inspect', link, '--ip', '198.51.100.9']);
    assert.equal(outside.code, 1);
    assert.match(outside.stdout, /IP_MISMATCH/);
    const bad = await runCli(['inspect', link, '--ip', 'nowhere']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /ERR_IP_INVALID/);
  });

  it('inspects signed cookies given with --cookie', async () => {
    const { cookies } = signCookies({
      ...RSA,
      resource: `${DISTRIBUTION}/videos/*`,
      expires: '10m',
      now: NOW,
    });
    const header = Object.entries(cookies)
      .map(([name, value]) => `${name}=${value}`)
      .join('; ');
    const result = await runCli(['inspect', URL_A, '--cookie', header, ...PUBLIC_KEY]);
    assert.equal(result.code, 0, result.stdout);
    assert.match(result.stdout, /^Signed by {4}cookies\n/);
    const outside = await runCli(['inspect', `${DISTRIBUTION}/audio/a.mp3`, '--cookie', header]);
    assert.equal(outside.code, 1);
    assert.match(outside.stdout, /RESOURCE_MISMATCH/);
  });

  it('reports text that is not a URL as a problem, not a crash', async () => {
    const result = await runCli(['inspect', 'not a link']);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, '');
    assert.match(
      result.stdout,
      /\n {2}error {4}URL_INVALID {2}the URL is not a valid absolute URL\n$/,
    );
  });

  it('escapes control and non-ASCII characters from a policy before printing them', async () => {
    const policy = JSON.stringify({
      Statement: [
        {
          Resource: `${DISTRIBUTION}/\u001b[2Jvideos/\u202e*`,
          Condition: { DateLessThan: { 'AWS:EpochTime': NOW_SECONDS + 60 } },
        },
      ],
    });
    const base64 = Buffer.from(policy)
      .toString('base64')
      .replace(/\+/g, '-')
      .replace(/=/g, '_')
      .replace(/\//g, '~');
    const link = `${URL_A}?Policy=${base64}&Signature=${signatureOf(canned())}&Key-Pair-Id=${RSA.keyPairId}`;
    const result = await runCli(['inspect', link]);
    assert.equal(/[^\x20-\x7E\n]/.test(result.stdout), false, 'only printable ASCII is printed');
    assert.match(
      result.stdout,
      /\nResource {5}https:\/\/d111111abcdef8\.cloudfront\.net\/\\u\{1B\}\[2Jvideos\/\\u\{202E\}\*\n/,
    );
  });

  it('is listed in the main help and has --help with examples', async () => {
    const main = await runCli(['--help']);
    assert.match(main.stdout, /\n {2}inspect +Explain a signed URL/);
    const help = await runCli(['inspect', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: cfsign inspect <signed-url> \[options\]/);
    for (const option of [
      '--cookie HEADER',
      '--public-key FILE',
      '--key-pair-id ID',
      '--ip ADDR',
      '--at WHEN',
      '--json',
    ]) {
      assert.ok(help.stdout.includes(`  ${option}`), option);
    }
    assert.match(help.stdout, /\nExamples:\n {2}cfsign inspect /);
  });
});
