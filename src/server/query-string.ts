import { quoteInput } from '../core/quote-input.ts';

/** Set on a parsed query when it cannot be read faithfully; checked before validation. */
export const QUERY_PROBLEM = Symbol('cfsign.queryProblem');

export type ParsedQuery = Record<string, string | string[]> & { [QUERY_PROBLEM]?: string };

/** No route takes more than a few parameters; more is refused rather than parsed. */
const MAX_PARAMETERS = 32;

function decode(component: string): string | undefined {
  try {
    return decodeURIComponent(component.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * Parses `a=1&b=2` as browsers and Flask do (`+` is a space), but records what a lenient
 * parser would hide: a parameter given twice (kept as an array so schemas refuse it) and
 * percent escapes that are not UTF-8 (which would otherwise become U+FFFD and sign another key).
 * Fastify cannot take an exception from a query parser, hence the recorded problem.
 */
export function parseQueryString(text: string): ParsedQuery {
  const query: ParsedQuery = Object.create(null) as ParsedQuery;
  let problem: string | undefined;
  const pairs = text.split('&', MAX_PARAMETERS + 1);
  if (pairs.length > MAX_PARAMETERS) {
    query[QUERY_PROBLEM] = `the query has more than ${MAX_PARAMETERS} parameters`;
    return query;
  }
  for (const pair of pairs) {
    if (pair === '') continue;
    const separator = pair.indexOf('=');
    const rawName = separator === -1 ? pair : pair.slice(0, separator);
    const rawValue = separator === -1 ? '' : pair.slice(separator + 1);
    const name = decode(rawName);
    const value = decode(rawValue);
    if (name === undefined || value === undefined) {
      problem ??= `the query parameter ${quoteInput(name ?? rawName)} has percent escapes that are not UTF-8`;
      continue;
    }
    const existing = query[name];
    if (existing === undefined) {
      query[name] = value;
    } else if (Array.isArray(existing)) {
      existing.push(value);
    } else {
      problem ??= `the query parameter ${quoteInput(name)} is given more than once`;
      query[name] = [existing, value];
    }
  }
  if (problem !== undefined) query[QUERY_PROBLEM] = problem;
  return query;
}
