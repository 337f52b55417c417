import { SignerError } from '../errors.ts';
import { encodeObjectKey } from './object-key.ts';
import { codePointLabel, quoteInput } from './quote-input.ts';
import { QUERY } from './wire-names.ts';

/** CloudFront refuses request URLs longer than this many bytes. */
export const MAX_URL_BYTES = 8192;

/** Query parameters that CloudFront reads itself; a URL to sign must not already carry them. */
export const CLOUDFRONT_QUERY_PARAMETERS: readonly string[] = Object.values(QUERY);

const RESERVED_PARAMETER_NAMES = new Set(CLOUDFRONT_QUERY_PARAMETERS.map((n) => n.toLowerCase()));
const NOT_VISIBLE_ASCII = /[^\x21-\x7E]/u;
const BAD_PERCENT_ESCAPE = /%(?![0-9A-Fa-f]{2})/;

function describeCharacter(character: string): string {
  if (character === ' ') return 'a raw space';
  const codePoint = character.codePointAt(0) ?? 0;
  const label = codePointLabel(character);
  return codePoint < 0x20 || codePoint === 0x7f ? `the control character ${label}` : label;
}

/** Names of the query parameters in a raw query string, as written and percent-decoded. */
function queryParameterNames(query: string): string[] {
  return query.split('&').flatMap((pair) => {
    const rawName = pair.split('=', 1)[0] ?? '';
    let decoded = rawName;
    try {
      decoded = decodeURIComponent(rawName.replace(/\+/g, ' '));
    } catch {
      // A name that does not decode cannot be spelled like a CloudFront parameter.
    }
    return decoded === rawName ? [rawName] : [rawName, decoded];
  });
}

/** Characters whose raw form a browser may or may not escape in a URL. */
const AMBIGUOUS_CHARACTER = /[\^|]/;

/**
 * Checks that `url` is exactly what a browser would send for it, so that the bytes cfsign signs
 * are the bytes CloudFront sees: an absolute http(s) URL, no credentials, no fragment, only
 * visible ASCII, valid percent escapes, already in WHATWG canonical form (lowercase host, no
 * default port, no dot segments), and no query parameter named like CloudFront's own.
 * The query string, when there is one, is kept byte for byte.
 *
 * @throws {SignerError} `ERR_URL_INVALID`, `ERR_URL_NOT_CANONICAL` or `ERR_URL_RESERVED_PARAMETER`
 */
