import { Type } from 'typebox';
import { formatSetCookieHeaders } from '../../core/sign-cookies.ts';
import type { App, ServerContext } from '../context.ts';
import {
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
        response: { 200: ResponseSchema, ...errorResponses(400, 401, 413, 415, 500) },
      },
    },
    async (request, reply) => {
      const { resource, expiresIn, notBefore, ipAddress } = request.body;
      const signed = await context.signer.signCookies(resource, {
        expiresIn,
        notBefore,
        ipAddress,
      });
      request.keyPairId = signed.keyPairId;
      void reply.header(
        'set-cookie',
        formatSetCookieHeaders(signed.cookies, context.config.cookies),
      );
      return { cookies: signed.cookies, expiresAt: signed.expiresAt };
    },
  );
}
