import assert from 'node:assert/strict';
import { sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { encodeCloudFrontBase64 } from '../../src/core/cloudfront-base64.ts';
import {
  INSPECTION_PROBLEM_CODES,
  INSPECTION_PROBLEM_SEVERITY,
  inspectCookies,
  inspectUrl,
  type Inspection,
  type InspectionProblem,
} from '../../src/core/inspect.ts';
import { signCookies } from '../../src/core/sign-cookies.ts';
import { signUrl, type SignUrlInput } from '../../src/core/sign-url.ts';
import { buildObjectUrl } from '../../src/core/signable-url.ts';
import { verifyUrl } from '../../src/core/verify.ts';
import { objectKeyArbitrary } from '../helpers/arbitraries.ts';
import { DISTRIBUTION, ECDSA, RSA, TRUSTED_KEYS } from '../helpers/fixtures.ts';
import { seedSignedUrl } from '../helpers/seed-link.ts';
import { GOLDEN_VECTORS } from '../helpers/vectors.ts';

const NOW = new Date('2026-06-01T12:00:00Z');
const NOW_SECONDS = NOW.getTime() / 1000;
const URL_A = `${DISTRIBUTION}/videos/a.mp4`;
const URL_B = `${DISTRIBUTION}/videos/b.mp4`;

function at(seconds: number): Date {
  return new Date(seconds * 1000);
}

function canned(url = URL_A, ttl = 600): string {
  return signUrl({ ...RSA, url, expires: NOW_SECONDS + ttl, now: NOW }).url;
}

function custom(input: Partial<SignUrlInput> = {}): string {
  return signUrl({
    ...RSA,
    url: URL_A,
    resource: `${DISTRIBUTION}/videos/*`,
    expires: NOW_SECONDS + 600,
    now: NOW,
    ...input,
  }).url;
}

/** A custom-policy link over exactly these policy bytes, signed for real with the RSA key. */
function linkWithPolicy(url: string, policy: string): string {
  const signature = sign('sha1', Buffer.from(policy, 'utf8'), RSA.privateKey);
  return `${url}?Policy=${encodeCloudFrontBase64(policy)}&Signature=${encodeCloudFrontBase64(signature)}&Key-Pair-Id=${RSA.keyPairId}`;
}

function parameterOf(url: string, name: string): string {
  const pair = url
    .slice(url.indexOf('?') + 1)
    .split('&')
    .find((candidate) => candidate.startsWith(`${name}=`));
  assert.ok(pair !== undefined, `${name} is in the link`);
  return pair.slice(name.length + 1);
}

function toStandardBase64(value: string): string {
  return value.replace(/[-_~]/g, (c) => ({ '-': '+', _: '=', '~': '/' })[c] ?? c);
}

/** `CODE` or `CODE Parameter` for each problem, in order. */
function codes(inspection: Inspection): string[] {
  return inspection.problems.map((problem) =>
    problem.parameter === undefined ? problem.code : `${problem.code} ${problem.parameter}`,
  );
}

function only(inspection: Inspection, code: string): InspectionProblem {
  const found = inspection.problems.filter((problem) => problem.code === code);
  assert.equal(found.length, 1, `one ${code} in ${JSON.stringify(codes(inspection))}`);
  const [problem] = found;
  assert.ok(problem !== undefined);
  return problem;
}

describe('inspectUrl on a good link', () => {
  it('reads a canned link without a key: type, key id, hash, resource, expiry and the policy', () => {
    const inspection = inspectUrl(canned(URL_A, 240), { now: NOW });
    assert.equal(inspection.ok, true);
    assert.deepEqual(inspection.problems, []);
    assert.equal(inspection.source, 'url');
    assert.equal(inspection.policyType, 'canned');
    assert.equal(inspection.keyPairId, RSA.keyPairId);
    assert.equal(inspection.hash, 'sha1');
    assert.equal(inspection.requestUrl, URL_A);
    assert.equal(inspection.resource, URL_A);
    assert.equal(inspection.expiresAt, NOW_SECONDS + 240);
    assert.deepEqual(inspection.expiry, {
      utc: '2026-06-01T12:04:00Z',
      relative: 'expires in 240 s',
    });
    assert.equal(inspection.verdict, undefined);
    assert.equal(
      inspection.policy,
      [
        '{',
        '  "Statement": [',
        '    {',
        `      "Resource": "${URL_A}",`,
        '      "Condition": {',
        '        "DateLessThan": {',
        `          "AWS:EpochTime": ${NOW_SECONDS + 240}`,
        '        }',
        '      }',
        '    }',
        '  ]',
        '}',
      ].join('\n'),
    );
  });

  it('reads a custom link: pattern, start, IP block, SHA-256, and times in UTC and relative', () => {
    const link = custom({
      notBefore: NOW_SECONDS - 7200,
      expires: NOW_SECONDS + 240,
      ipAddress: '203.0.113.0/24',
      hash: 'sha256',
    });
    const inspection = inspectUrl(link, { now: NOW });
    assert.deepEqual(inspection.problems, []);
    assert.equal(inspection.policyType, 'custom');
    assert.equal(inspection.hash, 'sha256');
    assert.equal(inspection.resource, `${DISTRIBUTION}/videos/*`);
    assert.equal(inspection.ipAddress, '203.0.113.0/24');
    assert.deepEqual(inspection.expiry, {
      utc: '2026-06-01T12:04:00Z',
      relative: 'expires in 240 s',
    });
    assert.deepEqual(inspection.start, {
      utc: '2026-06-01T10:00:00Z',
      relative: 'started 2 h ago',
    });
    assert.deepEqual(JSON.parse(inspection.policy ?? ''), {
      Statement: [
        {
          Resource: `${DISTRIBUTION}/videos/*`,
          Condition: {
            DateLessThan: { 'AWS:EpochTime': NOW_SECONDS + 240 },
            IpAddress: { 'AWS:SourceIp': '203.0.113.0/24' },
            DateGreaterThan: { 'AWS:EpochTime': NOW_SECONDS - 7200 },
          },
        },
      ],
    });
  });

  it('adds the verdict when keys are given, without repeating the policy', () => {
    const inspection = inspectUrl(canned(), { now: NOW, keys: TRUSTED_KEYS });
    assert.equal(inspection.ok, true);
    assert.equal(inspection.verdict?.valid, true);
    assert.equal(inspection.verdict.reason, 'valid until 2026-06-01T12:10:00Z (expires in 10 min)');
    assert.equal('policy' in inspection.verdict, false);
  });

  it('is not ok when the problems are none but the verdict is invalid', () => {
    const inspection = inspectUrl(canned().replace(URL_A, URL_B), { now: NOW, keys: TRUSTED_KEYS });
    assert.deepEqual(inspection.problems, []);
    assert.equal(inspection.verdict?.failure, 'BAD_SIGNATURE');
    assert.equal(inspection.ok, false);
  });

  it('escapes non-ASCII in the pretty policy, which stays JSON of the same value', () => {
    const resource = `${DISTRIBUTION}/*`;
    const policy = JSON.stringify({
      Statement: [
        {
          Resource: resource,
          Condition: { DateLessThan: { 'AWS:EpochTime': NOW_SECONDS + 60 } },
        },
      ],
      Comment: 'vidéo \u202e 🎬',
    });
    const inspection = inspectUrl(linkWithPolicy(URL_A, policy), { now: NOW });
    assert.match(inspection.policy ?? '', /"Comment": "vid\\u00e9o \\u202e \\ud83c\\udfac"/);
    assert.deepEqual(JSON.parse(inspection.policy ?? ''), JSON.parse(policy));
    assert.equal(/[^\x20-\x7E\n]/.test(inspection.policy ?? ''), false);
  });
});

describe('inspectUrl on links made by botocore', () => {
  // Before every vector's expiry and after every vector's start.
  const BOTOCORE_NOW = new Date('2025-12-31T12:00:00Z');

  for (const vector of GOLDEN_VECTORS) {
    it(`finds no problem in botocore's "${vector.name}" and reads what it signed`, () => {
      const inspection = inspectUrl(vector.signedUrl, { now: BOTOCORE_NOW, keys: TRUSTED_KEYS });
      assert.deepEqual(codes(inspection), []);
      assert.equal(inspection.ok, true);
      assert.equal(inspection.verdict?.valid, true, inspection.verdict?.reason);
      assert.equal(inspection.policyType, vector.policyType);
      assert.equal(inspection.keyPairId, vector.keyPairId);
      assert.equal(inspection.hash, vector.hash);
      assert.equal(inspection.requestUrl, vector.url);
      assert.equal(inspection.resource, vector.resource ?? vector.url);
      assert.equal(inspection.expiresAt, vector.expiresAt);
      assert.equal(
        inspection.expiry?.utc,
        new Date(vector.expiresAt * 1000).toISOString().replace('.000Z', 'Z'),
      );
      assert.equal(inspection.notBefore, vector.notBefore);
      const signed = JSON.parse(vector.policy) as {
        Statement: [{ Condition: { IpAddress?: { 'AWS:SourceIp': string } } }];
      };
      assert.equal(inspection.ipAddress, signed.Statement[0].Condition.IpAddress?.['AWS:SourceIp']);
      assert.deepEqual(JSON.parse(inspection.policy ?? ''), signed);
    });
  }

  it('names a botocore link opened after its expiry as expired, with how long ago', () => {
    const [vector] = GOLDEN_VECTORS;
    assert.ok(vector !== undefined);
    const inspection = inspectUrl(vector.signedUrl, { now: at(vector.expiresAt + 7200) });
    assert.deepEqual(codes(inspection), ['EXPIRED']);
    assert.equal(inspection.expiry?.relative, 'expired 2 h ago');
    assert.equal(
      only(inspection, 'EXPIRED').message,
      'the link expired 2 h ago, at 2026-01-01T00:00:00Z (DateLessThan)',
    );
  });
});

describe("inspectUrl on links made the seed's way", () => {
  const EXPIRES_AT = NOW_SECONDS + 19_840;

  it('names standard base64 in both Policy and Signature of a plain key, and nothing else', () => {
    const seed = seedSignedUrl(DISTRIBUTION, 'videos/my-clip.mp4', EXPIRES_AT, RSA);
    assert.match(seed.policyBase64, /[+/=]/, 'this policy shows the standard alphabet');
    const inspection = inspectUrl(seed.url, { now: NOW, keys: TRUSTED_KEYS });
    assert.deepEqual(codes(inspection), ['STANDARD_BASE64 Signature', 'STANDARD_BASE64 Policy']);
    const [signature, policy] = inspection.problems;
    assert.ok(signature !== undefined && policy !== undefined);
    assert.equal(signature.severity, 'error');
    assert.equal(signature.cloudFrontError, 'MalformedSignature');
    assert.match(
      signature.message,
      /^Signature contains .*'='.*: it is standard base64, but CloudFront's alphabet writes '-' for '\+', '_' for '=' and '~' for '\/'$/,
    );
    assert.equal(policy.cloudFrontError, 'MalformedPolicy');
    // Still decoded and shown, so the reader sees what was meant.
    assert.equal(inspection.policyType, 'custom');
    assert.equal(inspection.resource, `${DISTRIBUTION}/videos/my-clip.mp4`);
    assert.equal(inspection.expiresAt, EXPIRES_AT);
    assert.equal(inspection.verdict?.valid, false);
    assert.equal(inspection.verdict.failure, 'MALFORMED_POLICY');
  });

  it('finds the seed link valid once only its alphabet is fixed: the alphabet was the whole problem', () => {
    const seed = seedSignedUrl(DISTRIBUTION, 'videos/a.mp4', EXPIRES_AT, RSA);
    const fixed = seed.url
      .replace(seed.policyBase64, encodeCloudFrontBase64(seed.policy))
      .replace(
        seed.signatureBase64,
        encodeCloudFrontBase64(Buffer.from(seed.signatureBase64, 'base64')),
      );
    const inspection = inspectUrl(fixed, { now: NOW, keys: TRUSTED_KEYS });
    assert.deepEqual(codes(inspection), []);
    assert.equal(inspection.verdict?.valid, true, inspection.verdict?.reason);
  });

  it('names the raw space of an unencoded key and the resource that no browser request matches', () => {
    const seed = seedSignedUrl(DISTRIBUTION, 'videos/my clip.mp4', EXPIRES_AT, RSA);
    assert.match(seed.policyBase64, /[+/=]/);
    const inspection = inspectUrl(seed.url, { now: NOW });
    assert.deepEqual(codes(inspection), [
      'URL_UNENCODED_CHARACTERS',
      'STANDARD_BASE64 Signature',
      'STANDARD_BASE64 Policy',
      'RESOURCE_MISMATCH',
    ]);
    assert.match(
      only(inspection, 'URL_UNENCODED_CHARACTERS').message,
      /^the URL contains a raw space at index 47: browsers send it percent-encoded/,
    );
    assert.equal(inspection.requestUrl, `${DISTRIBUTION}/videos/my%20clip.mp4`);
    assert.equal(
      only(inspection, 'RESOURCE_MISMATCH').message,
      `the resource '${DISTRIBUTION}/videos/my clip.mp4' does not cover '${DISTRIBUTION}/videos/my%20clip.mp4', the URL CloudFront matches it against (the request without CloudFront's parameters)`,
    );
  });

  it('names the non-ASCII of an unencoded key, and shows the policy with its \\u escapes', () => {
    const seed = seedSignedUrl(DISTRIBUTION, 'vidéos/café.mp4', EXPIRES_AT, RSA);
    assert.match(seed.policyBase64, /[+/=]/);
    const inspection = inspectUrl(seed.url, { now: NOW, keys: TRUSTED_KEYS });
    assert.deepEqual(codes(inspection), [
      'URL_UNENCODED_CHARACTERS',
      'STANDARD_BASE64 Signature',
      'STANDARD_BASE64 Policy',
      'RESOURCE_MISMATCH',
    ]);
    assert.match(only(inspection, 'URL_UNENCODED_CHARACTERS').message, /U\+00E9 at index 41/);
    assert.equal(inspection.requestUrl, `${DISTRIBUTION}/vid%C3%A9os/caf%C3%A9.mp4`);
    assert.match(
      inspection.policy ?? '',
      /"Resource": "https:\/\/d111111abcdef8\.cloudfront\.net\/vid\\u00e9os\/caf\\u00e9\.mp4"/,
    );
    assert.equal(inspection.verdict?.failure, 'MALFORMED_URL');
  });

  it("explains a '?' in an unencoded key: the query starts early and Policy goes missing", () => {
    const seed = seedSignedUrl(DISTRIBUTION, 'what?.mp4', EXPIRES_AT, RSA);
    const inspection = inspectUrl(seed.url, { now: NOW });
    assert.deepEqual(codes(inspection), ['STANDARD_BASE64 Signature', 'PARAMETER_MISSING']);
    assert.equal(
      only(inspection, 'PARAMETER_MISSING').message,
      "neither Expires (canned policy) nor Policy (custom policy) is present; the URL has a second '?' just before it: an unencoded '?' in the object key started the query early (encode it as %3F)",
    );
  });
});

describe('inspectUrl names each problem', () => {
  it('does not throw for a text that is not a URL: it is the one problem', () => {
    for (const [text, message] of [
      ['', 'the URL must be a non-empty string'],
      ['not a url', 'the URL is not a valid absolute URL'],
      ['ftp://example.com/a', "the URL scheme is 'ftp', not https or http"],
      [
        `${URL_A}?${'x'.repeat(8200)}`,
        /^the URL is 8\d{3} bytes long; CloudFront refuses URLs over 8192 bytes$/,
      ],
    ] as const) {
      const inspection = inspectUrl(text, { now: NOW, keys: TRUSTED_KEYS });
      assert.deepEqual(codes(inspection), ['URL_INVALID'], text.slice(0, 40));
      const problem = only(inspection, 'URL_INVALID');
      if (typeof message === 'string') assert.equal(problem.message, message);
      else assert.match(problem.message, message);
      assert.equal(inspection.verdict?.failure, 'MALFORMED_URL');
      assert.equal(inspection.ok, false);
    }
  });

  it('throws only for an invalid clock, as verifyUrl does', () => {
    assert.throws(
      () => inspectUrl(canned(), { now: new Date(Number.NaN) }),
      (error: unknown) =>
        error instanceof Error && 'code' in error && error.code === 'ERR_DATE_INVALID',
    );
  });

  it('warns when a browser would send the link in another form, without quoting the signature', () => {
    const link = canned().replace('https://d111111abcdef8.', 'https://D111111ABCDEF8.');
    const inspection = inspectUrl(link, { now: NOW });
    assert.deepEqual(codes(inspection), ['URL_NOT_CANONICAL']);
    const problem = only(inspection, 'URL_NOT_CANONICAL');
    assert.equal(problem.severity, 'warning');
    assert.match(
      problem.message,
      new RegExp(
        `^a browser requests '${URL_A.replace(/\./g, '\\.')}' \\(plus CloudFront's parameters\\)`,
      ),
    );
    assert.equal(problem.message.includes(parameterOf(link, 'Signature')), false);
  });

  it("names a missing Key-Pair-Id as CloudFront's MissingKey", () => {
    const inspection = inspectUrl(canned().replace(/&Key-Pair-Id=[^&]+/, ''), { now: NOW });
    assert.deepEqual(codes(inspection), ['PARAMETER_MISSING Key-Pair-Id']);
    assert.deepEqual(only(inspection, 'PARAMETER_MISSING'), {
      code: 'PARAMETER_MISSING',
      severity: 'error',
      parameter: 'Key-Pair-Id',
      message: 'Key-Pair-Id is missing',
      cloudFrontError: 'MissingKey',
    });
  });

  it('names a CloudFront parameter given twice, with how many times', () => {
    const link = canned();
    const inspection = inspectUrl(`${link}&Expires=${NOW_SECONDS + 600}&Expires=1`, { now: NOW });
    const problem = only(inspection, 'PARAMETER_DUPLICATED');
    assert.equal(problem.parameter, 'Expires');
    assert.equal(
      problem.message,
      'Expires appears 3 times in the query; CloudFront refuses a request that repeats it',
    );
    assert.equal(problem.cloudFrontError, 'AccessDenied');
  });

  it('warns about own parameters placed among CloudFront’s, which CloudFront does not document', () => {
    const link = canned().replace('&Signature=', '&lang=en&Signature=');
    const inspection = inspectUrl(link, { now: NOW });
    const problem = only(inspection, 'PARAMETERS_INTERLEAVED');
    assert.equal(problem.severity, 'warning');
    assert.equal(
      problem.message,
      "the parameter 'lang' sits between CloudFront's own; CloudFront documents your parameters before Expires or Policy (or, rarely, after Key-Pair-Id), not among its own",
    );
  });

  it('accepts own parameters before CloudFront’s, as CloudFront documents them', () => {
    const link = canned(`${URL_A}?quality=hd&lang=en`);
    assert.deepEqual(codes(inspectUrl(link, { now: NOW, keys: TRUSTED_KEYS })), []);
  });

  it('warns that a player appended a parameter to a canned link, and confirms it with the key', () => {
    const link = `${canned()}&t=30`;
    const withoutKey = inspectUrl(link, { now: NOW });
    assert.deepEqual(codes(withoutKey), ['CANNED_QUERY_APPENDED']);
    assert.equal(
      only(withoutKey, 'CANNED_QUERY_APPENDED').message,
      "'t' comes after CloudFront's parameters, where players append theirs: a canned policy covers the exact URL including its query, so the signature holds only if it was there at signing; to let a player add parameters, sign a custom policy whose resource ends with '*'",
    );
    assert.equal(withoutKey.requestUrl, `${URL_A}?t=30`);
    const withKey = inspectUrl(link, { now: NOW, keys: TRUSTED_KEYS });
    assert.equal(withKey.verdict?.failure, 'BAD_SIGNATURE');
    assert.match(
      only(withKey, 'CANNED_QUERY_APPENDED').message,
      /\. With the key: the link is valid without 't', so it was added after signing$/,
    );
  });

  it('does not claim a parameter was appended after signing when the link was signed with it', () => {
    const signedWith = canned(`${URL_A}?t=30`);
    const moved = signedWith.replace('?t=30&', '?') + '&t=30';
    const inspection = inspectUrl(moved, { now: NOW, keys: TRUSTED_KEYS });
    assert.equal(inspection.verdict?.valid, true, inspection.verdict?.reason);
    assert.deepEqual(codes(inspection), ['CANNED_QUERY_APPENDED']);
    assert.doesNotMatch(only(inspection, 'CANNED_QUERY_APPENDED').message, /With the key/);
  });

  it('lets a custom wildcard policy cover a parameter a player appends, and names an exact one that does not', () => {
    const wildcard = `${custom({ resource: `${URL_A}*` })}&t=30`;
    assert.deepEqual(codes(inspectUrl(wildcard, { now: NOW, keys: TRUSTED_KEYS })), []);
    const exact = `${custom({ resource: URL_A, notBefore: NOW_SECONDS - 60 })}&t=30`;
    const inspection = inspectUrl(exact, { now: NOW });
    assert.deepEqual(codes(inspection), ['RESOURCE_MISMATCH']);
    assert.match(
      only(inspection, 'RESOURCE_MISMATCH').message,
      /does not cover '.*\/videos\/a\.mp4\?t=30'/,
    );
  });

  it('names Expires and Policy both present as MalformedPolicy', () => {
    const link = `${custom()}&Expires=${NOW_SECONDS + 600}`;
    const inspection = inspectUrl(link, { now: NOW });
    const problem = only(inspection, 'EXPIRES_AND_POLICY');
    assert.equal(problem.cloudFrontError, 'MalformedPolicy');
    assert.match(
      problem.message,
      /^both Expires and Policy are present; a link has one or the other/,
    );
    assert.equal(inspection.policyType, 'custom');
  });

  it('names an Expires in milliseconds', () => {
    const link = canned().replace(/Expires=\d+/, `Expires=${(NOW_SECONDS + 600) * 1000}`);
    const problem = only(inspectUrl(link, { now: NOW }), 'EXPIRES_INVALID');
    assert.equal(
      problem.message,
      `Expires is '${(NOW_SECONDS + 600) * 1000}', not whole epoch seconds up to 2147483647; it looks like milliseconds (divide by 1000)`,
    );
  });

  it('names a Hash-Algorithm CloudFront does not know', () => {
    const inspection = inspectUrl(`${canned()}&Hash-Algorithm=SHA512`, { now: NOW });
    assert.deepEqual(codes(inspection), ['HASH_UNSUPPORTED Hash-Algorithm']);
    assert.equal(
      only(inspection, 'HASH_UNSUPPORTED').message,
      "Hash-Algorithm is 'SHA512'; CloudFront knows SHA1 and SHA256",
    );
    assert.equal(inspection.hash, undefined);
  });

  it('names a percent-encoded Signature, and the standard base64 beneath it', () => {
    const link = canned();
    const signature = parameterOf(link, 'Signature');
    const encoded = encodeURIComponent(toStandardBase64(signature));
    const inspection = inspectUrl(link.replace(signature, encoded), { now: NOW });
    assert.deepEqual(codes(inspection), [
      'BASE64_PERCENT_ENCODED Signature',
      'STANDARD_BASE64 Signature',
    ]);
    assert.equal(
      only(inspection, 'BASE64_PERCENT_ENCODED').message,
      "Signature is percent-encoded (it contains '%'); CloudFront reads it as written, and CloudFront base64 never needs encoding",
    );
  });

  it('names a truncated Signature and a base64url one, saying which alphabet it looks like', () => {
    const link = canned();
    const signature = parameterOf(link, 'Signature');
    const truncated = inspectUrl(link.replace(signature, signature.slice(0, -3)), { now: NOW });
    assert.deepEqual(codes(truncated), ['BASE64_INVALID Signature']);
    assert.equal(
      only(truncated, 'BASE64_INVALID').message,
      'Signature is not valid CloudFront base64 (truncated, or padded wrongly?)',
    );
    const bytes = Buffer.from(toStandardBase64(signature), 'base64');
    const base64url = bytes.toString('base64url');
    assert.match(base64url, /_/, 'this signature shows the base64url alphabet');
    const url = inspectUrl(link.replace(signature, base64url), { now: NOW });
    assert.match(only(url, 'BASE64_INVALID').message, /looks like RFC 4648 base64url/);
  });

  it('names a Policy that is not JSON, and shows the text it decodes to', () => {
    const link = `${URL_A}?Policy=${encodeCloudFrontBase64('not json\u001b[31m')}&Signature=${parameterOf(canned(), 'Signature')}&Key-Pair-Id=${RSA.keyPairId}`;
    const inspection = inspectUrl(link, { now: NOW });
    assert.deepEqual(codes(inspection), ['POLICY_NOT_JSON Policy']);
    assert.equal(inspection.policy, 'not json\\u001b[31m');
  });

  it('names a policy CloudFront cannot read, with the reason from parseCustomPolicy', () => {
    const condition = { DateLessThan: { 'AWS:EpochTime': NOW_SECONDS + 600 } };
    const policy = JSON.stringify({
      Statement: [
        { Resource: URL_A, Condition: condition },
        { Resource: URL_B, Condition: condition },
      ],
    });
    const inspection = inspectUrl(linkWithPolicy(URL_A, policy), { now: NOW });
    assert.deepEqual(codes(inspection), ['POLICY_MALFORMED Policy']);
    assert.equal(
      only(inspection, 'POLICY_MALFORMED').message,
      'policy is malformed: CloudFront accepts exactly one statement',
    );
  });

  it('names a policy nested thousands deep as malformed instead of overflowing the stack', () => {
    // 6,000 levels: too deep for JSON.stringify's recursion, yet within the service's cookie
    // size limit (a URL would be too long for CloudFront first).
    const policy = `${'['.repeat(6000)}${']'.repeat(6000)}`;
    const cookie = `CloudFront-Policy=${encodeCloudFrontBase64(policy)}; CloudFront-Signature=AAAA; CloudFront-Key-Pair-Id=${RSA.keyPairId}`;
    const inspection = inspectCookies(URL_A, cookie, { now: NOW, keys: TRUSTED_KEYS });
    assert.deepEqual(codes(inspection), ['POLICY_MALFORMED CloudFront-Policy']);
    assert.match(only(inspection, 'POLICY_MALFORMED').message, /nests 6000 levels deep/);
    assert.equal(inspection.verdict?.failure, 'MALFORMED_POLICY');
    assert.ok((inspection.policy ?? '').length <= 1024);
  });

  it('names an unknown condition as an error and still reads the rest of the policy', () => {
    const policy = JSON.stringify({
      Statement: [
        {
          Resource: URL_A,
          Condition: {
            DateLessThan: { 'AWS:EpochTime': NOW_SECONDS + 600 },
            DateLessThen: { 'AWS:EpochTime': NOW_SECONDS + 60 },
          },
        },
      ],
    });
    const inspection = inspectUrl(linkWithPolicy(URL_A, policy), { now: NOW, keys: TRUSTED_KEYS });
    assert.deepEqual(codes(inspection), ['POLICY_UNKNOWN_CONDITION Policy']);
    assert.equal(
      only(inspection, 'POLICY_UNKNOWN_CONDITION').message,
      "the condition 'DateLessThen' is not one CloudFront knows (DateLessThan, DateGreaterThan, IpAddress), so CloudFront refuses the policy",
    );
    assert.equal(inspection.expiresAt, NOW_SECONDS + 600);
    assert.equal(inspection.resource, URL_A);
    assert.equal(inspection.verdict?.failure, 'MALFORMED_POLICY');
  });

  it('warns about fields outside the policy grammar, which grant and deny nothing', () => {
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Deny',
          Resource: URL_A,
          Condition: {
            DateLessThan: { 'AWS:EpochTime': NOW_SECONDS + 600 },
            IpAddress: { 'AWS:SourceIp': '203.0.113.0/24', 'AWS:Region': 'eu' },
          },
        },
      ],
    });
    const inspection = inspectUrl(linkWithPolicy(URL_A, policy), { now: NOW, keys: TRUSTED_KEYS });
    assert.deepEqual(codes(inspection), [
      'POLICY_UNKNOWN_FIELD Policy',
      'POLICY_UNKNOWN_FIELD Policy',
      'POLICY_UNKNOWN_FIELD Policy',
    ]);
    assert.deepEqual(
      inspection.problems.map((problem) => problem.message.split(',')[0]),
      ["the policy has 'Version'", "the statement has 'Effect'", "IpAddress has 'AWS:Region'"],
    );
    assert.ok(inspection.problems.every((problem) => problem.severity === 'warning'));
    assert.equal(inspection.verdict?.valid, true, 'verify reads the policy without them');
    assert.equal(inspection.ok, false);
  });

  it('warns about a policy key given twice, which JSON readers resolve differently', () => {
    const policy = `{"Statement":[{"Resource":"${URL_B}","Resource":"${URL_A}","Condition":{"DateLessThan":{"AWS:EpochTime":${NOW_SECONDS + 600}}}}]}`;
    const inspection = inspectUrl(linkWithPolicy(URL_A, policy), { now: NOW });
    assert.deepEqual(codes(inspection), ['POLICY_DUPLICATE_KEY Policy']);
    assert.match(
      only(inspection, 'POLICY_DUPLICATE_KEY').message,
      /^the policy has the key 'Resource' more than once/,
    );
  });

  it('warns that a policy without a Resource opens every URL of every distribution trusting the key', () => {
    const policy = JSON.stringify({
      Statement: [{ Condition: { DateLessThan: { 'AWS:EpochTime': NOW_SECONDS + 600 } } }],
    });
    const inspection = inspectUrl(linkWithPolicy(URL_A, policy), { now: NOW, keys: TRUSTED_KEYS });
    assert.deepEqual(codes(inspection), ['RESOURCE_UNRESTRICTED']);
    assert.equal(
      only(inspection, 'RESOURCE_UNRESTRICTED').message,
      `the policy has no Resource, which CloudFront reads as every URL: the signature also opens other URLs on every distribution that trusts key '${RSA.keyPairId}'`,
    );
    assert.equal(inspection.resource, '*');
    assert.equal(inspection.verdict?.valid, true);
  });

  it('warns about a resource whose host is a wildcard, but not about a path wildcard', () => {
    const anyHost = inspectUrl(custom({ resource: 'https://*/videos/*' }), { now: NOW });
    assert.deepEqual(codes(anyHost), ['RESOURCE_UNRESTRICTED']);
    assert.match(
      only(anyHost, 'RESOURCE_UNRESTRICTED').message,
      /^the resource 'https:\/\/\*\/videos\/\*' does not name one host/,
    );
    assert.deepEqual(
      codes(inspectUrl(custom({ resource: `${DISTRIBUTION}/*` }), { now: NOW })),
      [],
    );
  });

  it('names a resource that does not cover the URL', () => {
    const link = custom({ resource: URL_A, notBefore: NOW_SECONDS - 60 }).replace(URL_A, URL_B);
    const inspection = inspectUrl(link, { now: NOW });
    assert.deepEqual(codes(inspection), ['RESOURCE_MISMATCH']);
    assert.equal(only(inspection, 'RESOURCE_MISMATCH').cloudFrontError, 'AccessDenied');
  });

  it('names an expired link and a link not yet valid, with the time in UTC and relative', () => {
    const expired = inspectUrl(canned(URL_A, 600), { now: at(NOW_SECONDS + 600) });
    assert.deepEqual(codes(expired), ['EXPIRED']);
    assert.equal(expired.expiry?.relative, 'expired just now');
    const early = inspectUrl(custom({ notBefore: NOW_SECONDS + 240, expires: '1h' }), { now: NOW });
    assert.deepEqual(codes(early), ['NOT_YET_VALID']);
    assert.deepEqual(early.start, { utc: '2026-06-01T12:04:00Z', relative: 'starts in 240 s' });
    assert.equal(
      only(early, 'NOT_YET_VALID').message,
      'the link is not valid until after 2026-06-01T12:04:00Z (DateGreaterThan); it starts in 240 s',
    );
    assert.deepEqual(
      codes(
        inspectUrl(custom({ notBefore: NOW_SECONDS + 240, expires: '1h' }), {
          now: at(NOW_SECONDS + 241),
        }),
      ),
      [],
    );
  });

  it('checks the IP condition only against a viewer address that is given', () => {
    const link = custom({ ipAddress: '203.0.113.0/24' });
    assert.deepEqual(codes(inspectUrl(link, { now: NOW })), []);
    assert.deepEqual(codes(inspectUrl(link, { now: NOW, ipAddress: '203.0.113.7' })), []);
    const outside = inspectUrl(link, { now: NOW, ipAddress: '198.51.100.7' });
    assert.deepEqual(codes(outside), ['IP_MISMATCH']);
    assert.equal(
      only(outside, 'IP_MISMATCH').message,
      "the viewer address '198.51.100.7' is outside 203.0.113.0/24, the only block the policy allows",
    );
  });

  it('lists several problems at once, in the order to fix them', () => {
    const link = canned();
    const signature = parameterOf(link, 'Signature');
    const broken = `${link.replace(signature, toStandardBase64(signature))}&Expires=1`;
    const inspection = inspectUrl(broken, { now: at(NOW_SECONDS + 3600) });
    assert.deepEqual(codes(inspection), [
      'PARAMETER_DUPLICATED Expires',
      'STANDARD_BASE64 Signature',
      'EXPIRED',
    ]);
  });
});

