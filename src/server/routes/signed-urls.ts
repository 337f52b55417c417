import { Type } from 'typebox';
import { SignerError } from '../../errors.ts';
import { auditIssued } from '../audit.ts';
import { limitClient } from '../limits.ts';
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
  ObjectKeySchema,
  SignedUrlSchema,
} from '../schemas.ts';
import type { GrantRequest } from '../signer.ts';

const ItemSchema = Type.Object(
  {
    key: ObjectKeySchema,
    expiresIn: Type.Optional(ExpiresInSchema),
    notBefore: Type.Optional(NotBeforeSchema),
    ipAddress: Type.Optional(IpAddressSchema),
    resource: Type.Optional(KeyPatternSchema),
  },
  { additionalProperties: false },
);

const BodySchema = Type.Object(
  {
    items: Type.Array(ItemSchema, { minItems: 1 }),
    distribution: Type.Optional(DistributionNameSchema),
  },
  { additionalProperties: false },
);

const ResponseSchema = Type.Object(
  {
    items: Type.Array(
      Type.Object(
        { key: Type.String(), url: SignedUrlSchema, expiresAt: ExpiresAtSchema },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** Prefixes an item's error with its index, so a caller knows which item to fix. */
function atItem<T>(index: number, action: () => T): T {
  try {
    return action();
  } catch (error) {
    if (error instanceof SignerError) {
      throw new SignerError(error.code, `items[${index}]: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

/** `POST /v1/signed-urls`: a batch, checked whole before anything is signed. */
export function registerSignedUrls(app: App, context: ServerContext): void {
  const { maxBatchSize } = context.config;
  app.post(
    '/v1/signed-urls',
    {
      config: { signing: true },
      // Refused before validation, so an oversized batch costs no per-item work.
      preValidation: async (request) => {
        const items = (request.body as { items?: unknown } | undefined)?.items;
        if (Array.isArray(items) && items.length > maxBatchSize) {
          throw new SignerError(
            'ERR_BATCH_TOO_LARGE',
            `the batch has ${items.length} items; this service signs at most ${maxBatchSize} per request`,
            { details: { items: items.length, maxBatchSize } },
          );
        }
      },
      schema: {
        summary: 'Sign the URLs of several objects',
        description: `Signs up to ${maxBatchSize} object URLs. Any invalid item refuses the whole batch. A \`resource\` pattern (\`videos/*\`) makes a custom policy that must cover the key; whoever holds such a link can reuse its signature on every URL the pattern matches.`,
        tags: ['signing'],
        body: BodySchema,
        response: {
          200: ResponseSchema,
          ...errorResponses(400, 401, 403, 413, 415, 429, 500, 503),
        },
      },
    },
    async (request) => {
      const distribution = distributionFor(request, request.body.distribution);
      const rule = ruleFor(requireCaller(request), distribution.config);
      const { signer } = distribution;
      // Every item is checked and authorized before any is signed: a batch is granted whole
      // or not at all.
      const planned = request.body.items.map((item, index) =>
        atItem(index, () => {
          const grant: GrantRequest = {
            expiresIn: item.expiresIn,
            notBefore: item.notBefore,
            ipAddress: item.ipAddress,
            resource: item.resource,
          };
          const input = signer.planObject(item.key, grant, rule.maxTtl);
          authorizeGrant(rule, {
            objectKey: item.key,
            keyPattern: item.resource,
            ttl: signer.ttlOf(grant),
          });
          return { key: item.key, input };
        }),
      );
      const signed = await context.gate.run(planned.length, async () => {
        // Tokens are spent only once signing slots are held, so a 503 costs the client nothing.
        await limitClient(context.limiter, request, planned.length);
        return Promise.all(planned.map(({ input }) => signer.signPlanned(input)));
      });
      request.keyPairId = signed[0]?.keyPairId;
      signed.forEach((link, index) => {
        const item = request.body.items[index];
        auditIssued(request, {
          kind: 'url',
          distribution: distribution.config.name,
          keyPairId: link.keyPairId,
          objectKey: item?.key ?? '',
          ...(item?.resource === undefined ? {} : { keyPattern: item.resource }),
          expiresAt: link.expiresAt,
          ...(link.notBefore === undefined ? {} : { notBefore: link.notBefore }),
          ...(link.ipAddress === undefined ? {} : { ipAddress: link.ipAddress }),
        });
      });
      return {
        items: signed.map((link, index) => ({
          key: planned[index]?.key ?? '',
          url: link.url,
          expiresAt: link.expiresAt,
        })),
      };
    },
  );
}
