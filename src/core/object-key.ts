import { SignerError, type ErrorCode } from '../errors.ts';
import { codePointLabel } from './quote-input.ts';

/** S3's limit on the UTF-8 length of an object key. */
export const MAX_OBJECT_KEY_BYTES = 1024;

const LONE_SURROGATE = /\p{Cs}/u;
const CONTROL_CHARACTER = /\p{Cc}/u;
// Bidirectional formatting characters reorder how a link is displayed (Trojan Source).
const BIDI_CONTROL = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;
// encodeURIComponent leaves these sub-delimiters alone; RFC 3986 does not count them unreserved.
const SUB_DELIMITERS_LEFT_BY_ENCODE_URI_COMPONENT = /[!'()*]/g;

/** What is being checked, for messages and the error code: an object key or a key pattern. */
export interface KeySubject {
  noun: string;
  code: ErrorCode;
}

const OBJECT_KEY: KeySubject = { noun: 'object key', code: 'ERR_OBJECT_KEY_INVALID' };

/**
 * Checks that an object key can be requested through CloudFront exactly as it is stored:
 * non-empty, well-formed Unicode, at most 1,024 UTF-8 bytes, no control or bidi characters,
 * and no `.` or `..` segment (browsers and proxies would resolve them away).
 *
 * @throws {SignerError} `ERR_OBJECT_KEY_INVALID`
 */
export function assertValidObjectKey(
  objectKey: unknown,
  subject: KeySubject = OBJECT_KEY,
): asserts objectKey is string {
  const { noun, code } = subject;
  if (typeof objectKey !== 'string' || objectKey.length === 0) {
    throw new SignerError(code, `${noun} must be a non-empty string`);
  }
  if (LONE_SURROGATE.test(objectKey)) {
    throw new SignerError(
      code,
      `${noun} is not well-formed Unicode (it contains a lone surrogate)`,
    );
  }
  const byteLength = Buffer.byteLength(objectKey, 'utf8');
  if (byteLength > MAX_OBJECT_KEY_BYTES) {
    throw new SignerError(
      code,
      `${noun} is ${byteLength} bytes of UTF-8; S3 keys are at most ${MAX_OBJECT_KEY_BYTES}`,
      { details: { byteLength, maxBytes: MAX_OBJECT_KEY_BYTES } },
    );
  }
  const control = CONTROL_CHARACTER.exec(objectKey);
  if (control) {
    throw new SignerError(
      code,
      `${noun} contains the control character ${codePointLabel(control[0])} at index ${control.index}; browsers cannot request it unchanged`,
    );
  }
  const bidi = BIDI_CONTROL.exec(objectKey);
  if (bidi) {
    throw new SignerError(
      code,
      `${noun} contains the bidirectional formatting character ${codePointLabel(bidi[0])} at index ${bidi.index}`,
    );
  }
  if (objectKey.split('/').some((segment) => segment === '.' || segment === '..')) {
    throw new SignerError(
      code,
      `${noun} has a '.' or '..' path segment, which browsers resolve away before requesting`,
    );
  }
}

/**
 * Percent-encodes an object key for a CloudFront URL path: every UTF-8 byte except the RFC 3986
 * unreserved characters (`A-Z a-z 0-9 - . _ ~`) and `/` becomes `%XX` with uppercase hex.
 * No Unicode normalization: NFC and NFD spellings are different keys and stay different.
 * A `*` or `?` in the key becomes `%2A` or `%3F`, so it can never act as a policy wildcard.
 *
 * @throws {SignerError} `ERR_OBJECT_KEY_INVALID` when {@link assertValidObjectKey} does.
 */
export function encodeObjectKey(objectKey: string): string {
  assertValidObjectKey(objectKey);
  return encodeKeyText(objectKey);
}

/** The encoding of {@link encodeObjectKey} without its checks, for already validated text. */
export function encodeKeyText(text: string): string {
  return encodeURIComponent(text)
    .replace(SUB_DELIMITERS_LEFT_BY_ENCODE_URI_COMPONENT, (c) => {
      return `%${c.charCodeAt(0).toString(16).toUpperCase()}`;
    })
    .replace(/%2F/g, '/');
}
