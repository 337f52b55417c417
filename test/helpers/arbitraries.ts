import fc from 'fast-check';
import { assertValidObjectKey } from '../../src/core/object-key.ts';

const TRICKY = [
  ' ',
  '?',
  '#',
  '%',
  '+',
  '&',
  '=',
  '*',
  '/',
  '~',
  '.',
  'ü',
  'é',
  'e\u0301',
  '🎬',
  '\u200b',
  '\\',
  '"',
  "'",
  '%2F',
  '%25',
];

function isValidObjectKey(key: string): boolean {
  try {
    assertValidObjectKey(key);
    return true;
  } catch {
    return false;
  }
}

/** Valid S3 object keys over full Unicode, salted with characters that break naive encoders. */
export function objectKeyArbitrary(): fc.Arbitrary<string> {
  const piece = fc.oneof(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
    fc.constantFrom(...TRICKY),
  );
  return fc
    .array(piece, { minLength: 1, maxLength: 8 })
    .map((pieces) => pieces.join(''))
    .filter(isValidObjectKey);
}
