import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { SignerError } from '../../src/errors.ts';
import { encodeCloudFrontBase64 } from '../../src/core/cloudfront-base64.ts';
import { parseIpv4Block } from '../../src/core/ip-address.ts';
import {
  buildCannedPolicy,
  buildCustomPolicy,
  parseCustomPolicy,
  type PolicyStatement,
} from '../../src/core/policy.ts';

const BASE = 'https://d111111abcdef8.cloudfront.net';
const MAX_EPOCH = 2_147_483_647;

interface Vector {
  name: string;
  policyType: 'canned' | 'custom';
  url: string;
  resource?: string;
  expiresAt: number;
  notBefore?: number;
  ipAddress?: string;
  policy: string;
  signedUrl: string;
}

/** Policies made by botocore's CloudFrontSigner (see scripts/make-vectors.py). */
const VECTORS = (
  JSON.parse(readFileSync(new URL('../vectors/botocore.json', import.meta.url), 'utf8')) as {
    vectors: Vector[];
  }
).vectors;

function malformed(expected: RegExp | string): (error: unknown) => boolean {
  return (error) =>
    error instanceof SignerError &&
    error.code === 'ERR_POLICY_MALFORMED' &&
    error.message.startsWith('policy is malformed: ') &&
    (typeof expected === 'string'
      ? error.message.includes(expected)
      : expected.test(error.message));
}

/** A policy document written as JSON text and encoded, so that malformed shapes can be tried. */
function encodedJson(json: string): string {
  return encodeCloudFrontBase64(json);
}

function statementJson(condition: string, resource = `"${BASE}/*"`): string {
  return `{"Statement":[{"Resource":${resource},"Condition":${condition}}]}`;
}

