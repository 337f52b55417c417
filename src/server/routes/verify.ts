import { Type } from 'typebox';
import { parseViewerAddress } from '../../core/ip-address.ts';
import { resolveTime } from '../../core/time.ts';
import { verifyCookies, verifyUrl, type VerifyOptions } from '../../core/verify.ts';
import { liveOf, type App, type ServerContext } from '../context.ts';
import { errorResponses } from '../schemas.ts';

const BodySchema = Type.Object(
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

const Optional = Type.Optional;

/** The core's verdict without the decoded policy, which never leaves the service. */
const VerdictSchema = Type.Object(
  {
    valid: Type.Boolean(),
    reason: Type.String(),
    failure: Optional(Type.String()),
    cloudFrontError: Optional(Type.String()),
    warnings: Type.Array(Type.String()),
    policyType: Optional(Type.String()),
    keyPairId: Optional(Type.String()),
    hash: Optional(Type.String()),
    requestUrl: Optional(Type.String()),
    resource: Optional(Type.String()),
    expiresAt: Optional(Type.Integer()),
    notBefore: Optional(Type.Integer()),
    ipAddress: Optional(Type.String()),
  },
  { additionalProperties: false },
);

/** `POST /v1/verify`: would CloudFront accept this link (or these cookies), and if not, why. */
export function registerVerify(app: App, context: ServerContext): void {
  app.post(
    '/v1/verify',
    {
      config: { signing: true },
      schema: {
        summary: 'Explain whether CloudFront would accept a signed URL or signed cookies',
        description:
          "Judges the link as CloudFront would, against this service's keys, and returns the precise reason when it would be refused. Always 200 for a well-formed request; `valid` says the outcome.",
        tags: ['verification'],
        body: BodySchema,
        response: { 200: VerdictSchema, ...errorResponses(400, 401, 413, 415, 429, 500) },
      },
    },
    async (request) => {
      const { url, cookies, ipAddress, at } = request.body;
      const now = context.now();
      const options: VerifyOptions = {
        keys: liveOf(request).keys,
        now: at === undefined ? now : new Date(resolveTime(at, now, 'at', 'down') * 1000),
      };
      if (ipAddress !== undefined) options.ipAddress = parseViewerAddress(ipAddress);
      const verdict =
        cookies === undefined ? verifyUrl(url, options) : verifyCookies(url, cookies, options);
      const { policy: _policy, ...withoutPolicy } = verdict;
      return withoutPolicy;
    },
  );
}
