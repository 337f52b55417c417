import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';

import {
  CLOUDFRONT_QUERY_PARAMETERS,
  MAX_URL_BYTES,
  assertSignableUrl,
  buildObjectUrl,
  normalizeDistributionUrl,
} from '../../src/core/signable-url.ts';
import { signerError } from '../helpers/errors.ts';

const BASE = 'https://d111111abcdef8.cloudfront.net';

function isForbiddenCodePoint(codePoint: number): boolean {
  return (
    codePoint <= 0x1f ||
    (codePoint >= 0x7f && codePoint <= 0x9f) ||
    (codePoint >= 0xd800 && codePoint <= 0xdfff) ||
    codePoint === 0x061c ||
    codePoint === 0x200e ||
    codePoint === 0x200f ||
    (codePoint >= 0x202a && codePoint <= 0x202e) ||
    (codePoint >= 0x2066 && codePoint <= 0x2069)
  );
}

function isValidKeyByTheRules(key: string): boolean {
  if (key.length === 0 || new TextEncoder().encode(key).length > 1024) return false;
  for (const character of key) {
    if (isForbiddenCodePoint(character.codePointAt(0) ?? 0)) return false;
  }
  return !key.split('/').some((segment) => segment === '.' || segment === '..');
}

const validKey = fc
  .array(
    fc.oneof(
      fc
        .string({ unit: 'binary', minLength: 1, maxLength: 1 })
        .filter((c) => !isForbiddenCodePoint(c.codePointAt(0) ?? 0)),
      fc.constantFrom(
        '/',
        '.',
        '..',
        '%',
        '%2e',
        '%2E',
        '?',
        '#',
        '*',
        '&',
        '=',
        ' ',
        '\\',
        'Expires=1',
        '?Policy=',
        'é',
        'e\u0301',
        '😀',
        '\ufeff',
      ),
    ),
    { minLength: 1, maxLength: 24 },
  )
  .map((parts) => parts.join(''))
  .filter(isValidKeyByTheRules);

