import { Type, type Static } from 'typebox';

/**
 * Two schemas, one vocabulary: ConfigFileSchema is what people write (CFSIGN_CONFIG, published
 * by `cfsign config schema`), with defaults left out; ServiceConfigSchema is the same settings
 * after environment overrides and defaults, which is all the service ever reads.
 */

const NAME = '^[A-Za-z0-9_.-]{1,64}$';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const LogLevelSchema = Type.Union([
  Type.Literal('fatal'),
  Type.Literal('error'),
  Type.Literal('warn'),
  Type.Literal('info'),
  Type.Literal('debug'),
  Type.Literal('trace'),
  Type.Literal('silent'),
]);

const HashSchema = Type.Union([Type.Literal('sha1'), Type.Literal('sha256')]);

const SecondsSchema = Type.Integer({ minimum: 1, maximum: 2_147_483_647 });

export const RateRuleSchema = Type.Object(
  {
    perSecond: Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000 }),
    burst: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
  },
  { additionalProperties: false },
);

const KeySourceSchema = Type.Object(
  {
    /** The CloudFront public key ID. */
    id: Type.String({ pattern: '^[A-Z0-9]{1,64}$' }),
    /** A PEM file, read once at start-up and on reload. */
    privateKeyFile: Type.Optional(Type.String({ minLength: 1 })),
    /** The name of an environment variable holding the PEM (`\n` escapes allowed). */
    privateKeyEnv: Type.Optional(Type.String({ minLength: 1 })),
    /** The name of an environment variable holding the passphrase, never the passphrase. */
    passphraseEnv: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

const CookieSettingsSchema = Type.Object(
  {
    domain: Type.Optional(Type.String({ minLength: 1 })),
    path: Type.Optional(Type.String({ minLength: 1 })),
    sameSite: Type.Optional(
      Type.Union([Type.Literal('Strict'), Type.Literal('Lax'), Type.Literal('None')]),
    ),
  },
  { additionalProperties: false },
);

const DistributionFileSchema = Type.Object(
  {
    name: Type.String({ pattern: NAME }),
    url: Type.String({ minLength: 1 }),
    /** A CloudFront key group holds up to five keys. */
    keys: Type.Array(KeySourceSchema, { minItems: 1, maxItems: 5 }),
    /** The key that signs; every listed key verifies. Defaults to the first. */
    activeKey: Type.Optional(Type.String()),
    hash: Type.Optional(HashSchema),
    defaultTtl: Type.Optional(SecondsSchema),
    maxTtl: Type.Optional(SecondsSchema),
    /**
     * Stable links: expiries round up to a multiple of this many seconds (never past the
     * lifetime cap), so repeated requests for one object get the same URL. Off by default.
     */
    linkWindow: Type.Optional(SecondsSchema),
  },
  { additionalProperties: false },
);

const AllowRuleFileSchema = Type.Object(
  {
    distribution: Type.String({ pattern: NAME }),
    /** Object-key prefixes, matched byte-exactly and case-sensitively. Default: every key. */
    prefixes: Type.Optional(Type.Array(Type.String({ maxLength: 1024 }), { minItems: 1 })),
    maxTtl: Type.Optional(SecondsSchema),
    /** May ask for resource patterns (`videos/*`). Default false. */
    wildcards: Type.Optional(Type.Boolean()),
    /** May ask for signed cookies. Default false. */
    cookies: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const ClientFileSchema = Type.Object(
  {
    name: Type.String({ pattern: NAME }),
    /** SHA-256 of the client's token, hex (`cfsign token create`): only digests are stored. */
    tokenSha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    allow: Type.Array(AllowRuleFileSchema, { minItems: 1 }),
    rateLimit: Type.Optional(RateRuleSchema),
  },
  { additionalProperties: false },
);

/** The configuration file (`CFSIGN_CONFIG`, YAML or JSON). */
export const ConfigFileSchema = Type.Object(
  {
    distributions: Type.Array(DistributionFileSchema, { minItems: 1 }),
    clients: Type.Optional(Type.Array(ClientFileSchema)),
    /** `none`: authentication happens in front of cfsign; every caller may sign anything. */
    auth: Type.Optional(Type.Literal('none')),
    rateLimit: Type.Optional(
      Type.Object(
        {
          /** `memory` (per instance) or `redis://host:port/db` (shared by every instance). */
          store: Type.Optional(Type.String({ minLength: 1 })),
          /** Per client, counted per signature, unless the client has its own. */
          default: Type.Optional(RateRuleSchema),
          /** Per remote address, counted per request, before authentication. */
          ip: Type.Optional(RateRuleSchema),
        },
        { additionalProperties: false },
      ),
    ),
    server: Type.Optional(
      Type.Object(
        {
          host: Type.Optional(Type.String({ minLength: 1 })),
          port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
          logLevel: Type.Optional(LogLevelSchema),
          maxBatchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
          maxSigningInFlight: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
          shutdownDelaySeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 5 })),
          cookies: Type.Optional(CookieSettingsSchema),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export type ConfigFile = Static<typeof ConfigFileSchema>;

const AllowRuleSchema = Type.Object(
  {
    distribution: Type.String(),
    prefixes: Type.Array(Type.String()),
    maxTtl: Type.Optional(SecondsSchema),
    wildcards: Type.Boolean(),
    cookies: Type.Boolean(),
  },
  { additionalProperties: false },
);

const ClientSchema = Type.Object(
  {
    name: Type.String(),
    /** Absent for the implicit client of `auth: none` and dev mode. */
    tokenSha256: Type.Optional(Type.String()),
    allow: Type.Array(AllowRuleSchema),
    rateLimit: RateRuleSchema,
  },
  { additionalProperties: false },
);

const DistributionSchema = Type.Object(
  {
    name: Type.String(),
    url: Type.String(),
    keys: Type.Array(KeySourceSchema, { minItems: 1, maxItems: 5 }),
    activeKey: Type.String(),
    hash: Type.Optional(HashSchema),
    defaultTtl: SecondsSchema,
    maxTtl: SecondsSchema,
    linkWindow: Type.Optional(SecondsSchema),
  },
  { additionalProperties: false },
);

/** The most worker processes CFSIGN_WORKERS may ask for. */
export const MAX_WORKERS = 64;

/** The service's whole configuration, resolved: environment over file, defaults applied. */
export const ServiceConfigSchema = Type.Object(
  {
    /** `dev`: no configuration was given; loopback only, a generated key, a placeholder URL. */
    mode: Type.Union([Type.Literal('production'), Type.Literal('dev')]),
    host: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 0, maximum: 65535 }),
    logLevel: LogLevelSchema,
    distributions: Type.Array(DistributionSchema, { minItems: 1 }),
    /** `tokens`: Bearer tokens; `none`: trusted front end; `loopback`: dev mode. */
    auth: Type.Union([Type.Literal('tokens'), Type.Literal('none'), Type.Literal('loopback')]),
    clients: Type.Array(ClientSchema),
    rateLimit: Type.Object(
      { store: Type.String(), default: RateRuleSchema, ip: RateRuleSchema },
      { additionalProperties: false },
    ),
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
    maxSigningInFlight: Type.Integer({ minimum: 1 }),
    /** Seconds between SIGTERM (readiness fails) and closing the listener. */
    shutdownDelaySeconds: Type.Integer({ minimum: 0, maximum: 5 }),
    /** Processes serving the port (CFSIGN_WORKERS, node:cluster); 1 is this process alone. */
    workers: Type.Integer({ minimum: 1, maximum: MAX_WORKERS }),
    bodyLimitBytes: Type.Integer({ minimum: 1024 }),
  },
  { additionalProperties: false },
);

export type ServiceConfig = Static<typeof ServiceConfigSchema>;
export type DistributionConfig = ServiceConfig['distributions'][number];
export type ClientConfig = ServiceConfig['clients'][number];
export type AllowRule = ClientConfig['allow'][number];
export type RateRule = Static<typeof RateRuleSchema>;
export type KeySource = DistributionConfig['keys'][number];
