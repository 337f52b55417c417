import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { SignerError } from '../../src/errors.ts';
import {
  MAX_OBJECT_KEY_BYTES,
  assertValidObjectKey,
  encodeObjectKey,
} from '../../src/core/object-key.ts';

const BASE = 'https://d111111abcdef8.cloudfront.net/';

/** Keys and URLs made with Python's urllib.parse.quote(key, safe='/') (scripts/make-vectors.py). */
const PYTHON_QUOTED = (
  JSON.parse(readFileSync(new URL('../vectors/botocore.json', import.meta.url), 'utf8')) as {
    vectors: { name: string; objectKey?: string; url: string }[];
  }
).vectors.filter(
  (v) => v.objectKey !== undefined && v.url.startsWith(BASE) && !v.url.includes('?'),
);

const ENCODED_FORM = /^(?:[A-Za-z0-9\-._~/]|%[0-9A-F]{2})*$/;

function keyError(expected: RegExp | string): (error: unknown) => boolean {
  return (error) =>
    error instanceof SignerError &&
    error.code === 'ERR_OBJECT_KEY_INVALID' &&
    (typeof expected === 'string'
      ? error.message.includes(expected)
      : expected.test(error.message));
}

/** The code points a key may not contain, written out from the rules (not from the source). */
function isForbiddenCodePoint(codePoint: number): boolean {
  return (
    codePoint <= 0x1f || // C0 controls
    (codePoint >= 0x7f && codePoint <= 0x9f) || // DEL and C1 controls
    (codePoint >= 0xd800 && codePoint <= 0xdfff) || // lone surrogate halves
    codePoint === 0x061c ||
    codePoint === 0x200e ||
    codePoint === 0x200f ||
    (codePoint >= 0x202a && codePoint <= 0x202e) ||
    (codePoint >= 0x2066 && codePoint <= 0x2069)
  );
}

function isValidKeyByTheRules(key: string): boolean {
  if (key.length === 0 || new TextEncoder().encode(key).length > MAX_OBJECT_KEY_BYTES) return false;
  for (const character of key) {
    if (isForbiddenCodePoint(character.codePointAt(0) ?? 0)) return false;
  }
  return !key.split('/').some((segment) => segment === '.' || segment === '..');
}

const TRICKY = [
  '/',
  '.',
  '..',
  '*',
  '?',
  '%',
  '#',
  '+',
  ' ',
  '&',
  '=',
  '~',
  '!',
  "'",
  '(',
  ')',
  '\\',
  '"',
  '<',
  '`',
  '%2F',
  '%41',
  'é',
  'e\u0301',
  '\u00a0',
  '\u00ad',
  '\u200b',
  '\ufeff',
  '\ufffd',
  '😀',
  '👩‍👩‍👧',
  '\u{10ffff}',
];

const keyCharacter = fc.oneof(
  fc
    .string({ unit: 'binary', minLength: 1, maxLength: 1 })
    .filter((c) => !isForbiddenCodePoint(c.codePointAt(0) ?? 0)),
  fc.constantFrom(...TRICKY),
);

/** Valid object keys over the whole of Unicode, with URL-significant characters mixed in. */
const validKey = fc
  .array(keyCharacter, { minLength: 1, maxLength: 24 })
  .map((parts) => parts.join(''))
  .filter(isValidKeyByTheRules);