describe('assertSignableUrl', () => {
  for (const url of [
    `${BASE}/`,
    `${BASE}/photo.jpg`,
    `${BASE}/dir/sub/file.txt`,
    `${BASE}/a%20b`,
    `${BASE}/%C3%BC`,
    `${BASE}/%c3%bc`,
    `${BASE}/a?b=c`,
    `${BASE}/a?b=c&d=e`,
    `${BASE}/a?x=Expires`,
    `${BASE}/a?ExpiresAt=1`,
    'https://cdn.example.com:8443/a',
    'http://cdn.example.com/a',
    'https://1.2.3.4/a',
    'https://xn--bcher-kva.example/a',
  ]) {
    it(`accepts the canonical URL ${url}`, () => {
      assert.doesNotThrow(() => {
        assertSignableUrl(url);
      });
    });
  }

  it('keeps lowercase percent-escapes as written (it does not ask for uppercase)', () => {
    const url = `${BASE}/caf%c3%a9?q=%e2%82%ac`;
    assert.doesNotThrow(() => {
      assertSignableUrl(url);
    });
  });

  for (const value of [undefined, null, 42, new URL(`${BASE}/a`), ['https://h/'], '']) {
    it(`rejects ${value === '' ? 'the empty string' : String(value)} with ERR_URL_INVALID`, () => {
      assert.throws(
        () => {
          assertSignableUrl(value);
        },
        signerError('ERR_URL_INVALID', /non-empty string/),
      );
    });
  }

  for (const [label, url, code, message] of [
    ['a raw space', `${BASE}/a b`, 'ERR_URL_NOT_CANONICAL', 'a raw space at index'],
    ['a raw tab', `${BASE}/a\tb`, 'ERR_URL_NOT_CANONICAL', 'control character U+0009'],
    ['a raw ü', `${BASE}/ü`, 'ERR_URL_NOT_CANONICAL', 'U+00FC'],
    [
      'a raw emoji in the query (named by its code point U+1F600)',
      `${BASE}/a?q=😀`,
      'ERR_URL_NOT_CANONICAL',
      'U+1F600 at index',
    ],
    ['an internationalized host', 'https://bücher.example/a', 'ERR_URL_NOT_CANONICAL', 'U+00FC'],
    // Node's parser keeps a lone '^' raw but escapes it beside '>'; browsers differ too.
    [
      'a raw ^ in the path',
      `${BASE}/a^b`,
      'ERR_URL_NOT_CANONICAL',
      "'^', which some browsers send as %5E",
    ],
    ['a raw ^ in the query', `${BASE}/a?v=1^2`, 'ERR_URL_NOT_CANONICAL', 'write it as %5E'],
    ['a raw | in the path', `${BASE}/a|b`, 'ERR_URL_NOT_CANONICAL', 'write it as %7C'],
    ['a fragment', `${BASE}/a#b`, 'ERR_URL_INVALID', 'fragment'],
    ['an empty fragment', `${BASE}/a#`, 'ERR_URL_INVALID', 'fragment'],
    ['a relative URL', '/a/b', 'ERR_URL_INVALID', 'not a valid absolute URL'],
    ['a scheme-relative URL', '//h/a', 'ERR_URL_INVALID', 'not a valid absolute URL'],
    ['an ftp: URL', 'ftp://h/a', 'ERR_URL_INVALID', "must be https or http, not 'ftp'"],
    ['a mailto: URL', 'mailto:a@b.example', 'ERR_URL_INVALID', "not 'mailto'"],
    ['a user and password', 'https://u:p@h/a', 'ERR_URL_INVALID', 'user name or password'],
    ['a user name alone', 'https://u@h/a', 'ERR_URL_INVALID', 'user name or password'],
    ['a truncated escape', `${BASE}/a%2`, 'ERR_URL_NOT_CANONICAL', "'%' that does not start"],
    ['a non-hex escape', `${BASE}/a%zz`, 'ERR_URL_NOT_CANONICAL', 'write a literal'],
    ['a bad escape in the query', `${BASE}/a?q=100%`, 'ERR_URL_NOT_CANONICAL', '%25'],
    [
      'an uppercase host',
      'https://D111111ABCDEF8.cloudfront.net/a',
      'ERR_URL_NOT_CANONICAL',
      'https://d111111abcdef8.cloudfront.net/a',
    ],
    ['an uppercase scheme', 'HTTPS://h/a', 'ERR_URL_NOT_CANONICAL', 'https://h/a'],
    [
      'the default https port',
      'https://h:443/a',
      'ERR_URL_NOT_CANONICAL',
      'request https://h/a instead',
    ],
    [
      'the default http port',
      'http://h:80/a',
      'ERR_URL_NOT_CANONICAL',
      'request http://h/a instead',
    ],
    ['a .. segment', 'https://h/a/../b', 'ERR_URL_NOT_CANONICAL', 'request https://h/b instead'],
    ['a . segment', 'https://h/a/./b', 'ERR_URL_NOT_CANONICAL', 'request https://h/a/b instead'],
    [
      'an encoded .. segment',
      'https://h/a/%2e%2e/b',
      'ERR_URL_NOT_CANONICAL',
      'request https://h/b instead',
    ],
    ['a backslash', 'https://h/a\\b', 'ERR_URL_NOT_CANONICAL', 'write it as %5C'],
    ['a backslash in the query', 'https://h/a?x=\\y', 'ERR_URL_NOT_CANONICAL', 'write it as %5C'],
    ['a missing path slash', 'https://h', 'ERR_URL_NOT_CANONICAL', 'request https://h/ instead'],
    [
      'a missing path slash before a query',
      'https://h?a=b',
      'ERR_URL_NOT_CANONICAL',
      'https://h/?a=b',
    ],
    [
      'a raw brace the browser escapes',
      'https://h/a{b',
      'ERR_URL_NOT_CANONICAL',
      'https://h/a%7Bb',
    ],
    ['a raw quote in the query', "https://h/a?x='", 'ERR_URL_NOT_CANONICAL', 'https://h/a?x=%27'],
    ['a trailing ?', `${BASE}/a?`, 'ERR_URL_INVALID', "empty query ('?')"],
    [
      'a URL over 8192 characters',
      `${BASE}/${'a'.repeat(MAX_URL_BYTES)}`,
      'ERR_URL_INVALID',
      'at most 8192 bytes',
    ],
  ] as const) {
    it(`rejects ${label} with ${code}`, () => {
      assert.throws(
        () => {
          assertSignableUrl(url);
        },
        signerError(code, message),
      );
    });
  }

  it('accepts a URL of exactly 8192 characters', () => {
    const url = `${BASE}/${'a'.repeat(MAX_URL_BYTES - BASE.length - 1)}`;
    assert.equal(url.length, MAX_URL_BYTES);
    assert.doesNotThrow(() => {
      assertSignableUrl(url);
    });
  });

  it('reserves exactly the five parameters CloudFront reads', () => {
    assert.deepEqual([...CLOUDFRONT_QUERY_PARAMETERS].sort(), [
      'Expires',
      'Hash-Algorithm',
      'Key-Pair-Id',
      'Policy',
      'Signature',
    ]);
  });

  for (const [query, reported] of [
    ['Expires=1700000000', 'Expires'],
    ['Policy=abc', 'Policy'],
    ['Signature=abc', 'Signature'],
    ['Key-Pair-Id=K2JCJMDEHXQW5F', 'Key-Pair-Id'],
    ['Hash-Algorithm=SHA256', 'Hash-Algorithm'],
    ['expires=1', 'expires'],
    ['POLICY=1', 'POLICY'],
    ['key-pair-id=1', 'key-pair-id'],
    ['hash-algorithm', 'hash-algorithm'],
    ['Signature', 'Signature'],
    ['a=1&Expires=2', 'Expires'],
    ['a=1&b=2&signature=', 'signature'],
    ['%45xpires=1', 'Expires'],
    ['%65xpires=1', 'expires'],
    ['Key%2DPair%2DId=1', 'Key-Pair-Id'],
    ['%50%6F%6C%69%63%79=1', 'Policy'],
    ['Hash%2dAlgorithm=SHA1', 'Hash-Algorithm'],
  ] as const) {
    it(`rejects the reserved parameter in ?${query} with ERR_URL_RESERVED_PARAMETER`, () => {
      assert.throws(
        () => {
          assertSignableUrl(`${BASE}/a?${query}`);
        },
        signerError('ERR_URL_RESERVED_PARAMETER', `named '${reported}'`),
      );
    });
  }
});

