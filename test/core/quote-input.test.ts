import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SignerError } from '../../src/errors.ts';
import { parseIpv4Block } from '../../src/core/ip-address.ts';
import { quoteInput } from '../../src/core/quote-input.ts';

describe('quoteInput', () => {
  it('quotes printable ASCII as it is', () => {
    assert.equal(quoteInput('1.2.3.4/33'), "'1.2.3.4/33'");
  });

  it('escapes controls, terminal escapes, bidi characters, quotes and backslashes', () => {
    assert.equal(
      quoteInput("a\n\u001b[31m\u202Eb'\\"),
      "'a\\u{000A}\\u{001B}[31m\\u{202E}b\\'\\\\'",
    );
  });

  it('escapes a character outside the BMP as one code point', () => {
    assert.equal(quoteInput('😀'), "'\\u{1F600}'");
  });

  it('cuts long input and says so', () => {
    assert.equal(quoteInput('x'.repeat(100), 5), "'xxxxx…'");
  });

  it('always yields one line of printable ASCII', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        assert.match(quoteInput(text), /^'[\x20-\x7E]*'$|^'[\x20-\x7E]*…'$/);
      }),
    );
  });

  it('keeps a caller-made error message on one line', () => {
    assert.throws(
      () => parseIpv4Block('1.2.3.4\n\u001b[31mRED'),
      (error) =>
        error instanceof SignerError &&
        !error.message.includes('\n') &&
        !error.message.includes('\u001b'),
    );
  });
});
