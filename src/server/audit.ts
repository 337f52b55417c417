import type { FastifyRequest } from 'fastify';

/** What one audit line records about an issued link or cookie set. Never the link itself. */
export interface IssuedGrant {
  kind: 'url' | 'cookies';
  distribution: string;
  keyPairId: string;
  /** The object key (a URL) or the key pattern (a custom-policy resource). */
  objectKey?: string;
  keyPattern?: string;
  expiresAt: number;
  notBefore?: number;
  ipAddress?: string;
}

/**
 * One JSON audit line per issued link or cookie set: time, client, distribution, key id, key or
 * pattern, expiry, conditions and request id. Never the signature, the policy or the link.
 * Written at every CFSIGN_LOG_LEVEL: quieting operational logs never loses the audit trail.
 */
export function auditIssued(request: FastifyRequest, grant: IssuedGrant): void {
  request.server.cfsign.audit.info(
    { reqId: request.id, audit: 'issued', client: request.caller?.name, ...grant },
    'issued',
  );
}
