import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  CLOUDFRONT_BASE64_PATTERN,
  decodeCloudFrontBase64,
  encodeCloudFrontBase64,
  findNonCloudFrontBase64Character,
} from '../../src/core/cloudfront-base64.ts';

const CLOUDFRONT_ALPHABET = /^[A-Za-z0-9\-_~]*$/;
// The 64 data characters in value order, as CloudFront spells them (62 → '-', 63 → '~').
const CLOUDFRONT_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-~';

/** RFC 4648 base64url from Node, turned into CloudFront's spelling by hand: `_`→`~`, pad with `_`. */
function referenceEncode(bytes: Uint8Array): string {
  const url = Buffer.from(bytes).toString('base64url').replace(/_/g, '~');
  return url.padEnd(Math.ceil(url.length / 4) * 4, '_');
}

/** Signed links made by botocore (see scripts/make-vectors.py), an independent encoder. */
const BOTOCORE_LINKS = (
  JSON.parse(readFileSync(new URL('../vectors/botocore.json', import.meta.url), 'utf8')) as {
    vectors: { name: string; policy: string; signedUrl: string }[];
  }
).vectors;

/** A query parameter of a signed link, exactly as written (no percent- or plus-decoding). */
function rawParameter(link: string, name: string): string | undefined {
  const query = link.slice(link.indexOf('?') + 1);
  const pair = query.split('&').find((p) => p.startsWith(`${name}=`));
  return pair?.slice(name.length + 1);
}

const nonEmptyBytes = fc.uint8Array({ minLength: 1, maxLength: 64 });

// Hand-checked: bytes, their standard base64 (RFC 4648 §4), and CloudFront's spelling of it.
const EXAMPLES: readonly (readonly [readonly number[], string, string])[] = [
  [[0xfb, 0xff], '+/8=', '-~8_'],
  [[0xfb, 0xef, 0xbe], '++++', '----'],
  [[0xff, 0xff, 0xff], '////', '~~~~'],
  [[0xfb, 0xff, 0xbf], '+/+/', '-~-~'],
  [[0x00], 'AA==', 'AA__'],
  [[0xff], '/w==', '~w__'],
  [[0x4d, 0x61, 0x6e], 'TWFu', 'TWFu'],
  [[0x41, 0x41], 'QUE=', 'QUE_'],
];

describe('encodeCloudFrontBase64', () => {
  for (const [bytes, standard, cloudFront] of EXAMPLES) {
    it(`encodes [${bytes.map((b) => `0x${b.toString(16)}`).join(', ')}] (standard ${standard}) as ${cloudFront}`, () => {
      assert.equal(Buffer.from(bytes).toString('base64'), standard);
      assert.equal(encodeCloudFrontBase64(new Uint8Array(bytes)), cloudFront);
    });
  }

  it('encodes a string as its UTF-8 bytes', () => {
    // 'ü' is C3 BC in UTF-8: 110000 111011 1100(00) → w 7 w, padded.
    assert.equal(encodeCloudFrontBase64('ü'), 'w7w_');
    assert.equal(encodeCloudFrontBase64('Man'), 'TWFu');
  });

  it('encodes no bytes as the empty string', () => {
    assert.equal(encodeCloudFrontBase64(new Uint8Array(0)), '');
    assert.equal(encodeCloudFrontBase64(''), '');
  });

  it('encodes a Buffer exactly like the same bytes in a Uint8Array', () => {
    assert.equal(encodeCloudFrontBase64(Buffer.from([0xfb, 0xff])), '-~8_');
  });

  it('only ever writes A-Z, a-z, 0-9, -, _ and ~', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 96 }), (bytes) => {
        const encoded = encodeCloudFrontBase64(bytes);
        assert.match(encoded, CLOUDFRONT_ALPHABET);
        assert.equal(encoded.length % 4, 0);
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with base64url rewritten to CloudFront spelling by hand', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 96 }), (bytes) => {
        assert.equal(encodeCloudFrontBase64(bytes), referenceEncode(bytes));
      }),
      { numRuns: 500 },
    );
  });

  it('encodes a view into a larger buffer as exactly the bytes it shows', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 96 }),
        fc.nat(),
        fc.nat(),
        (whole, start, length) => {
          const from = start % whole.length;
          const view = whole.subarray(from, from + (length % (whole.length - from + 1)));
          assert.equal(encodeCloudFrontBase64(view), referenceEncode(Uint8Array.from(view)));
          assert.equal(
            encodeCloudFrontBase64(Buffer.from(view)),
            referenceEncode(Uint8Array.from(view)),
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it('encodes any Unicode string as the base64 of its UTF-8 bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (text) => {
        assert.equal(encodeCloudFrontBase64(text), referenceEncode(new TextEncoder().encode(text)));
      }),
      { numRuns: 300 },
    );
  });

  it('differs from RFC 4648 base64url exactly when padding or a 63 digit is needed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 48 }), (bytes) => {
        const base64url = Buffer.from(bytes).toString('base64url');
        const same = bytes.length % 3 === 0 && !base64url.includes('_');
        assert.equal(encodeCloudFrontBase64(bytes) === base64url, same);
      }),
      { numRuns: 500 },
    );
  });

  it('differs from base64url on the hand-checked [0xfb, 0xff]', () => {
    assert.equal(Buffer.from([0xfb, 0xff]).toString('base64url'), '-_8');
    assert.notEqual(encodeCloudFrontBase64(new Uint8Array([0xfb, 0xff])), '-_8');
  });
});