describe('encodeObjectKey', () => {
  const TABLE: readonly (readonly [string, string])[] = [
    ['photo.jpg', 'photo.jpg'],
    ['a b', 'a%20b'],
    ['ü', '%C3%BC'],
    ['?', '%3F'],
    ['#', '%23'],
    ['%', '%25'],
    ['%20', '%2520'],
    ['%2F', '%252F'],
    ['+', '%2B'],
    ['&', '%26'],
    ['=', '%3D'],
    ['*', '%2A'],
    ["!'()", '%21%27%28%29'],
    ['~._-', '~._-'],
    ['AZaz09', 'AZaz09'],
    ['dir/sub/file.txt', 'dir/sub/file.txt'],
    ['/leading//double/', '/leading//double/'],
    ['a/.b/..c/...', 'a/.b/..c/...'],
    ['\\', '%5C'],
    ['"<>`{}|^', '%22%3C%3E%60%7B%7D%7C%5E'],
    [':@;,$[]', '%3A%40%3B%2C%24%5B%5D'],
    ['é', '%C3%A9'],
    ['e\u0301', 'e%CC%81'],
    ['\u00a0', '%C2%A0'],
    ['€', '%E2%82%AC'],
    ['😀', '%F0%9F%98%80'],
    ['\u{10ffff}', '%F4%8F%BF%BF'],
    ['a*b?c', 'a%2Ab%3Fc'],
  ];
  for (const [key, encoded] of TABLE) {
    it(`encodes ${JSON.stringify(key)} as ${encoded}`, () => {
      assert.equal(encodeObjectKey(key), encoded);
    });
  }

  for (const vector of PYTHON_QUOTED) {
    it(`encodes the key of ${vector.name} as Python's quote(key, safe='/') does`, () => {
      assert.equal(encodeObjectKey(vector.objectKey ?? ''), vector.url.slice(BASE.length));
    });
  }

  it('keeps NFC and NFD spellings of é as different keys', () => {
    const nfc = 'caf\u00e9';
    const nfd = 'cafe\u0301';
    assert.equal(nfc.normalize('NFC'), nfd.normalize('NFC'));
    assert.equal(encodeObjectKey(nfc), 'caf%C3%A9');
    assert.equal(encodeObjectKey(nfd), 'cafe%CC%81');
  });

  it('accepts a key of exactly 1024 UTF-8 bytes', () => {
    assert.equal(encodeObjectKey('a'.repeat(1024)), 'a'.repeat(1024));
    const twoByte = 'ü'.repeat(512);
    assert.equal(encodeObjectKey(twoByte), '%C3%BC'.repeat(512));
  });

  it('decodes back to the key for every valid key (decodeURIComponent is its inverse)', () => {
    fc.assert(
      fc.property(validKey, (key) => {
        assert.equal(decodeURIComponent(encodeObjectKey(key)), key);
      }),
      { numRuns: 1000 },
    );
  });

  it('gives distinct keys distinct encodings', () => {
    fc.assert(
      fc.property(validKey, validKey, (a, b) => {
        fc.pre(a !== b);
        assert.notEqual(encodeObjectKey(a), encodeObjectKey(b));
      }),
      { numRuns: 500 },
    );
  });

  it('gives keys that differ in one character distinct encodings', () => {
    fc.assert(
      fc.property(validKey, keyCharacter, keyCharacter, (key, x, y) => {
        fc.pre(x !== y && isValidKeyByTheRules(key + x) && isValidKeyByTheRules(key + y));
        assert.notEqual(encodeObjectKey(key + x), encodeObjectKey(key + y));
      }),
      { numRuns: 500 },
    );
  });

  it('writes only unreserved characters, / and uppercase %XX, never * or ?', () => {
    fc.assert(
      fc.property(validKey, (key) => {
        const encoded = encodeObjectKey(key);
        assert.match(encoded, ENCODED_FORM);
        assert.ok(!encoded.includes('*'));
        assert.ok(!encoded.includes('?'));
      }),
      { numRuns: 1000 },
    );
  });

  it('leaves exactly the unreserved characters and / unencoded', () => {
    fc.assert(
      fc.property(validKey, (key) => {
        const encoded = encodeObjectKey(key);
        const literal = encoded.replace(/%[0-9A-F]{2}/g, '');
        for (const character of key) {
          const keep = /^[A-Za-z0-9\-._~/]$/.test(character);
          if (!keep) assert.ok(!literal.includes(character), `${character} left raw`);
        }
        // Every escape stands for a byte that is not an unreserved ASCII character or '/'.
        for (const escape of encoded.match(/%[0-9A-F]{2}/g) ?? []) {
          const byte = Number.parseInt(escape.slice(1), 16);
          assert.ok(!/^[A-Za-z0-9\-._~/]$/.test(String.fromCharCode(byte)), `${escape} needless`);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('assertValidObjectKey', () => {
  it('accepts ordinary and unusual but valid keys', () => {
    for (const key of ['a', 'dir/file', '.hidden', 'a..b', '...', '*', '?', '😀', '\u200b']) {
      assert.doesNotThrow(() => {
        assertValidObjectKey(key);
      }, key);
    }
  });

  it('rejects the empty string and non-strings with ERR_OBJECT_KEY_INVALID', () => {
    for (const key of ['', undefined, null, 42, ['a'], { key: 'a' }]) {
      assert.throws(
        () => {
          assertValidObjectKey(key);
        },
        keyError(/non-empty string/),
      );
    }
    assert.throws(() => encodeObjectKey(''), keyError(/non-empty string/));
  });

  for (const [label, key] of [
    ['a lone high surrogate', 'a\uD800b'],
    ['a lone low surrogate', 'a\uDC00b'],
    ['a trailing high surrogate', 'abc\uD83D'],
    ['reversed surrogate halves', '\uDE00\uD83D'],
  ] as const) {
    it(`rejects ${label} with ERR_OBJECT_KEY_INVALID`, () => {
      assert.throws(() => encodeObjectKey(key), keyError(/lone surrogate/));
    });
  }

  it('rejects a key of 1025 UTF-8 bytes with ERR_OBJECT_KEY_INVALID, naming the size', () => {
    assert.throws(() => encodeObjectKey('a'.repeat(1025)), keyError(/1025 bytes.*1024/));
    // 512 × 2 bytes + 1 byte: only 513 UTF-16 units, but 1025 bytes of UTF-8.
    assert.throws(() => encodeObjectKey('ü'.repeat(512) + 'a'), keyError(/1025 bytes/));
    // 256 × 4 bytes + 1: the length in code units (513) is far below 1024.
    assert.throws(() => encodeObjectKey('😀'.repeat(256) + 'a'), keyError(/1025 bytes/));
  });

  for (const [label, key, codePoint] of [
    ['NUL', 'a\u0000b', 'U+0000'],
    ['a tab', 'a\tb', 'U+0009'],
    ['a line feed', 'a\nb', 'U+000A'],
    ['a carriage return', 'a\rb', 'U+000D'],
    ['unit separator U+001F', 'a\u001fb', 'U+001F'],
    ['DEL', 'a\u007fb', 'U+007F'],
    ['the C1 control U+0080', 'a\u0080b', 'U+0080'],
    ['the C1 control U+0085 (next line)', 'a\u0085b', 'U+0085'],
    ['the C1 control U+009F', 'a\u009fb', 'U+009F'],
  ] as const) {
    it(`rejects ${label} with ERR_OBJECT_KEY_INVALID, naming ${codePoint}`, () => {
      assert.throws(
        () => encodeObjectKey(key),
        keyError(`control character ${codePoint} at index 1`),
      );
    });
  }

  for (const [label, key, codePoint] of [
    ['right-to-left override U+202E', 'invoice\u202Efdp.exe', 'U+202E'],
    ['left-to-right isolate U+2066', '\u2066a', 'U+2066'],
    ['pop directional isolate U+2069', 'a\u2069', 'U+2069'],
    ['left-to-right embedding U+202A', 'a\u202Ab', 'U+202A'],
    ['right-to-left mark U+200F', 'a\u200Fb', 'U+200F'],
    ['left-to-right mark U+200E', 'a\u200Eb', 'U+200E'],
    ['Arabic letter mark U+061C', 'a\u061Cb', 'U+061C'],
  ] as const) {
    it(`rejects the bidi character ${label} with ERR_OBJECT_KEY_INVALID`, () => {
      assert.throws(
        () => encodeObjectKey(key),
        keyError(`bidirectional formatting character ${codePoint}`),
      );
    });
  }

  for (const key of ['.', '..', './a', '../a', 'a/.', 'a/..', 'a/./b', 'a/../b', '/./', 'a//..']) {
    it(`rejects the dot segment in ${JSON.stringify(key)} with ERR_OBJECT_KEY_INVALID`, () => {
      assert.throws(() => encodeObjectKey(key), keyError(/'\.' or '\.\.' path segment/));
    });
  }

  it('rejects every valid key once a forbidden code point is inserted', () => {
    const forbidden = fc.oneof(
      fc.integer({ min: 0, max: 0x1f }),
      fc.integer({ min: 0x7f, max: 0x9f }),
      fc.integer({ min: 0xd800, max: 0xdfff }),
      fc.constantFrom(0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e),
      fc.constantFrom(0x2066, 0x2067, 0x2068, 0x2069),
    );
    fc.assert(
      fc.property(validKey, forbidden, fc.nat(), (key, codePoint, at) => {
        const characters = Array.from(key);
        characters.splice(at % (characters.length + 1), 0, String.fromCharCode(codePoint));
        const bad = characters.join('');
        // Inserting a lone surrogate half next to another can never form a pair here, as the
        // key has no lone halves and the inserted unit sits between whole code points.
        assert.throws(() => encodeObjectKey(bad), keyError(/./));
      }),
      { numRuns: 500 },
    );
  });

  it('accepts exactly the keys the rules allow, over arbitrary Unicode', () => {
    const anyKey = fc
      .array(
        fc.oneof(
          fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
          fc.constantFrom(...TRICKY, '\uD800', '\uDFFF', '\u202E', '\u0085', '\u007f'),
        ),
        { maxLength: 12 },
      )
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(anyKey, (key) => {
        let accepted = true;
        try {
          assertValidObjectKey(key);
        } catch (error) {
          assert.ok(error instanceof SignerError && error.code === 'ERR_OBJECT_KEY_INVALID');
          accepted = false;
        }
        assert.equal(accepted, isValidKeyByTheRules(key), JSON.stringify(key));
      }),
      { numRuns: 1000 },
    );
  });
});
