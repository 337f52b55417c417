import { SignerError } from '../errors.ts';
import { quoteInput } from '../core/quote-input.ts';
import type { AllowRule, ClientConfig, DistributionConfig } from '../config/service-config.ts';

function forbidden(message: string): SignerError {
  return new SignerError('ERR_FORBIDDEN', message);
}

/** The rule that lets `client` use `distribution`, or a 403. */
export function ruleFor(client: ClientConfig, distribution: DistributionConfig): AllowRule {
  const rule = client.allow.find((candidate) => candidate.distribution === distribution.name);
  if (rule === undefined) {
    throw forbidden(
      `client ${quoteInput(client.name)} may not sign for distribution ${quoteInput(distribution.name)}`,
    );
  }
  return rule;
}

function withinPrefixes(rule: AllowRule, text: string): boolean {
  // Byte-exact and case-sensitive on the key as given; a prefix ending in '/' never matches a
  // sibling ('tenants/acme/' does not match 'tenants/acmecorp/x').
  return rule.prefixes.some((prefix) => text.startsWith(prefix));
}

function describePrefixes(rule: AllowRule): string {
  return rule.prefixes.map((prefix) => quoteInput(prefix)).join(', ');
}

/**
 * Checks what a client asks against its rule: the key inside its prefixes, the lifetime under
 * its cap, and for a pattern, the right to ask for wildcards with the pattern's fixed start
 * inside its prefixes (so `vid*` cannot reach past `videos/`).
 *
 * @throws {SignerError} `ERR_FORBIDDEN` (403) or `ERR_TTL_TOO_LONG` (400)
 */
export function authorizeGrant(
  rule: AllowRule,
  request: {
    objectKey?: string | undefined;
    keyPattern?: string | undefined;
    ttl: number;
    cookies?: boolean;
  },
): void {
  if (request.objectKey !== undefined && !withinPrefixes(rule, request.objectKey)) {
    throw forbidden(
      `the key ${quoteInput(request.objectKey, 100)} is outside this client's prefixes (${describePrefixes(rule)})`,
    );
  }
  if (request.cookies === true && !rule.cookies) {
    throw forbidden('this client may not ask for signed cookies');
  }
  if (request.keyPattern !== undefined) {
    const wildcard = request.keyPattern.includes('*');
    if (wildcard && !rule.wildcards) {
      throw forbidden("this client may not ask for wildcard resources ('*')");
    }
    const fixedStart = request.keyPattern.split('*', 1)[0] ?? '';
    const inside = rule.prefixes.some((prefix) =>
      wildcard ? fixedStart.startsWith(prefix) : request.keyPattern?.startsWith(prefix),
    );
    if (!inside) {
      throw forbidden(
        `the pattern ${quoteInput(request.keyPattern, 100)} reaches outside this client's prefixes (${describePrefixes(rule)})`,
      );
    }
  }
  if (rule.maxTtl !== undefined && request.ttl > rule.maxTtl) {
    throw new SignerError(
      'ERR_TTL_TOO_LONG',
      `a lifetime of ${request.ttl} s is above this client's maximum of ${rule.maxTtl} s`,
      {
        details: { ttl: request.ttl, maxTtl: rule.maxTtl },
      },
    );
  }
}
