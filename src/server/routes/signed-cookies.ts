import { Type } from 'typebox';
import { formatSetCookieHeaders } from '../../core/sign-cookies.ts';
import { auditIssued } from '../audit.ts';
import { signOne } from '../sign-one.ts';
import { requireCaller } from '../auth.ts';
import { authorizeGrant, ruleFor } from '../authorize.ts';
import { distributionFor, type App, type ServerContext } from '../context.ts';
import {
  DistributionNameSchema,
  errorResponses,
  ExpiresAtSchema,
  ExpiresInSchema,
  IpAddressSchema,
  KeyPatternSchema,
  NotBeforeSchema,
} from '../schemas.ts';

const BodySchema = Type.Object(
  {
    resource: KeyPatternSchema,
    expiresIn: Type.Optional(ExpiresInSchema),
    notBefore: Type.Optional(NotBeforeSchema),
    ipAddress: Type.Optional(IpAddressSchema),
    distribution: Type.Optional(DistributionNameSchema),
  },
  { additionalProperties: false },
);

const CookieValue = Type.Optional(Type.String());

const ResponseSchema = Type.Object(
  {
    cookies: Type.Object(
      {
        'CloudFront-Policy': CookieValue,
        'CloudFront-Signature': CookieValue,
        'CloudFront-Key-Pair-Id': CookieValue,
        'CloudFront-Hash-Algorithm': CookieValue,
      },
      { additionalProperties: false },
    ),
    expiresAt: ExpiresAtSchema,
  },
  { additionalProperties: false },
);

/** `POST /v1/signed-cookies`: custom-policy cookies for a key pattern, as JSON and Set-Cookie. */
export function registerSignedCookies(app: App, context: ServerContext): void {
  app.post(
    '/v1/signed-cookies',
    {
      config: { signing: true },
      schema: {
        summary: 'Sign CloudFront cookies for a key pattern',
        description:
          'Returns the cookies as JSON and as Set-Cookie headers (Secure, HttpOnly, with the configured Domain, Path and SameSite). They open every object the pattern matches until they expire.',
        tags: ['signing'],
        body: BodySchema,
        response: {
          200: ResponseSchema,
          ...errorResponses(400, 401, 403, 413, 415, 429, 500, 503),
        },
      },
    },
    async (request, reply) => {
      const { resource, expiresIn, notBefore, ipAddress, distribution: name } = request.body;
      const distribution = distributionFor(request, name);
      const { signer } = distribution;
      const grant = { expiresIn, notBefore, ipAddress };
      const rule = ruleFor(requireCaller(request), distribution.config);
      authorizeGrant(rule, { keyPattern: resource, ttl: signer.ttlOf(grant), cookies: true });
      const planned = signer.planCookies(resource, grant, rule.maxTtl);
      const signed = await signOne(context, request, signer.reusePlannedCookies(planned), () =>
        signer.signPlannedCookies(planned),
      );
      request.keyPairId = signed.keyPairId;
      auditIssued(request, {
        kind: 'cookies',
        distribution: distribution.config.name,
        keyPairId: signed.keyPairId,
        keyPattern: resource,
        expiresAt: signed.expiresAt,
        ...(signed.notBefore === undefined ? {} : { notBefore: signed.notBefore }),
        ...(signed.ipAddress === undefined ? {} : { ipAddress: signed.ipAddress }),
      });
      void reply.header(
        'set-cookie',
        formatSetCookieHeaders(signed.cookies, context.config.cookies),
      );
      return { cookies: signed.cookies, expiresAt: signed.expiresAt };
    },
  );
}
