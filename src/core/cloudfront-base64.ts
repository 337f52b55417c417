/**
 * CloudFront's URL-safe base64: standard base64 with `+` → `-`, `=` → `_`, `/` → `~`.
 * (Not RFC 4648 base64url, which uses `-` and `_` for `+` and `/` and drops padding.)
 */

const FROM_CLOUDFRONT: Readonly<Record<string, string>> = { '-': '+', _: '=', '~': '/' };

/** The characters a CloudFront base64 value may contain. */
export const CLOUDFRONT_BASE64_PATTERN = /^[A-Za-z0-9\-_~]*$/;

export function encodeCloudFrontBase64(bytes: Uint8Array | string): string {
  const buffer =
    typeof bytes === 'string'
      ? Buffer.from(bytes, 'utf8')
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return toCloudFrontAlphabet(buffer.toString('base64'));
}

/** Standard base64 text in CloudFront's alphabet; other characters are left as they are. */
export function toCloudFrontAlphabet(standardBase64: string): string {
  // Three literal replacements, not a regex with a callback: every link pays for this.
  return standardBase64.replaceAll('+', '-').replaceAll('=', '_').replaceAll('/', '~');
}

/**
 * Decodes a CloudFront base64 value. Returns `undefined` unless the text is canonical
 * CloudFront base64 (right alphabet, padded to a multiple of four, no stray bits), so that
 * one value has exactly one spelling.
 */
export function decodeCloudFrontBase64(text: string): Buffer | undefined {
  if (text.length === 0 || text.length % 4 !== 0 || !CLOUDFRONT_BASE64_PATTERN.test(text)) {
    return undefined;
  }
  const standard = text.replace(/[-_~]/g, (c) => FROM_CLOUDFRONT[c] ?? c);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(standard)) return undefined;
  const bytes = Buffer.from(standard, 'base64');
  return bytes.toString('base64') === standard ? bytes : undefined;
}

/** The first character of `text` that CloudFront base64 never contains, if any. */
export function findNonCloudFrontBase64Character(text: string): string | undefined {
  const match = /[^A-Za-z0-9\-_~]/.exec(text);
  return match?.[0];
}
