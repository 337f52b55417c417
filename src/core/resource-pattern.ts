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

/** Whether `segment` (no `*`, `?` = any one character) matches `url` at `start`. */
function matchesAt(segment: string, url: string, start: number): boolean {
  if (start < 0 || start + segment.length > url.length) return false;
  for (let i = 0; i < segment.length; i += 1) {
    const expected = segment[i];
    if (expected !== '?' && expected !== url[start + i]) return false;
  }
  return true;
}

/** The first index in [from, end - segment.length] where `segment` matches, or -1. */
function findSegment(segment: string, url: string, from: number, end: number): number {
  if (!segment.includes('?')) {
    const index = url.indexOf(segment, from);
    return index !== -1 && index + segment.length <= end ? index : -1;
  }
  for (let start = from; start + segment.length <= end; start += 1) {
    if (matchesAt(segment, url, start)) return start;
  }
  return -1;
}

/**
 * Whether `url` matches the CloudFront resource `pattern` (`*`: any run, `?`: one character).
 * The text between stars is matched leftmost-first, which is exact for glob patterns and
 * keeps star-heavy patterns from backtracking.
 */
export function matchesResourcePattern(pattern: string, url: string): boolean {
  const segments = pattern.split('*');
  const first = segments[0] ?? '';
  if (segments.length === 1) return first.length === url.length && matchesAt(first, url, 0);
  const last = segments[segments.length - 1] ?? '';
  const end = url.length - last.length;
  if (end < first.length || !matchesAt(first, url, 0) || !matchesAt(last, url, end)) return false;
  let position = first.length;
  for (const segment of segments.slice(1, -1)) {
    if (segment === '') continue;
    const found = findSegment(segment, url, position, end);
    if (found === -1) return false;
    position = found + segment.length;
  }
  return true;
}

/**
 * A resource pattern for objects of a distribution: `keyPattern` is an object key in which `*`
 * is a wildcard, and every other character is encoded as {@link encodeObjectKey} would encode
 * it, so the pattern matches the URLs cfsign builds for the keys it names. `?` is refused: in a
 * policy it matches one URL byte, and one character of a key can take up to twelve.
 * Use this only when the caller asked for a pattern; a plain key never goes through it.
 *
 * @throws {SignerError} `ERR_RESOURCE_INVALID`, `ERR_URL_INVALID` or `ERR_URL_NOT_CANONICAL`
 */
export function buildObjectPattern(distributionUrl: string, keyPattern: string): string {
  assertValidObjectKey(keyPattern, { noun: 'key pattern', code: 'ERR_RESOURCE_INVALID' });
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
