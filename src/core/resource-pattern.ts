import { SignerError } from '../errors.ts';
import { assertValidObjectKey, encodeKeyText } from './object-key.ts';
import { joinWithinUrlLimit, MAX_URL_BYTES, normalizeDistributionUrl } from './signable-url.ts';

const WILDCARD = /[*?]/;
// Visible ASCII except '"' and '\' (which JSON would escape and no request URL contains) and '#'.
const PATTERN_CHARACTERS = /^[\x21\x24-\x5B\x5D-\x7E]+$/;

/** Whether `text` contains a CloudFront policy wildcard (`*` or `?`). */
export function hasWildcard(text: string): boolean {
  return WILDCARD.test(text);
}

/**
 * Checks a custom policy `Resource`: a URL pattern where `*` matches any run of characters
 * (including none) and `?` exactly one. Only visible ASCII without `"`, `\` or `#`.
 *
 * @throws {SignerError} `ERR_RESOURCE_INVALID`
 */
export function assertResourcePattern(pattern: unknown): asserts pattern is string {
  if (typeof pattern !== 'string' || pattern.length === 0) {
    throw new SignerError('ERR_RESOURCE_INVALID', 'resource pattern must be a non-empty string');
  }
  if (pattern.length > MAX_URL_BYTES) {
    throw new SignerError(
      'ERR_RESOURCE_INVALID',
      `resource pattern is ${pattern.length} characters long; at most ${MAX_URL_BYTES} fit in a URL`,
    );
  }
  if (!PATTERN_CHARACTERS.test(pattern)) {
    throw new SignerError(
      'ERR_RESOURCE_INVALID',
      "resource pattern may contain only visible ASCII without '\"', '\\' or '#'; percent-encode the rest",
    );
  }
}

/**
 * Whether `url` matches the CloudFront resource `pattern` (`*`: any run, `?`: one character).
 * Linear in practice; worst case O(pattern × url), and both are bounded by the URL limit.
 */
export function matchesResourcePattern(pattern: string, url: string): boolean {
  let p = 0;
  let u = 0;
  let starAt = -1;
  let urlAtStar = 0;
  while (u < url.length) {
    const pc = pattern[p];
    if (pc === '*') {
      starAt = p;
      urlAtStar = u;
      p += 1;
    } else if (pc !== undefined && (pc === '?' || pc === url[u])) {
      p += 1;
      u += 1;
    } else if (starAt !== -1) {
      p = starAt + 1;
      urlAtStar += 1;
      u = urlAtStar;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p += 1;
  return p === pattern.length;
}

/**
 * A resource pattern for objects of a distribution: `keyPattern` is an object key in which `*`
 * is a wildcard, and every other character is encoded as {@link encodeObjectKey} would encode
 * it, so the pattern matches the URLs cfsign builds for the keys it names. `?` is refused: in a
 * policy it matches one URL byte, and one character of a key can take up to twelve.
 * Use this only when the caller asked for a pattern; a plain key never goes through it.
 *
 * @throws {SignerError} `ERR_RESOURCE_INVALID`, `ERR_OBJECT_KEY_INVALID`, `ERR_URL_INVALID`
 *   or `ERR_URL_NOT_CANONICAL`
 */
export function buildObjectPattern(distributionUrl: string, keyPattern: string): string {
  assertValidObjectKey(keyPattern);
  if (keyPattern.includes('?')) {
    throw new SignerError(
      'ERR_RESOURCE_INVALID',
      "a key pattern may use '*' but not '?', which would match one URL byte rather than one character",
    );
  }
  const encoded = keyPattern
    .split('*')
    .map((part) => encodeKeyText(part))
    .join('*');
  return joinWithinUrlLimit(normalizeDistributionUrl(distributionUrl), encoded);
}