describe('inspectCookies', () => {
  function cookiesFor(resource: string): Record<string, string> {
    const { cookies } = signCookies({ ...RSA, resource, expires: NOW_SECONDS + 600, now: NOW });
    return cookies;
  }

  it('reads signed cookies from a Cookie header and finds no problem', () => {
    const cookies = cookiesFor(`${DISTRIBUTION}/videos/*`);
    const header = ['session=1', ...Object.entries(cookies).map(([n, v]) => `${n}=${v}`)].join(
      '; ',
    );
    const inspection = inspectCookies(URL_A, header, { now: NOW, keys: TRUSTED_KEYS });
    assert.deepEqual(codes(inspection), []);
    assert.equal(inspection.source, 'cookies');
    assert.equal(inspection.policyType, 'custom');
    assert.equal(inspection.resource, `${DISTRIBUTION}/videos/*`);
    assert.equal(inspection.verdict?.valid, true);
  });

  it('names cookie problems with the cookie names', () => {
    const cookies = cookiesFor(`${DISTRIBUTION}/videos/*`);
    const policy = cookies['CloudFront-Policy'] ?? '';
    const header = `CloudFront-Policy=${toStandardBase64(policy)}; CloudFront-Key-Pair-Id=${RSA.keyPairId}; CloudFront-Key-Pair-Id=${RSA.keyPairId}`;
    const inspection = inspectCookies(`${DISTRIBUTION}/audio/a.mp3`, header, { now: NOW });
    assert.deepEqual(codes(inspection), [
      'PARAMETER_DUPLICATED CloudFront-Key-Pair-Id',
      'PARAMETER_MISSING CloudFront-Signature',
      ...(policy === toStandardBase64(policy) ? [] : ['STANDARD_BASE64 CloudFront-Policy']),
      'RESOURCE_MISMATCH',
    ]);
    assert.equal(
      only(inspection, 'PARAMETER_DUPLICATED').message,
      'CloudFront-Key-Pair-Id appears 2 times as a cookie; CloudFront refuses a request that repeats it',
    );
  });

  it('warns that cookies are ignored when the URL carries signed-URL parameters, and reads the URL', () => {
    const cookies = cookiesFor(`${DISTRIBUTION}/videos/*`);
    const inspection = inspectCookies(canned(), cookies, { now: NOW });
    assert.deepEqual(codes(inspection), ['COOKIES_IGNORED']);
    assert.equal(inspection.source, 'url');
    assert.equal(inspection.policyType, 'canned');
  });
});