describe('decodeCloudFrontBase64', () => {
  for (const [bytes, , cloudFront] of EXAMPLES) {
    it(`decodes ${cloudFront} back to [${bytes.map((b) => `0x${b.toString(16)}`).join(', ')}]`, () => {
      assert.deepEqual(decodeCloudFrontBase64(cloudFront), Buffer.from(bytes));
    });
  }

  it('returns the original bytes for every non-empty encoding', () => {
    fc.assert(
      fc.property(nonEmptyBytes, (bytes) => {
        assert.deepEqual(decodeCloudFrontBase64(encodeCloudFrontBase64(bytes)), Buffer.from(bytes));
      }),
      { numRuns: 1000 },
    );
  });

  it('returns the original UTF-8 text for every non-empty Unicode string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }), (text) => {
        const decoded = decodeCloudFrontBase64(encodeCloudFrontBase64(text));
        assert.ok(decoded !== undefined);
        assert.equal(decoded.toString('utf8'), text);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses the empty string, which no policy or signature can be', () => {
    assert.equal(decodeCloudFrontBase64(''), undefined);
  });

  for (const [label, text] of [
    ["standard '+' and '/'", '+/8='],
    ["standard '=' padding", 'AA=='],
    ["base64url's '_' where CloudFront writes '~'", 'A_8_'],
    ['unpadded base64url', '-_8'],
    ['a missing padding character', 'AA_'],
    ['an extra character', 'TWFuT'],
    ['padding in the middle', 'AA__TWFu'],
    ['three padding characters', 'A___'],
    ['only padding', '____'],
    ['a space', 'TW u'],
    ['a line break', 'TWFu\nTWFu'],
    ['a non-ASCII letter', 'TWFü'],
    ['an emoji', 'TW😀'],
    ["stray bits after one byte ('QR' instead of 'QQ')", 'QR__'],
    ["stray bits after two bytes ('QUF' instead of 'QUE')", 'QUF_'],
  ] as const) {
    it(`refuses ${label}`, () => {
      assert.equal(decodeCloudFrontBase64(text), undefined);
    });
  }

  it('refuses any encoding with a character outside the CloudFront alphabet inserted', () => {
    const alien = fc.oneof(
      fc.constantFrom('+', '/', '=', ' ', '.', '\n', '%', '\u0000', 'é', '😀', '\uD800'),
      fc
        .string({ unit: 'binary', minLength: 1, maxLength: 1 })
        .filter((c) => !CLOUDFRONT_ALPHABET.test(c)),
    );
    fc.assert(
      fc.property(nonEmptyBytes, alien, fc.nat(), (bytes, character, at) => {
        const encoded = encodeCloudFrontBase64(bytes);
        const index = at % (encoded.length + 1);
        const replaced = encoded.slice(0, index) + character + encoded.slice(index + 1);
        const inserted = encoded.slice(0, index) + character + encoded.slice(index);
        assert.equal(decodeCloudFrontBase64(replaced), undefined);
        assert.equal(decodeCloudFrontBase64(inserted), undefined);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses any encoding whose length is not a multiple of four', () => {
    fc.assert(
      fc.property(nonEmptyBytes, fc.integer({ min: 1, max: 3 }), (bytes, drop) => {
        const encoded = encodeCloudFrontBase64(bytes);
        assert.equal(decodeCloudFrontBase64(encoded.slice(0, -drop)), undefined);
        assert.equal(decodeCloudFrontBase64(encoded + 'A'.repeat(drop)), undefined);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses the spellings that differ only in the unused low bits of the last digit', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 30 }).filter((b) => b.length % 3 !== 0),
        fc.integer({ min: 1, max: 15 }),
        (bytes, delta) => {
          const encoded = encodeCloudFrontBase64(bytes);
          // One leftover byte leaves 4 unused bits in the 2nd digit of the last group; two leave 2 in the 3rd.
          const lastDigitAt = bytes.length % 3 === 1 ? encoded.length - 3 : encoded.length - 2;
          const unusedBits = bytes.length % 3 === 1 ? 4 : 2;
          const digit = CLOUDFRONT_DIGITS.indexOf(encoded.charAt(lastDigitAt));
          assert.equal(digit % 2 ** unusedBits, 0);
          const stray = CLOUDFRONT_DIGITS.charAt(digit + (delta % 2 ** unusedBits || 1));
          const variant = encoded.slice(0, lastDigitAt) + stray + encoded.slice(lastDigitAt + 1);
          assert.notEqual(variant, encoded);
          assert.equal(decodeCloudFrontBase64(variant), undefined);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('gives each byte string exactly one accepted spelling', () => {
    const digit = fc.constantFrom(...CLOUDFRONT_DIGITS.split(''), '_');
    const group = fc.string({ unit: digit, minLength: 4, maxLength: 4 });
    fc.assert(
      fc.property(fc.array(group, { minLength: 1, maxLength: 6 }), (groups) => {
        const text = groups.join('');
        const decoded = decodeCloudFrontBase64(text);
        if (decoded !== undefined) assert.equal(encodeCloudFrontBase64(decoded), text);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('botocore signed links', () => {
  for (const vector of BOTOCORE_LINKS) {
    it(`decodes and re-encodes the Signature and Policy of ${vector.name} unchanged`, () => {
      const signature = rawParameter(vector.signedUrl, 'Signature');
      assert.ok(signature !== undefined);
      const bytes = decodeCloudFrontBase64(signature);
      assert.ok(bytes !== undefined && bytes.length > 0);
      assert.equal(encodeCloudFrontBase64(bytes), signature);
      const policy = rawParameter(vector.signedUrl, 'Policy');
      if (policy !== undefined) {
        assert.equal(decodeCloudFrontBase64(policy)?.toString('utf8'), vector.policy);
        assert.equal(encodeCloudFrontBase64(vector.policy), policy);
      }
    });
  }
});

describe('CLOUDFRONT_BASE64_PATTERN and findNonCloudFrontBase64Character', () => {
  it('accepts the CloudFront alphabet and rejects base64 specials', () => {
    assert.ok(CLOUDFRONT_BASE64_PATTERN.test('AZaz09-_~'));
    assert.ok(!CLOUDFRONT_BASE64_PATTERN.test('a+b'));
    assert.ok(!CLOUDFRONT_BASE64_PATTERN.test('a/b'));
    assert.ok(!CLOUDFRONT_BASE64_PATTERN.test('a=b'));
  });

  it('names the first character outside the alphabet', () => {
    assert.equal(findNonCloudFrontBase64Character('TWFu'), undefined);
    assert.equal(findNonCloudFrontBase64Character('TW+u/'), '+');
    assert.equal(findNonCloudFrontBase64Character('ab=cd'), '=');
    assert.equal(findNonCloudFrontBase64Character('abc d'), ' ');
  });
});
