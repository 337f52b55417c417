/**
 * A Host header as a viewer may send it: a DNS name or IPv4 address, or a bracketed IPv6
 * address, and an optional port. Anything else (a user name, a path, spaces) could make the URL
 * judged differ from the one served, so it is refused.
 */
const HOST_HEADER =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The URL a viewer asked for, as CloudFront reads it: the scheme it spoke, the Host header it
 * sent (the distribution's domain) and the request target, query included. Undefined when the
 * Host header is missing or malformed, or the target is not an origin-form path (`/…`).
 */
export function viewerUrl(
  scheme: 'http' | 'https',
  host: string | undefined,
  target: string,
): string | undefined {
  if (host === undefined || !HOST_HEADER.test(host)) return undefined;
  if (!target.startsWith('/')) return undefined;
  return `${scheme}://${host}${target}`;
}

/** The path of a request target, for logs: never the query, which carries the signature. */
export function pathOf(target: string): string {
  // A link pasted with its '?' escaped carries the signature in the path itself.
  const queryStart = target.search(/\?|%3f/i);
  return queryStart === -1 ? target : target.slice(0, queryStart);
}