describe('normalizeDistributionUrl', () => {
  for (const [input, output] of [
    [BASE, BASE],
    [`${BASE}/`, BASE],
    [`${BASE}/prefix`, `${BASE}/prefix`],
    [`${BASE}/prefix/`, `${BASE}/prefix`],
    [`${BASE}/a/b%20c/`, `${BASE}/a/b%20c`],
    ['http://localhost:8080', 'http://localhost:8080'],
  ] as const) {
    it(`turns ${input} into ${output}`, () => {
      assert.equal(normalizeDistributionUrl(input), output);
    });
  }

  for (const input of [`${BASE}?a=b`, `${BASE}/?a=b`, `${BASE}/prefix?`, `${BASE}?`]) {
    it(`refuses the query string in ${input} with ERR_URL_INVALID`, () => {
      assert.throws(
        () => normalizeDistributionUrl(input),
        signerError('ERR_URL_INVALID', 'must not have a query string'),
      );
    });
  }

  it('refuses the empty string with ERR_URL_INVALID', () => {
    assert.throws(
      () => normalizeDistributionUrl(''),
      signerError('ERR_URL_INVALID', 'non-empty string'),
    );
  });

  for (const [input, code, message] of [
    ['ftp://h/', 'ERR_URL_INVALID', "not 'ftp'"],
    ['d111111abcdef8.cloudfront.net', 'ERR_URL_INVALID', 'absolute URL'],
    [`${BASE}/#x`, 'ERR_URL_INVALID', 'fragment'],
    ['https://D111111abcdef8.cloudfront.net', 'ERR_URL_NOT_CANONICAL', 'https://d111111abcdef8'],
    ['https://h:443', 'ERR_URL_NOT_CANONICAL', 'https://h/'],
    ['https://h/a/../b', 'ERR_URL_NOT_CANONICAL', 'https://h/b/'],
  ] as const) {
    it(`refuses ${input} with ${code}`, () => {
      assert.throws(() => normalizeDistributionUrl(input), signerError(code, message));
    });
  }
});

