import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';

import {
  assertResourcePattern,
  buildObjectPattern,
  hasWildcard,
  matchesResourcePattern,
} from '../../src/core/resource-pattern.ts';
import { buildObjectUrl } from '../../src/core/signable-url.ts';
import { signerError } from '../helpers/errors.ts';

const BASE = 'https://d111111abcdef8.cloudfront.net';

/** Reference matcher: the pattern escaped into an anchored RegExp, `*` → `[\s\S]*`, `?` → `[\s\S]`. */
function referenceMatch(pattern: string, url: string): boolean {
  const source = pattern
    .split('')
    .map((c) =>
      c === '*' ? '[\\s\\S]*' : c === '?' ? '[\\s\\S]' : c.replace(/[\\^$.|+()[\]{}/-]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${source}$`).test(url);
}

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

function keyOf(tricky: readonly string[]): fc.Arbitrary<string> {
  return fc
    .array(
      fc.oneof(
        fc
          .string({ unit: 'binary', minLength: 1, maxLength: 1 })
          .filter((c) => !isForbiddenCodePoint(c.codePointAt(0) ?? 0)),
        fc.constantFrom(...tricky),
      ),
      { minLength: 1, maxLength: 20 },
    )
    .map((parts) => parts.join(''))
    .filter(isValidKeyByTheRules);
}

const TRICKY = ['/', '.', '%', '#', '+', ' ', '&', '=', '~', 'é', 'e\u0301', '😀', '\\', '"'];
/** Any valid key, `*` and `?` included (for a key, they are ordinary characters). */
const validKey = keyOf([...TRICKY, '*']).filter((k) => !k.includes('?'));
/** Valid keys without `*` or `?`, so a key pattern made of one names only that key. */
const literalKey = keyOf(TRICKY).filter((k) => !/[*?]/.test(k));

describe('matchesResourcePattern', () => {
  for (const [pattern, url, expected] of [
    ['', '', true],
    ['', 'a', false],
    ['*', '', true],
    ['*', 'anything at all', true],
    ['**', '', true],
    ['a*', 'a', true],
    ['a*', 'abc', true],
    ['a*', 'ba', false],
    ['*a', 'ba', true],
    ['*a', 'ab', false],
    ['a*b', 'ab', true],
    ['a*b', 'a--b', true],
    ['a*b', 'abab', true],
    ['a*b', 'abac', false],
    ['?', '', false],
    ['?', 'a', true],
    ['?', 'ab', false],
    ['a?', 'a', false],
    ['a?', 'ab', true],
    ['a?', 'abc', false],
    ['a?c', 'a?c', true],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['a*?', 'a', false],
    ['a*?', 'ab', true],
    ['*?*', '', false],
    ['*?*', 'x', true],
    ['*a*b*', 'xxaxxbxx', true],
    ['*a*b*', 'xxbxxaxx', false],
    ['*aab', 'aaab', true],
    ['*ab*cd', 'abxabcd', true],
    ['https://h/a', 'https://h/a', true],
    ['https://h/a', 'https://h/a/b', false],
    ['h/a', 'https://h/a', false],
    ['https://h/a', 'https://h/', false],
    ['https://h/a*', 'https://h/a/b?x=1', true],
    ['https://h/*.jpg', 'https://h/dir/x.jpg', true],
    ['https://h/*.jpg', 'https://h/x.jpg?y=1', false],
    ['https://h/?.jpg', 'https://h/%41.jpg', false],
    ['https://h/???.jpg', 'https://h/%41.jpg', true],
    ['https://h/a.jpg', 'https://h/aXjpg', false],
  ] as const) {
    it(`${expected ? 'matches' : 'does not match'} ${JSON.stringify(url)} against ${JSON.stringify(pattern)}`, () => {
      assert.equal(matchesResourcePattern(pattern, url), expected);
      // The reference agrees with the hand-written expectation, so it can be trusted below.
      assert.equal(referenceMatch(pattern, url), expected);
    });
  }

  it('agrees with an anchored RegExp reference over a small alphabet', () => {
    const small = fc.string({ unit: fc.constantFrom('a', 'b', '*', '?', '/'), maxLength: 10 });
    let matched = 0;
    fc.assert(
      fc.property(small, small, (pattern, url) => {
        const expected = referenceMatch(pattern, url);
        if (expected) matched += 1;
        assert.equal(matchesResourcePattern(pattern, url), expected);
      }),
      { numRuns: 1000 },
    );
    assert.ok(matched > 50, `only ${matched} of 1000 pairs matched`);
  });

  it('agrees with the reference when the URL is made to match by construction', () => {
    // Each `*` becomes a random run and each `?` a random character, so the expected answer is true.
    const piece = fc.oneof(
      fc.constantFrom('a', 'b', '/', '.', '%'),
      fc.constant('*'),
      fc.constant('?'),
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 10 }),
        fc.array(fc.string({ unit: fc.constantFrom('a', 'b', '*', '?', '/'), maxLength: 4 }), {
          minLength: 10,
          maxLength: 10,
        }),
        (pieces, fills) => {
          const pattern = pieces.join('');
          const url = pieces
            .map((p, i) => {
              const fill = fills[i] ?? '';
              return p === '*' ? fill : p === '?' ? fill.charAt(0) || 'z' : p;
            })
            .join('');
          assert.equal(referenceMatch(pattern, url), true);
          assert.equal(matchesResourcePattern(pattern, url), true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('agrees with the reference over full Unicode strings mixed with wildcards', () => {
    const unit = fc.oneof(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
      fc.constantFrom('*', '?', 'a', '\n', '😀'),
    );
    const text = fc.string({ unit, maxLength: 8 });
    fc.assert(
      fc.property(text, text, (pattern, url) => {
        assert.equal(matchesResourcePattern(pattern, url), referenceMatch(pattern, url));
      }),
      { numRuns: 500 },
    );
  });

  it('stays fast on a long pattern of many stars against a long URL', () => {
    const pattern = `${'*a'.repeat(200)}*b`;
    const url = 'a'.repeat(8000);
    const started = performance.now();
    assert.equal(matchesResourcePattern(pattern, url), false);
    assert.ok(performance.now() - started < 2000);
  });
});

describe('hasWildcard', () => {
  it('finds * and ? and nothing else', () => {
    assert.equal(hasWildcard('https://h/a*'), true);
    assert.equal(hasWildcard('https://h/a?b=1'), true);
    assert.equal(hasWildcard('https://h/a%2A%3F'), false);
    assert.equal(hasWildcard(''), false);
  });
});

describe('assertResourcePattern', () => {
  for (const pattern of [
    'https://h/a',
    `${BASE}/*`,
    '*',
    'https://h/a?b=*',
    'http*://h/?',
    `${BASE}/${'a'.repeat(8192 - BASE.length - 1)}`,
  ]) {
    it(`accepts ${pattern.length > 60 ? `a pattern of ${pattern.length} characters` : pattern}`, () => {
      assert.doesNotThrow(() => {
        assertResourcePattern(pattern);
      });
    });
  }

  for (const value of [undefined, null, 42, ['*'], '']) {
    it(`rejects ${value === '' ? 'the empty string' : String(value)} with ERR_RESOURCE_INVALID`, () => {
      assert.throws(
        () => {
          assertResourcePattern(value);
        },
        signerError('ERR_RESOURCE_INVALID', 'non-empty string'),
      );
    });
  }

  it('rejects a pattern over 8192 characters with ERR_RESOURCE_INVALID', () => {
    assert.throws(
      () => {
        assertResourcePattern(`${BASE}/${'a'.repeat(8192)}`);
      },
      signerError('ERR_RESOURCE_INVALID', 'at most 8192'),
    );
  });

  for (const [label, pattern] of [
    ['a space', 'https://h/a b'],
    ['a double quote', 'https://h/a"b'],
    ['a backslash', 'https://h/a\\b'],
    ['a hash', 'https://h/a#b'],
    ['a tab', 'https://h/a\tb'],
    ['DEL', 'https://h/a\u007fb'],
    ['a non-ASCII letter', 'https://h/ü'],
    ['an emoji', 'https://h/😀'],
    ['a lone surrogate', 'https://h/\uD800'],
  ] as const) {
    it(`rejects ${label} with ERR_RESOURCE_INVALID`, () => {
      assert.throws(
        () => {
          assertResourcePattern(pattern);
        },
        signerError('ERR_RESOURCE_INVALID', 'only visible ASCII'),
      );
    });
  }

  it('accepts every visible ASCII pattern without ", \\ or #, and rejects every other', () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.oneof(
            fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 1 }),
            fc.constantFrom('ü', '\u00a0'),
          ),
          minLength: 1,
          maxLength: 20,
        }),
        (pattern) => {
          const allowed = Array.from(pattern).every((c) => {
            const code = c.charCodeAt(0);
            return code >= 0x21 && code <= 0x7e && c !== '"' && c !== '\\' && c !== '#';
          });
          let accepted = true;
          try {
            assertResourcePattern(pattern);
          } catch (error) {
            assert.ok(signerError('ERR_RESOURCE_INVALID', 'only visible ASCII')(error));
            accepted = false;
          }
          assert.equal(accepted, allowed);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('buildObjectPattern', () => {
  for (const [keyPattern, pattern] of [
    ['*', `${BASE}/*`],
    ['dir/*', `${BASE}/dir/*`],
    ['a b*.jpg', `${BASE}/a%20b*.jpg`],
    ['ü*', `${BASE}/%C3%BC*`],
    ['img-*.png', `${BASE}/img-*.png`],
    ['a%*', `${BASE}/a%25*`],
    ['#*', `${BASE}/%23*`],
    ["it's (1)*", `${BASE}/it%27s%20%281%29*`],
    ['**', `${BASE}/**`],
    ['plain.txt', `${BASE}/plain.txt`],
  ] as const) {
    it(`builds ${pattern} from the key pattern ${JSON.stringify(keyPattern)}`, () => {
      assert.equal(buildObjectPattern(BASE, keyPattern), pattern);
      assert.equal(buildObjectPattern(`${BASE}/`, keyPattern), pattern);
    });
  }

  it('keeps the distribution path prefix', () => {
    assert.equal(buildObjectPattern(`${BASE}/media/`, 'v*'), `${BASE}/media/v*`);
  });

  it('refuses an invalid key pattern with ERR_RESOURCE_INVALID, calling it a key pattern', () => {
    assert.throws(
      () => buildObjectPattern(BASE, '../*'),
      signerError('ERR_RESOURCE_INVALID', "key pattern has a '.' or '..' path segment"),
    );
    assert.throws(
      () => buildObjectPattern(BASE, 'a\u202E*'),
      signerError('ERR_RESOURCE_INVALID', 'U+202E'),
    );
    assert.throws(
      () => buildObjectPattern(BASE, ''),
      signerError('ERR_RESOURCE_INVALID', 'key pattern must be a non-empty string'),
    );
    assert.throws(
      () => buildObjectPattern(BASE, `${'a'.repeat(1025)}*`),
      signerError('ERR_RESOURCE_INVALID', 'key pattern is 1026 bytes'),
    );
  });

  it('refuses a distribution URL with a query with ERR_URL_INVALID', () => {
    assert.throws(
      () => buildObjectPattern(`${BASE}?a=1`, '*'),
      signerError('ERR_URL_INVALID', 'query string'),
    );
  });

  it('builds exactly buildObjectUrl for a key without wildcards', () => {
    fc.assert(
      fc.property(literalKey, (key) => {
        assert.equal(buildObjectPattern(BASE, key), buildObjectUrl(BASE, key));
      }),
      { numRuns: 500 },
    );
  });

  it('builds a pattern that passes assertResourcePattern for every valid key pattern', () => {
    fc.assert(
      fc.property(validKey, (keyPattern) => {
        assert.doesNotThrow(() => {
          assertResourcePattern(buildObjectPattern(BASE, keyPattern));
        });
      }),
      { numRuns: 500 },
    );
  });

  it('matches, with a key prefix and a trailing *, the URL of every key under that prefix', () => {
    fc.assert(
      fc.property(literalKey, literalKey, (prefix, rest) => {
        const key = `${prefix}/${rest}`;
        const pattern = buildObjectPattern(BASE, `${prefix}/*`);
        assert.ok(matchesResourcePattern(pattern, buildObjectUrl(BASE, key)));
      }),
      { numRuns: 300 },
    );
  });

  it('matches buildObjectUrl(base, key) with the pattern of key + "*", for every valid key', () => {
    fc.assert(
      fc.property(validKey, (key) => {
        const pattern = buildObjectPattern(BASE, `${key}*`);
        const url = buildObjectUrl(BASE, key);
        assert.ok(matchesResourcePattern(pattern, url), `${pattern} does not match ${url}`);
      }),
      { numRuns: 500 },
    );
  });

  it("refuses a '?' in a key pattern with ERR_RESOURCE_INVALID, since it would match one URL byte, not one character", () => {
    for (const keyPattern of ['file?.txt', '?', 'ü?*']) {
      assert.throws(
        () => buildObjectPattern(BASE, keyPattern),
        signerError('ERR_RESOURCE_INVALID', "not '?'"),
      );
    }
  });

  it('does not match, with a * key pattern, keys outside the prefix', () => {
    const pattern = buildObjectPattern(BASE, 'private/*');
    assert.equal(matchesResourcePattern(pattern, buildObjectUrl(BASE, 'public/a')), false);
    assert.equal(matchesResourcePattern(pattern, buildObjectUrl(BASE, 'private')), false);
    assert.equal(matchesResourcePattern(pattern, buildObjectUrl(BASE, 'private%2Fa')), false);
  });
});
