import { COOKIE, QUERY } from './wire-names.ts';

/** The values CloudFront reads from a signed request, by role. */
export type SigningPart = 'expires' | 'policy' | 'signature' | 'keyPairId' | 'hashAlgorithm';

export const SIGNING_PARTS: readonly SigningPart[] = [
  'expires',
  'policy',
  'signature',
  'keyPairId',
  'hashAlgorithm',
];

/** One `name=value` of a query string or a Cookie header, as written. */
export interface SigningField {
  name: string;
  /** The text after the first `=`; empty when there is none. */
  value: string;
  /** The pair as written, to rebuild the query without CloudFront's parameters. */
  raw: string;
  /** The CloudFront value this field carries, when its name is one of CloudFront's. */
  part?: SigningPart;
}

function withPart(field: SigningField, names: Readonly<Record<SigningPart, string>>): SigningField {
  const part = SIGNING_PARTS.find((candidate) => names[candidate] === field.name);
  return part === undefined ? field : { ...field, part };
}

function splitPair(pair: string): SigningField {
  const separator = pair.indexOf('=');
  return withPart(
    {
      name: separator === -1 ? pair : pair.slice(0, separator),
      value: separator === -1 ? '' : pair.slice(separator + 1),
      raw: pair,
    },
    QUERY,
  );
}

/** A URL split at its first `?`: what comes before, and each `&`-separated pair after it. */
export interface QueryFields {
  base: string;
  fields: SigningField[];
}

/** Splits a URL's query into pairs exactly as written: no decoding, no reordering. */
export function readQueryFields(url: string): QueryFields {
  const queryStart = url.indexOf('?');
  if (queryStart === -1) return { base: url, fields: [] };
  return {
    base: url.slice(0, queryStart),
    fields: url
      .slice(queryStart + 1)
      .split('&')
      .map(splitPair),
  };
}

/**
 * The URL a policy is matched against: the request URL without CloudFront's own parameters,
 * the other pairs kept in their order and spelling.
 */
export function requestUrlWithoutSigning({ base, fields }: QueryFields): string {
  const kept = fields.filter((field) => field.part === undefined).map((field) => field.raw);
  return kept.length > 0 ? `${base}?${kept.join('&')}` : base;
}

/**
 * The pairs of a `Cookie` header (`a=b; c=d`), names and values trimmed, in order; or the
 * string entries of name → value pairs.
 */
export function readCookieFields(
  cookies: string | Readonly<Record<string, string>>,
): SigningField[] {
  if (typeof cookies !== 'string') {
    return Object.entries(cookies)
      .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
      .map(([name, value]) => withPart({ name, value, raw: `${name}=${value}` }, COOKIE));
  }
  return cookies
    .split(';')
    .map((piece) => piece.trim())
    .filter((piece) => piece !== '')
    .map((piece) => {
      const separator = piece.indexOf('=');
      const name = separator === -1 ? piece : piece.slice(0, separator).trim();
      const value = separator === -1 ? '' : piece.slice(separator + 1).trim();
      return withPart({ name, value, raw: piece }, COOKIE);
    });
}
