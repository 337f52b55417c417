import { Type, type Static } from 'typebox';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const KeySourceSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Z0-9]{1,64}$' }),
    privateKeyFile: Type.String({ minLength: 1 }),
    /** Name of the environment variable holding the passphrase, never the passphrase itself. */
    passphraseEnv: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

const ClientSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
    /** SHA-256 of the client's token, hex: only digests are ever stored. */
    tokenSha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  },
  { additionalProperties: false },
);

/** The service's whole configuration, after every variable has been read and checked. */
export const ServiceConfigSchema = Type.Object(
  {
    /** `dev`: no configuration was given; loopback only, a generated key, a placeholder URL. */
    mode: Type.Union([Type.Literal('production'), Type.Literal('dev')]),
    host: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 0, maximum: 65535 }),
    logLevel: Type.Union([
      Type.Literal('fatal'),
      Type.Literal('error'),
      Type.Literal('warn'),
      Type.Literal('info'),
      Type.Literal('debug'),
      Type.Literal('trace'),
      Type.Literal('silent'),
    ]),
    distribution: Type.Object(
      {
        url: Type.String({ minLength: 1 }),
        keys: Type.Array(KeySourceSchema, { minItems: 1 }),
        activeKey: Type.String(),
        hash: Type.Optional(Type.Union([Type.Literal('sha1'), Type.Literal('sha256')])),
        defaultTtl: Type.Integer({ minimum: 1 }),
        maxTtl: Type.Integer({ minimum: 1 }),
      },
      { additionalProperties: false },
    ),
    auth: Type.Union([
      Type.Object({
        mode: Type.Literal('tokens'),
        clients: Type.Array(ClientSchema, { minItems: 1 }),
      }),
      /** Authentication happens in front of cfsign. */
      Type.Object({ mode: Type.Literal('none') }),
      /** Dev mode: requests without a token, from loopback addresses only. */
      Type.Object({ mode: Type.Literal('loopback') }),
    ]),
    cookies: Type.Object(
      {
        domain: Type.Optional(Type.String()),
        path: Type.String(),
        sameSite: Type.Optional(
          Type.Union([Type.Literal('Strict'), Type.Literal('Lax'), Type.Literal('None')]),
        ),
      },
      { additionalProperties: false },
    ),
    maxBatchSize: Type.Integer({ minimum: 1, maximum: 1000 }),
    /** Seconds between SIGTERM (readiness fails) and closing the listener. */
    shutdownDelaySeconds: Type.Integer({ minimum: 0, maximum: 5 }),
    bodyLimitBytes: Type.Integer({ minimum: 1024 }),
  },
  { additionalProperties: false },
);

export type ServiceConfig = Static<typeof ServiceConfigSchema>;
export type ClientConfig = Static<typeof ClientSchema>;
export type LogLevel = (typeof LOG_LEVELS)[number];
export { LOG_LEVELS };
