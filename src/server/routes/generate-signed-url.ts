import { Type } from 'typebox';
import { auditIssued } from '../audit.ts';
import { signOne } from '../sign-one.ts';
import { requireCaller } from '../auth.ts';
import { authorizeGrant, ruleFor } from '../authorize.ts';
import { distributionFor, type App, type ServerContext } from '../context.ts';
import {
  DistributionNameSchema,
  errorResponses,
  ObjectKeySchema,
  SignedUrlSchema,
} from '../schemas.ts';

const QuerySchema = Type.Object(
  {
    object_key: ObjectKeySchema,
    ttl: Type.Optional(
      Type.String({
        pattern: '^[1-9][0-9]{0,9}$',
        description:
          "Lifetime in whole seconds (default: the distribution's defaultTtl; above its maxTtl or the client's is refused).",
      }),
    ),
    distribution: Type.Optional(DistributionNameSchema),
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
          ...errorResponses(400, 401, 403, 429, 500, 503),
        },
      },
    },
    async (request) => {
      const { object_key: objectKey, ttl, distribution: name } = request.query;
      const distribution = distributionFor(request, name);
      const { signer } = distribution;
      const grant = { expiresIn: ttl === undefined ? undefined : Number(ttl) };
      const rule = ruleFor(requireCaller(request), distribution.config);
      const planned = signer.planObject(objectKey, grant, rule.maxTtl);
      authorizeGrant(rule, { objectKey, ttl: signer.ttlOf(grant) });
      const signed = await signOne(context, request, signer.reusePlanned(planned), () =>
        signer.signPlanned(planned),
      );
      request.keyPairId = signed.keyPairId;
      auditIssued(request, {
        kind: 'url',
        distribution: distribution.config.name,
        keyPairId: signed.keyPairId,
        objectKey,
        expiresAt: signed.expiresAt,
      });
      return { signed_url: signed.url };
    },
  );
}
