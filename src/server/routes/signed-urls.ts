import { Type } from 'typebox';
import { SignerError } from '../../errors.ts';
import type { App, ServerContext } from '../context.ts';
import {
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
  { items: Type.Array(ItemSchema, { minItems: 1 }) },
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
        response: { 200: ResponseSchema, ...errorResponses(400, 401, 413, 415, 500) },
      },
    },
    async (request) => {
      const requests = request.body.items.map((item): [string, GrantRequest] => [
        item.key,
        {
          expiresIn: item.expiresIn,
          notBefore: item.notBefore,
          ipAddress: item.ipAddress,
          resource: item.resource,
        },
      ]);
      // Every item is checked before any is signed: a batch is granted whole or not at all.
      const planned = requests.map(([key, grant], index) =>
        atItem(index, () => context.signer.planObject(key, grant)),
      );
      const signed = await Promise.all(planned.map((input) => context.signer.signPlanned(input)));
      request.keyPairId = signed[0]?.keyPairId;
      return {
        items: signed.map((link, index) => ({
          key: requests[index]?.[0] ?? '',
          url: link.url,
          expiresAt: link.expiresAt,
        })),
      };
    },
  );
}
