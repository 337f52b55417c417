import { Type, type Static } from 'typebox';
import { MAX_URL_BYTES } from '../core/signable-url.ts';

/** The body of every error response. */
export const ErrorResponseSchema = Type.Object(
  {
    error: Type.String({
      description: 'Stable error code, e.g. ERR_OBJECT_KEY_INVALID (see docs/errors.md)',
    }),
    message: Type.String({
      description: 'What was wrong and what to do; "internal error" for any 5xx',
    }),
    requestId: Type.String({ description: 'Quote it when reporting a problem' }),
  },
  { additionalProperties: false },
);

/** Status → schema for the error responses a route can give. */
export function errorResponses<const S extends readonly number[]>(
  ...statuses: S
): Record<S[number], typeof ErrorResponseSchema> {
  return Object.fromEntries(statuses.map((status) => [status, ErrorResponseSchema])) as Record<
    S[number],
    typeof ErrorResponseSchema
  >;
}

/** An object key as S3 accepts it (up to 1,024 UTF-8 bytes; the core checks the bytes). */
export const ObjectKeySchema = Type.String({
  minLength: 1,
  maxLength: 1024,
  description: 'The raw S3 object key, e.g. "videos/a b.mp4"; cfsign percent-encodes it.',
});

/** Lifetime in whole seconds from now; capped by the service's maximum, never clamped. */
export const ExpiresInSchema = Type.Integer({
  minimum: 1,
  maximum: 2_147_483_647,
  description:
    'Lifetime in seconds from now (default: CFSIGN_DEFAULT_TTL; above CFSIGN_MAX_TTL is refused).',
});

export const NotBeforeSchema = Type.Union(
  [
    Type.Integer({ minimum: 0, maximum: 2_147_483_647 }),
    Type.String({ minLength: 1, maxLength: 40 }),
  ],
  {
    description:
      'Start of validity: epoch seconds, ISO-8601, or a duration from now such as 5m (custom policy).',
  },
);

export const IpAddressSchema = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'Viewer IPv4 address or CIDR block, e.g. "203.0.113.0/24" (custom policy).',
});

export const KeyPatternSchema = Type.String({
  minLength: 1,
  maxLength: 1024,
  description:
    "A key pattern relative to the distribution, e.g. \"videos/*\": '*' is a wildcard, '?' is refused, everything else is encoded like a key.",
});

export const DistributionNameSchema = Type.String({
  pattern: '^[A-Za-z0-9_.-]{1,64}$',
  description: 'Which configured distribution to sign for (default: the first).',
});

export const SignedUrlSchema = Type.String({ maxLength: MAX_URL_BYTES });

export const ExpiresAtSchema = Type.Integer({ description: 'Expiry, epoch seconds.' });

export type ErrorResponse = Static<typeof ErrorResponseSchema>;