export function assertSignableUrl(url: unknown): asserts url is string {
  if (typeof url !== 'string' || url.length === 0) {
    throw new SignerError('ERR_URL_INVALID', 'URL must be a non-empty string');
  }
  if (url.length > MAX_URL_BYTES) {
    throw new SignerError(
      'ERR_URL_INVALID',
      `URL is ${url.length} characters long; CloudFront accepts at most ${MAX_URL_BYTES} bytes`,
    );
  }
  const invisible = NOT_VISIBLE_ASCII.exec(url);
  if (invisible) {
    throw new SignerError(
      'ERR_URL_NOT_CANONICAL',
      `URL contains ${describeCharacter(invisible[0])} at index ${invisible.index}; percent-encode it as UTF-8 (for an object key, let cfsign build the URL; for a host, use its punycode form)`,
    );
  }
  if (url.includes('#')) {
    throw new SignerError(
      'ERR_URL_INVALID',
      "URL has a fragment ('#'), which browsers never send; remove it, or write a '#' in a key as %23",
    );
  }
  if (url.includes('\\')) {
    throw new SignerError(
      'ERR_URL_NOT_CANONICAL',
      "URL contains '\\', which browsers rewrite in paths and JSON escapes in policies; write it as %5C",
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SignerError('ERR_URL_INVALID', 'URL is not a valid absolute URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new SignerError(
      'ERR_URL_INVALID',
      `URL scheme must be https or http, not ${quoteInput(parsed.protocol.slice(0, -1))}`,
    );
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new SignerError('ERR_URL_INVALID', 'URL must not contain a user name or password');
  }
  if (BAD_PERCENT_ESCAPE.test(url)) {
    throw new SignerError(
      'ERR_URL_NOT_CANONICAL',
      "URL has a '%' that does not start a %XX escape; write a literal '%' as %25",
    );
  }
  if (parsed.href !== url) {
    throw new SignerError(
      'ERR_URL_NOT_CANONICAL',
      `a browser would request ${parsed.href} instead of this URL; sign that form`,
      { details: { canonical: parsed.href } },
    );
  }
  // Browsers disagree on these (and Node's parser keeps '^' only sometimes): one may send the
  // character, another its escape, and CloudFront compares bytes. The escape is sent as it is.
  const ambiguous = AMBIGUOUS_CHARACTER.exec(url);
  if (ambiguous !== null) {
    const character = ambiguous[0];
    const escape = `%${character.charCodeAt(0).toString(16).toUpperCase()}`;
    throw new SignerError(
      'ERR_URL_NOT_CANONICAL',
      `URL contains '${character}', which some browsers send as ${escape} and others as it is; write it as ${escape}`,
      { details: { canonical: url.replaceAll(character, escape) } },
    );
  }
  const queryStart = url.indexOf('?');
  if (queryStart !== -1) {
    const query = url.slice(queryStart + 1);
    if (query === '') {
      throw new SignerError('ERR_URL_INVALID', "URL ends with an empty query ('?'); remove it");
    }
    const reserved = queryParameterNames(query).find((name) =>
      RESERVED_PARAMETER_NAMES.has(name.toLowerCase()),
    );
    if (reserved !== undefined) {
      throw new SignerError(
        'ERR_URL_RESERVED_PARAMETER',
        `URL already has a query parameter named ${quoteInput(reserved)}, which CloudFront reserves for signing`,
      );
    }
  }
}

/**
 * Checks a distribution's base URL (`https://d111111abcdef8.cloudfront.net`, optionally with a
 * path prefix) and returns it without a trailing slash.
 *
 * @throws {SignerError} `ERR_URL_INVALID` or `ERR_URL_NOT_CANONICAL`
 */
export function normalizeDistributionUrl(distributionUrl: string): string {
  if (typeof distributionUrl !== 'string' || distributionUrl.length === 0) {
    throw new SignerError('ERR_URL_INVALID', 'distribution URL must be a non-empty string');
  }
  // A base URL is only ever a prefix, so `https://host` and `https://host/` are the same base.
  const withSlash = distributionUrl.endsWith('/') ? distributionUrl : `${distributionUrl}/`;
  if (withSlash.includes('?')) {
    throw new SignerError('ERR_URL_INVALID', 'a distribution URL must not have a query string');
  }
  assertSignableUrl(withSlash);
  return withSlash.slice(0, -1);
}

/**
 * The URL of an object: the distribution URL, `/`, and the object key encoded by
 * {@link encodeObjectKey}. The result is what cfsign signs and what the browser requests.
 *
 * @throws {SignerError} `ERR_URL_INVALID`, `ERR_URL_NOT_CANONICAL` or `ERR_OBJECT_KEY_INVALID`
 */
export function buildObjectUrl(distributionUrl: string, objectKey: string): string {
  return joinWithinUrlLimit(normalizeDistributionUrl(distributionUrl), encodeObjectKey(objectKey));
}

/**
 * `base/path`, refused when it would exceed CloudFront's URL limit.
 *
 * @throws {SignerError} `ERR_URL_INVALID`
 */
export function joinWithinUrlLimit(base: string, encodedPath: string): string {
  const url = `${base}/${encodedPath}`;
  if (url.length > MAX_URL_BYTES) {
    throw new SignerError(
      'ERR_URL_INVALID',
      `the URL would be ${url.length} bytes long; CloudFront accepts at most ${MAX_URL_BYTES}`,
    );
  }
  return url;
}
