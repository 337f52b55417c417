import { Type, type Static } from 'typebox';
import type { FastifyRequest } from 'fastify';
import { parseViewerAddress } from '../core/ip-address.ts';
import { resolveTime } from '../core/time.ts';
import { CLOUDFRONT_ERROR_FOR_FAILURE, type VerifyOptions } from '../core/verify.ts';
import { liveOf, type ServerContext } from './context.ts';

/** What POST /v1/verify and POST /v1/inspect judge: a link (or a URL and its cookies), a viewer, a time. */
export const JudgeRequestSchema = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      maxLength: 16_384,
      description: 'The signed URL, or with `cookies` the URL requested.',
    }),
    cookies: Type.Optional(
      Type.Union([
        Type.String({ maxLength: 16_384, description: 'A Cookie header' }),
        Type.Record(Type.String(), Type.String({ maxLength: 8192 })),
      ]),
    ),
    ipAddress: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 45,
        description: "The viewer's IPv4 or IPv6 address, to check an IP condition.",
      }),
    ),
    at: Type.Optional(
      Type.Union(
        [
          Type.Integer({ minimum: 0, maximum: 2_147_483_647 }),
          Type.String({ minLength: 1, maxLength: 40 }),
        ],
        {
          description: 'Judge at this time instead of now: epoch seconds, ISO-8601 or a duration.',
        },
      ),
    ),
  },
  { additionalProperties: false },
);

export type JudgeRequest = Static<typeof JudgeRequestSchema>;

const Optional = Type.Optional;

export const CloudFrontErrorSchema = Type.Enum(
  [...new Set(Object.values(CLOUDFRONT_ERROR_FOR_FAILURE))],
  { description: 'The error CloudFront answers, always with HTTP 403.' },
);

export const HashSchema = Type.Union([Type.Literal('sha1'), Type.Literal('sha256')]);
export const PolicyTypeSchema = Type.Union([Type.Literal('canned'), Type.Literal('custom')]);

/** The core's verdict without the decoded policy, which never leaves the service. */
export const VerdictSchema = Type.Object(
  {
    valid: Type.Boolean(),
    reason: Type.String(),
    failure: Optional(Type.String()),
    cloudFrontError: Optional(CloudFrontErrorSchema),
    warnings: Type.Array(Type.String()),
    policyType: Optional(PolicyTypeSchema),
    keyPairId: Optional(Type.String()),
    hash: Optional(HashSchema),
    requestUrl: Optional(Type.String()),
    resource: Optional(Type.String()),
    expiresAt: Optional(Type.Integer()),
    notBefore: Optional(Type.Integer()),
    ipAddress: Optional(Type.String()),
  },
  { additionalProperties: false },
);

/** Every key of every configured distribution, the time asked (or now), and the viewer. */
export function judgingOptions(
  request: FastifyRequest,
  body: JudgeRequest,
  context: ServerContext,
): VerifyOptions {
  const now = context.now();
  const options: VerifyOptions = {
    keys: liveOf(request).keys,
    now: body.at === undefined ? now : new Date(resolveTime(body.at, now, 'at', 'down') * 1000),
  };
  if (body.ipAddress !== undefined) options.ipAddress = parseViewerAddress(body.ipAddress);
  return options;
}
