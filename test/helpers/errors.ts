import { SignerError, type ErrorCode } from '../../src/errors.ts';

/** An assert.throws validator: a SignerError with this code and a message holding `expected`. */
export function signerError(
  code: ErrorCode,
  expected: RegExp | string,
): (error: unknown) => boolean {
  return (error) =>
    error instanceof SignerError &&
    error.code === code &&
    (typeof expected === 'string'
      ? error.message.includes(expected)
      : expected.test(error.message));
}
