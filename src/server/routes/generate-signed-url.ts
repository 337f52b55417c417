import { Type } from 'typebox';
import type { App, ServerContext } from '../context.ts';
import { errorResponses, ObjectKeySchema, SignedUrlSchema } from '../schemas.ts';

const QuerySchema = Type.Object(
  {
    object_key: ObjectKeySchema,
    ttl: Type.Optional(
      Type.String({
        pattern: '^[1-9][0-9]{0,9}$',
        description:
          'Lifetime in whole seconds (default CFSIGN_DEFAULT_TTL, at most CFSIGN_MAX_TTL).',
      }),
    ),
  },
  { additionalProperties: false },
);

/** The Flask app's contract: `GET /generate-signed-url?object_key=K` → `{"signed_url": …}`. */
export function registerGenerateSignedUrl(app: App, context: ServerContext): void {
  app.get(
    '/generate-signed-url',
    {
      config: { signing: true },
      schema: {
        summary: 'Sign the URL of one object (the Flask app contract)',
        description:
          'Signs a canned-policy URL that opens exactly this object until it expires. The key is percent-encoded, so `*` and `?` in it are never wildcards.',
        tags: ['signing'],
        querystring: QuerySchema,
        response: {
          200: Type.Object({ signed_url: SignedUrlSchema }, { additionalProperties: false }),
          ...errorResponses(400, 401, 500),
        },
      },
    },
    async (request) => {
      const { object_key: objectKey, ttl } = request.query;
      const signed = await context.signer.signObject(objectKey, {
        expiresIn: ttl === undefined ? undefined : Number(ttl),
      });
      request.keyPairId = signed.keyPairId;
      return { signed_url: signed.url };
    },
  );
}