describe('buildCannedPolicy', () => {
  it('writes the exact bytes CloudFront rebuilds from the request', () => {
    assert.equal(
      buildCannedPolicy(`${BASE}/videos/a.mp4`, 1_767_225_600),
      '{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/videos/a.mp4","Condition":{"DateLessThan":{"AWS:EpochTime":1767225600}}}]}',
    );
  });

  it('keeps a query string and percent-escapes as they are', () => {
    assert.equal(
      buildCannedPolicy('https://h/a%20b?x=1&y=2', 0),
      '{"Statement":[{"Resource":"https://h/a%20b?x=1&y=2","Condition":{"DateLessThan":{"AWS:EpochTime":0}}}]}',
    );
  });

  it('writes the largest epoch time in full', () => {
    assert.equal(
      buildCannedPolicy('https://h/a', 2_147_483_647),
      '{"Statement":[{"Resource":"https://h/a","Condition":{"DateLessThan":{"AWS:EpochTime":2147483647}}}]}',
    );
  });

  for (const vector of VECTORS.filter((v) => v.policyType === 'canned')) {
    it(`matches botocore byte for byte: ${vector.name}`, () => {
      assert.equal(buildCannedPolicy(vector.url, vector.expiresAt), vector.policy);
    });
  }

  it('is JSON with the canned shape for any resource', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }),
        fc.integer({ min: 0, max: MAX_EPOCH }),
        (resource, t) => {
          assert.deepEqual(JSON.parse(buildCannedPolicy(resource, t)), {
            Statement: [
              { Resource: resource, Condition: { DateLessThan: { 'AWS:EpochTime': t } } },
            ],
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('buildCustomPolicy', () => {
  it('writes only DateLessThan when there is no other condition', () => {
    assert.equal(
      buildCustomPolicy({ resource: `${BASE}/videos/*`, expiresAt: 1_767_225_600 }),
      '{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/videos/*","Condition":{"DateLessThan":{"AWS:EpochTime":1767225600}}}]}',
    );
  });

  it('writes the conditions in the order DateLessThan, IpAddress, DateGreaterThan', () => {
    const expected =
      '{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/*","Condition":{"DateLessThan":{"AWS:EpochTime":1798761600},"IpAddress":{"AWS:SourceIp":"203.0.113.0/24"},"DateGreaterThan":{"AWS:EpochTime":1767139200}}}]}';
    assert.equal(
      buildCustomPolicy({
        resource: `${BASE}/*`,
        expiresAt: 1_798_761_600,
        ipAddress: '203.0.113.0/24',
        notBefore: 1_767_139_200,
      }),
      expected,
    );
    // The order of the fields given does not change the bytes.
    assert.equal(
      buildCustomPolicy({
        notBefore: 1_767_139_200,
        ipAddress: '203.0.113.0/24',
        expiresAt: 1_798_761_600,
        resource: `${BASE}/*`,
      }),
      expected,
    );
  });

  it('writes DateGreaterThan after DateLessThan without an IP condition', () => {
    assert.equal(
      buildCustomPolicy({ resource: 'https://h/a?.mp4', expiresAt: 20, notBefore: 10 }),
      '{"Statement":[{"Resource":"https://h/a?.mp4","Condition":{"DateLessThan":{"AWS:EpochTime":20},"DateGreaterThan":{"AWS:EpochTime":10}}}]}',
    );
  });

  it('writes IpAddress after DateLessThan without a start', () => {
    assert.equal(
      buildCustomPolicy({ resource: 'https://h/*', expiresAt: 20, ipAddress: '192.0.2.10/32' }),
      '{"Statement":[{"Resource":"https://h/*","Condition":{"DateLessThan":{"AWS:EpochTime":20},"IpAddress":{"AWS:SourceIp":"192.0.2.10/32"}}}]}',
    );
  });

  for (const vector of VECTORS.filter((v) => v.policyType === 'custom')) {
    it(`matches botocore byte for byte: ${vector.name}`, () => {
      const statement: PolicyStatement = {
        resource: vector.resource ?? vector.url,
        expiresAt: vector.expiresAt,
      };
      if (vector.notBefore !== undefined) statement.notBefore = vector.notBefore;
      if (vector.ipAddress !== undefined)
        statement.ipAddress = parseIpv4Block(vector.ipAddress).cidr;
      assert.equal(buildCustomPolicy(statement), vector.policy);
    });
  }
});

describe('parseCustomPolicy', () => {
  it('reads back a policy with every condition', () => {
    const json = buildCustomPolicy({
      resource: `${BASE}/*`,
      expiresAt: 1_798_761_600,
      ipAddress: '203.0.113.0/24',
      notBefore: 1_767_139_200,
    });
    assert.deepEqual(parseCustomPolicy(encodeCloudFrontBase64(json)), {
      resource: `${BASE}/*`,
      expiresAt: 1_798_761_600,
      notBefore: 1_767_139_200,
      ipAddress: '203.0.113.0/24',
      ipBlock: { cidr: '203.0.113.0/24', network: 3_405_803_776, prefixLength: 24 },
      json,
    });
  });

  it('reads back a policy with only an expiry, without optional fields', () => {
    const json =
      '{"Statement":[{"Resource":"https://h/a","Condition":{"DateLessThan":{"AWS:EpochTime":5}}}]}';
    assert.deepEqual(parseCustomPolicy(encodeCloudFrontBase64(json)), {
      resource: 'https://h/a',
      expiresAt: 5,
      json,
    });
  });

  it('keeps a single address as written and reads it as a /32 block', () => {
    const parsed = parseCustomPolicy(
      encodedJson(
        statementJson(
          '{"DateLessThan":{"AWS:EpochTime":5},"IpAddress":{"AWS:SourceIp":"192.0.2.10"}}',
        ),
      ),
    );
    assert.equal(parsed.ipAddress, '192.0.2.10');
    assert.equal(parsed.ipBlock?.cidr, '192.0.2.10/32');
  });

  it('reads a policy with whitespace and another key order', () => {
    const json = `{ "Statement" : [ { "Condition" : { "DateGreaterThan" : { "AWS:EpochTime" : 1 } , "DateLessThan" : { "AWS:EpochTime" : 2 } } , "Resource" : "https://h/*" } ] }`;
    assert.deepEqual(parseCustomPolicy(encodedJson(json)), {
      resource: 'https://h/*',
      expiresAt: 2,
      notBefore: 1,
      json,
    });
  });

  it('reads a missing Resource as * (every URL), as CloudFront does', () => {
    const json = '{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":5}}}]}';
    assert.equal(parseCustomPolicy(encodedJson(json)).resource, '*');
  });

  for (const vector of VECTORS.filter((v) => v.signedUrl.includes('Policy='))) {
    it(`reads the Policy of botocore's link: ${vector.name}`, () => {
      const encoded = new URL(vector.signedUrl).searchParams.get('Policy');
      assert.ok(encoded !== null);
      const parsed = parseCustomPolicy(encoded);
      assert.equal(parsed.json, vector.policy);
      assert.equal(parsed.resource, vector.resource ?? vector.url);
      assert.equal(parsed.expiresAt, vector.expiresAt);
      assert.equal(parsed.notBefore, vector.notBefore);
      assert.equal(
        parsed.ipBlock?.cidr,
        vector.ipAddress === undefined ? undefined : parseIpv4Block(vector.ipAddress).cidr,
      );
    });
  }

  it('rejects a valid policy in standard base64 (with + and =) with ERR_POLICY_MALFORMED', () => {
    const json =
      '{"Statement":[{"Resource":"https://h/?>","Condition":{"DateLessThan":{"AWS:EpochTime":5}}}]}';
    const standard = Buffer.from(json, 'utf8').toString('base64');
    assert.match(standard, /\+/);
    assert.match(standard, /=$/);
    assert.equal(parseCustomPolicy(encodeCloudFrontBase64(json)).resource, 'https://h/?>');
    assert.throws(() => parseCustomPolicy(standard), malformed('not CloudFront base64'));
  });

  for (const [label, encoded, reason] of [
    ['the empty string', '', 'not CloudFront base64'],
    ['text that is not base64', 'not base64!', 'not CloudFront base64'],
    ['base64 of the wrong length', 'eyJ', 'not CloudFront base64'],
    ['base64 that is not JSON', encodedJson('hello'), 'not JSON'],
    ['truncated JSON', encodedJson('{"Statement":['), 'not JSON'],
    ['JSON with a trailing comma', encodedJson('{"Statement":[],}'), 'not JSON'],
    ['a JSON array', encodedJson('[]'), 'no Statement array'],
    ['JSON null', encodedJson('null'), 'no Statement array'],
    ['an object without Statement', encodedJson('{}'), 'no Statement array'],
    ['a Statement that is an object', encodedJson('{"Statement":{}}'), 'no Statement array'],
    ['no statements', encodedJson('{"Statement":[]}'), 'exactly one statement'],
    [
      'two statements',
      encodedJson(
        '{"Statement":[{"Resource":"https://h/a","Condition":{"DateLessThan":{"AWS:EpochTime":5}}},{"Resource":"https://h/b","Condition":{"DateLessThan":{"AWS:EpochTime":5}}}]}',
      ),
      'exactly one statement',
    ],
    [
      'a statement that is not an object',
      encodedJson('{"Statement":[1]}'),
      'exactly one statement',
    ],
    [
      'a numeric Resource',
      encodedJson(statementJson('{"DateLessThan":{"AWS:EpochTime":5}}', '42')),
      'Resource must be a string',
    ],
    [
      'an array Resource',
      encodedJson(statementJson('{"DateLessThan":{"AWS:EpochTime":5}}', '["https://h/a"]')),
      'Resource must be a string',
    ],
    [
      'a null Resource',
      encodedJson(statementJson('{"DateLessThan":{"AWS:EpochTime":5}}', 'null')),
      'Resource must be a string',
    ],
    ['no Condition', encodedJson('{"Statement":[{"Resource":"https://h/a"}]}'), 'no Condition'],
    ['an array Condition', encodedJson(statementJson('[]')), 'no Condition'],
    [
      'a missing DateLessThan',
      encodedJson(statementJson('{"DateGreaterThan":{"AWS:EpochTime":5}}')),
      'DateLessThan is required',
    ],
    ['an empty Condition', encodedJson(statementJson('{}')), 'DateLessThan is required'],
    [
      'a string epoch',
      encodedJson(statementJson('{"DateLessThan":{"AWS:EpochTime":"1767225600"}}')),
      'whole epoch seconds',
    ],
    [
      'a fractional epoch',
      encodedJson(statementJson('{"DateLessThan":{"AWS:EpochTime":1767225600.5}}')),
      'whole epoch seconds',
    ],
    [
      'a negative epoch',
      encodedJson(statementJson('{"DateLessThan":{"AWS:EpochTime":-1}}')),
      'whole epoch seconds',
    ],
    [
      'an epoch after 2038',
      encodedJson(statementJson('{"DateLessThan":{"AWS:EpochTime":2147483648}}')),
      'up to 2147483647',
    ],
    [
      'a null epoch',
      encodedJson(statementJson('{"DateLessThan":{"AWS:EpochTime":null}}')),
      'whole epoch seconds',
    ],
    [
      'a bare number DateLessThan',
      encodedJson(statementJson('{"DateLessThan":5}')),
      'DateLessThan must be {"AWS:EpochTime": seconds}',
    ],
    [
      'an extra key in DateLessThan',
      encodedJson(statementJson('{"DateLessThan":{"AWS:EpochTime":5,"x":1}}')),
      'DateLessThan must be',
    ],
    [
      'a misspelt epoch key',
      encodedJson(statementJson('{"DateLessThan":{"aws:epochtime":5}}')),
      'whole epoch seconds',
    ],
    [
      'a fractional start',
      encodedJson(
        statementJson(
          '{"DateLessThan":{"AWS:EpochTime":5},"DateGreaterThan":{"AWS:EpochTime":1.5}}',
        ),
      ),
      'DateGreaterThan AWS:EpochTime',
    ],
    [
      'an unknown condition',
      encodedJson(statementJson('{"DateLessThan":{"AWS:EpochTime":5},"StringLike":{"a":"b"}}')),
      "unknown condition 'StringLike'",
    ],
    [
      'a lowercase condition name',
      encodedJson(statementJson('{"datelessthan":{"AWS:EpochTime":5}}')),
      "unknown condition 'datelessthan'",
    ],
    [
      'an IpAddress that is a string',
      encodedJson(statementJson('{"DateLessThan":{"AWS:EpochTime":5},"IpAddress":"1.2.3.4/32"}')),
      'IpAddress must be',
    ],
    [
      'a numeric SourceIp',
      encodedJson(
        statementJson('{"DateLessThan":{"AWS:EpochTime":5},"IpAddress":{"AWS:SourceIp":1}}'),
      ),
      'IpAddress must be',
    ],
    [
      'an IPv6 SourceIp',
      encodedJson(
        statementJson(
          '{"DateLessThan":{"AWS:EpochTime":5},"IpAddress":{"AWS:SourceIp":"2001:db8::/32"}}',
        ),
      ),
      'only IPv4',
    ],
    [
      'a SourceIp with host bits set',
      encodedJson(
        statementJson(
          '{"DateLessThan":{"AWS:EpochTime":5},"IpAddress":{"AWS:SourceIp":"203.0.113.7/24"}}',
        ),
      ),
      'host bits set',
    ],
    [
      'a SourceIp that is not an address',
      encodedJson(
        statementJson(
          '{"DateLessThan":{"AWS:EpochTime":5},"IpAddress":{"AWS:SourceIp":"localhost"}}',
        ),
      ),
      'not an IPv4 address',
    ],
  ] as const) {
    it(`rejects ${label} with ERR_POLICY_MALFORMED`, () => {
      assert.throws(() => parseCustomPolicy(encoded), malformed(reason));
    });
  }

  it('gives back what it was built from, for random resources, times and IP blocks', () => {
    const resource = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string({
        unit: fc.oneof(
          fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
          fc.constantFrom(
            '"',
            '\\',
            '*',
            '?',
            '/',
            '\u0000',
            '\n',
            '\u2028',
            '\uD800',
            '\uDFFF',
            '😀',
            '%',
          ),
        ),
      }),
    );
    const epoch = fc.integer({ min: 0, max: MAX_EPOCH });
    const block = fc
      .tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }))
      .map(([value, length]) => {
        const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
        const network = (value & mask) >>> 0;
        const dotted = [
          network >>> 24,
          (network >>> 16) & 0xff,
          (network >>> 8) & 0xff,
          network & 0xff,
        ].join('.');
        return { cidr: `${dotted}/${length}`, network, prefixLength: length };
      });
    fc.assert(
      fc.property(
        resource,
        epoch,
        fc.option(epoch, { nil: undefined }),
        fc.option(block, { nil: undefined }),
        (res, expiresAt, notBefore, ip) => {
          const statement: PolicyStatement = { resource: res, expiresAt };
          if (notBefore !== undefined) statement.notBefore = notBefore;
          if (ip !== undefined) statement.ipAddress = ip.cidr;
          const json = buildCustomPolicy(statement);
          const parsed = parseCustomPolicy(encodeCloudFrontBase64(json));
          const expected: Record<string, unknown> = { resource: res, expiresAt, json };
          if (notBefore !== undefined) expected['notBefore'] = notBefore;
          if (ip !== undefined) {
            expected['ipAddress'] = ip.cidr;
            expected['ipBlock'] = ip;
          }
          assert.deepEqual({ ...parsed }, expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reads a canned policy as a custom one with the same resource and expiry', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }),
        fc.integer({ min: 0, max: MAX_EPOCH }),
        (resource, t) => {
          const json = buildCannedPolicy(resource, t);
          assert.deepEqual(
            { ...parseCustomPolicy(encodeCloudFrontBase64(json)) },
            { resource, expiresAt: t, json },
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