describe('buildObjectUrl', () => {
  for (const [base, key, url] of [
    [BASE, 'photo.jpg', `${BASE}/photo.jpg`],
    [`${BASE}/`, 'photo.jpg', `${BASE}/photo.jpg`],
    [BASE, 'dir/a b.txt', `${BASE}/dir/a%20b.txt`],
    [BASE, 'ü?#', `${BASE}/%C3%BC%3F%23`],
    [BASE, 'a*b', `${BASE}/a%2Ab`],
    [BASE, 'report?Expires=1', `${BASE}/report%3FExpires%3D1`],
    [`${BASE}/media/`, '2024/01/clip 1.mp4', `${BASE}/media/2024/01/clip%201.mp4`],
    [BASE, '/leading', `${BASE}//leading`],
    [BASE, '100%', `${BASE}/100%25`],
  ] as const) {
    it(`builds ${url} from ${JSON.stringify(key)} under ${base}`, () => {
      assert.equal(buildObjectUrl(base, key), url);
    });
  }

  it('refuses an invalid key with ERR_OBJECT_KEY_INVALID', () => {
    assert.throws(
      () => buildObjectUrl(BASE, 'a/../b'),
      signerError('ERR_OBJECT_KEY_INVALID', 'path segment'),
    );
    assert.throws(
      () => buildObjectUrl(BASE, ''),
      signerError('ERR_OBJECT_KEY_INVALID', 'non-empty'),
    );
  });

  it('refuses an invalid distribution URL before looking at the key', () => {
    assert.throws(
      () => buildObjectUrl(`${BASE}?x=1`, 'a'),
      signerError('ERR_URL_INVALID', 'query string'),
    );
  });

  it('builds, for every valid key, a URL that assertSignableUrl accepts and that decodes to the key', () => {
    const base = fc.constantFrom(
      BASE,
      `${BASE}/`,
      `${BASE}/prefix`,
      'https://cdn.example.com/a/b/',
      'http://localhost:8080',
    );
    fc.assert(
      fc.property(base, validKey, (distribution, key) => {
        const url = buildObjectUrl(distribution, key);
        assert.doesNotThrow(() => {
          assertSignableUrl(url);
        });
        const prefix = `${distribution.replace(/\/$/, '')}/`;
        assert.ok(url.startsWith(prefix));
        assert.equal(decodeURIComponent(url.slice(prefix.length)), key);
        assert.equal(new URL(url).href, url);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses with ERR_URL_INVALID, rather than returns, an object URL longer than CloudFront accepts', () => {
    // A valid base (6,041 characters) and a valid key (1,024 bytes) whose URL is 9,111 characters.
    const base = `${BASE}/${'p'.repeat(6000)}`;
    const key = 'ü'.repeat(512);
    assert.doesNotThrow(() => normalizeDistributionUrl(base));
    let url: string | undefined;
    let failure: unknown;
    try {
      url = buildObjectUrl(base, key);
    } catch (error) {
      failure = error;
    }
    assert.ok(url === undefined, `returned a ${String(url?.length)}-character URL`);
    assert.ok(signerError('ERR_URL_INVALID', '8192')(failure));
  });
});