describe('inspect properties', () => {
  const hostlessKey = objectKeyArbitrary();
  const linkInput = fc.record({
    objectKey: hostlessKey,
    ttl: fc.integer({ min: 1, max: 30 * 86_400 }),
    startedAgo: fc.option(fc.integer({ min: 1, max: 86_400 }), { nil: undefined }),
    ipAddress: fc.option(fc.ipV4(), { nil: undefined }),
    wildcard: fc.boolean(),
    ecdsa: fc.boolean(),
    sha256: fc.boolean(),
  });

  type LinkInput = typeof linkInput extends fc.Arbitrary<infer T> ? T : never;

  function signFrom(input: LinkInput) {
    const url = buildObjectUrl(DISTRIBUTION, input.objectKey);
    const key = input.ecdsa ? ECDSA : RSA;
    return signUrl({
      ...key,
      url,
      expires: NOW_SECONDS + input.ttl,
      now: NOW,
      hash: input.ecdsa || input.sha256 ? 'sha256' : 'sha1',
      ...(input.startedAgo === undefined ? {} : { notBefore: NOW_SECONDS - input.startedAgo }),
      ...(input.ipAddress === undefined ? {} : { ipAddress: input.ipAddress }),
      ...(input.wildcard ? { resource: `${DISTRIBUTION}/*` } : {}),
    });
  }

  it('finds no problem in any link signUrl makes, and reads back exactly what was signed', () => {
    fc.assert(
      fc.property(linkInput, (input) => {
        const signed = signFrom(input);
        const inspection = inspectUrl(signed.url, { now: NOW, keys: TRUSTED_KEYS });
        assert.deepEqual(codes(inspection), []);
        assert.equal(inspection.ok, true);
        assert.equal(inspection.verdict?.valid, true);
        assert.equal(inspection.policyType, signed.policyType);
        assert.equal(inspection.keyPairId, signed.keyPairId);
        assert.equal(inspection.hash, signed.hash);
        assert.equal(inspection.resource, signed.resource);
        assert.equal(inspection.expiresAt, signed.expiresAt);
        assert.equal(inspection.notBefore, signed.notBefore);
        assert.equal(inspection.ipAddress, signed.ipAddress);
        assert.equal(inspection.requestUrl, buildObjectUrl(DISTRIBUTION, input.objectKey));
        assert.equal(
          JSON.stringify(inspection).includes(parameterOf(signed.url, 'Signature')),
          false,
        );
      }),
      { numRuns: 60 },
    );
  });

  it('names STANDARD_BASE64 for exactly the parameters re-encoded with + / =', () => {
    fc.assert(
      fc.property(
        linkInput,
        fc.subarray(['Policy', 'Signature'] as const, { minLength: 1 }),
        (input, reencoded) => {
          const signed = signFrom({ ...input, wildcard: true });
          let link = signed.url;
          const changed: string[] = [];
          for (const name of reencoded) {
            const value = parameterOf(link, name);
            const standard = toStandardBase64(value);
            if (standard === value) continue;
            link = link.replace(`${name}=${value}`, `${name}=${standard}`);
            changed.push(name);
          }
          const inspection = inspectUrl(link, { now: NOW });
          const expected = ['Signature', 'Policy']
            .filter((name) => changed.includes(name))
            .map((name) => `STANDARD_BASE64 ${name}`);
          assert.deepEqual(codes(inspection), expected);
          // The policy is still decoded and read.
          assert.equal(inspection.resource, signed.resource);
          assert.equal(inspection.expiresAt, signed.expiresAt);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('names an error whenever verify refuses a link for anything but its signature or key', () => {
    const mutations: readonly ((link: string) => string)[] = [
      (link) => link.replace(/&Key-Pair-Id=[^&]*/, ''),
      (link) => link.replace(/&Signature=[^&]*/, '&Signature='),
      (link) => `${link}&Signature=${parameterOf(link, 'Signature')}`,
      (link) => link.replace(/(Signature=[^&]{10})/, '$1+'),
      (link) => link.replace(/(Policy=[^&]{10})/, '$1%2F'),
      (link) => link.replace(/(Policy=)[^&]{8}/, '$1AAAAAAAA'),
      (link) => link.replace('/videos/', '/vid eos/'),
      (link) => `${link}&Hash-Algorithm=MD5`,
      (link) => `${link}&Expires=${NOW_SECONDS + 60}`,
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...mutations),
        fc.integer({ min: -7200, max: 7200 }),
        fc.option(fc.ipV4(), { nil: undefined }),
        (mutate, offset, viewer) => {
          const link = mutate(
            custom({ notBefore: NOW_SECONDS - 3600, ipAddress: '203.0.113.0/24' }),
          );
          const options = {
            now: at(NOW_SECONDS + offset),
            keys: TRUSTED_KEYS,
            ...(viewer === undefined ? {} : { ipAddress: viewer }),
          };
          const inspection = inspectUrl(link, options);
          const verdict = verifyUrl(link, options);
          if (
            !verdict.valid &&
            verdict.failure !== 'BAD_SIGNATURE' &&
            verdict.failure !== 'UNKNOWN_KEY'
          ) {
            assert.ok(
              inspection.problems.some((problem) => problem.severity === 'error'),
              `${verdict.failure ?? ''}: ${verdict.reason} but only ${JSON.stringify(codes(inspection))}`,
            );
          }
        },
      ),
      { numRuns: 120 },
    );
  });
});

describe('inspection problem codes', () => {
  it('are listed in docs/errors.md exactly, with their severity', () => {
    const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const section = doc.split('## Inspection problems')[1]?.split('\n## ')[0] ?? '';
    const rows = new Map<string, string>();
    for (const line of section.split('\n')) {
      const cells = /^\|\s*`([A-Z0-9_]+)`\s*\|\s*(\w+)\s*\|/.exec(line);
      if (cells) rows.set(cells[1] ?? '', cells[2] ?? '');
    }
    assert.deepEqual([...rows.keys()].sort(), [...INSPECTION_PROBLEM_CODES].sort());
    for (const code of INSPECTION_PROBLEM_CODES) {
      assert.equal(rows.get(code), INSPECTION_PROBLEM_SEVERITY[code], code);
    }
  });
});
