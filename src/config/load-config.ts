import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parseDocument } from 'yaml';
import { SignerError } from '../errors.ts';
import { assertKeyPairId } from '../core/grant.ts';
import { findJsonKeyProblem } from '../core/json-keys.ts';
import { quoteInput } from '../core/quote-input.ts';
import { formatSetCookieHeaders } from '../core/sign-cookies.ts';
import { normalizeDistributionUrl } from '../core/signable-url.ts';
import { parseDuration } from '../core/time.ts';
import {
  ConfigFileSchema,
  LOG_LEVELS,
  MAX_WORKERS,
  ServiceConfigSchema,
  type AllowRule,
  type ClientConfig,
  type ConfigFile,
  type DistributionConfig,
  type RateRule,
  type ServiceConfig,
} from './service-config.ts';

export type Environment = Readonly<Record<string, string | undefined>>;

/** Where dev mode keeps its generated key pair, relative to the working directory. */
export const DEV_KEY_DIRECTORY = '.cfsign/dev';
export const DEV_KEY_PAIR_ID = 'KCFSIGNDEV';
/** Where dev mode's local edge (a stand-in for CloudFront) listens; CFSIGN_EDGE_PORT moves it. */
export const DEV_EDGE_PORT = 8081;
/**
 * Dev links point at the local edge, so a link asked for can be opened in a browser. The edge
 * listens where this URL says, and judges links against this host, as CloudFront does.
 */
export function devDistributionUrl(edgePort: number = DEV_EDGE_PORT): string {
  return `http://127.0.0.1:${edgePort}`;
}
export const DEV_DISTRIBUTION_URL = devDistributionUrl();

const DEFAULTS = {
  port: 8080,
  defaultTtl: 3600,
  maxTtl: 86_400,
  maxBatchSize: 100,
  maxSigningInFlight: 512,
  bodyLimitBytes: 1024 * 1024,
  logLevel: 'info',
  shutdownDelaySeconds: 2,
  workers: 1,
  rateLimitStore: 'memory',
  clientRate: { perSecond: 100, burst: 200 },
  // Generous: behind a load balancer every caller may share one address.
  ipRate: { perSecond: 1000, burst: 2000 },
} as const;

/** Every variable the service reads; any other CFSIGN_* variable is a typo worth refusing. */
export const ENVIRONMENT_VARIABLES = [
  'CFSIGN_CONFIG',
  'CLOUDFRONT_URL',
  'CLOUDFRONT_KEY_PAIR_ID',
  'PRIVATE_KEY_PATH',
  'PORT',
  'HOST',
  'CFSIGN_API_KEYS',
  'CFSIGN_AUTH',
  'CFSIGN_DEFAULT_TTL',
  'CFSIGN_MAX_TTL',
  'CFSIGN_LINK_WINDOW',
  'CFSIGN_HASH',
  'CFSIGN_LOG_LEVEL',
  'CFSIGN_MAX_BATCH',
  'CFSIGN_PRIVATE_KEY_PASSPHRASE',
  'CFSIGN_COOKIE_DOMAIN',
  'CFSIGN_COOKIE_PATH',
  'CFSIGN_COOKIE_SAMESITE',
  'CFSIGN_SHUTDOWN_DELAY',
  'CFSIGN_RATE_LIMIT_STORE',
  'CFSIGN_EDGE_PORT',
  'CFSIGN_WORKERS',
] as const;

const SEED_VARIABLES = ['CLOUDFRONT_URL', 'CLOUDFRONT_KEY_PAIR_ID', 'PRIVATE_KEY_PATH'] as const;
const MIN_TOKEN_LENGTH = 16;
/** The longest token a Bearer header may carry (src/server/auth.ts reads the same bound). */
export const MAX_TOKEN_LENGTH = 512;

/** SHA-256 of a token, hex. Only this digest is kept; the token itself never is. */
export function digestToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

class Problems {
  readonly lines: string[] = [];

  add(variable: string, message: string): void {
    this.lines.push(`${variable}: ${message}`);
  }

  /** Runs a check that throws SignerError and records its message under the variable. */
  check<T>(variable: string, action: () => T): T | undefined {
    try {
      return action();
    } catch (error) {
      if (!(error instanceof SignerError)) throw error;
      this.add(variable, error.message);
      return undefined;
    }
  }
}

function read(env: Environment, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

function readSeconds(env: Environment, name: string, fallback: number, problems: Problems): number {
  const text = read(env, name);
  if (text === undefined) return fallback;
  const seconds = /^\d+$/.test(text) ? Number(text) : parseDuration(text);
  if (seconds === undefined || seconds < 1 || !Number.isSafeInteger(seconds)) {
    problems.add(
      name,
      `must be a positive number of seconds or a duration such as 1h, not ${quoteInput(text)}`,
    );
    return fallback;
  }
  return seconds;
}

function readInteger(
  env: Environment,
  name: string,
  fallback: number,
  range: { min: number; max: number },
  problems: Problems,
): number {
  const text = read(env, name);
  if (text === undefined) return fallback;
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= range.min && value <= range.max)) {
    problems.add(
      name,
      `must be a whole number from ${range.min} to ${range.max}, not ${quoteInput(text)}`,
    );
    return fallback;
  }
  return value;
}

function readClients(text: string, problems: Problems): { name: string; tokenSha256: string }[] {
  const clients: { name: string; tokenSha256: string }[] = [];
  const names = new Set<string>();
  const digests = new Set<string>();
  text.split(',').forEach((entry, index) => {
    const separator = entry.indexOf(':');
    const name = separator === -1 ? '' : entry.slice(0, separator).trim();
    const token = separator === -1 ? '' : entry.slice(separator + 1).trim();
    // Never echo the entry: it holds a token.
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name) || token === '') {
      problems.add(
        'CFSIGN_API_KEYS',
        `entry ${index + 1} is not name:token (name: letters, digits, '_', '.', '-')`,
      );
      return;
    }
    // Named by position only: an entry written token:name would put the token in the name.
    if (
      token.length < MIN_TOKEN_LENGTH ||
      token.length > MAX_TOKEN_LENGTH ||
      !/^[\x21-\x7E]+$/.test(token)
    ) {
      problems.add(
        'CFSIGN_API_KEYS',
        `the token of entry ${index + 1} must be ${MIN_TOKEN_LENGTH} to ${MAX_TOKEN_LENGTH} visible ASCII characters (try: cfsign token create)`,
      );
      return;
    }
    const tokenSha256 = digestToken(token);
    if (names.has(name)) problems.add('CFSIGN_API_KEYS', `client '${name}' is listed twice`);
    if (digests.has(tokenSha256))
      problems.add('CFSIGN_API_KEYS', `client '${name}' reuses another client's token`);
    names.add(name);
    digests.add(tokenSha256);
    clients.push({ name, tokenSha256 });
  });
  return clients;
}

function closestVariable(name: string): string | undefined {
  const distance = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i += 1) {
      let previous = row[0] ?? 0;
      row[0] = i;
      for (let j = 1; j <= b.length; j += 1) {
        const current = row[j] ?? 0;
        row[j] = Math.min(
          current + 1,
          (row[j - 1] ?? 0) + 1,
          previous + (a[i - 1] === b[j - 1] ? 0 : 1),
        );
        previous = current;
      }
    }
    return row[b.length] ?? Infinity;
  };
  const [best] = [...ENVIRONMENT_VARIABLES].sort((a, b) => distance(name, a) - distance(name, b));
  return best !== undefined && distance(name, best) <= 3 ? best : undefined;
}

/** A configuration draft: the file's shape, before the schema has vouched for it. */
type Draft = Record<string, unknown> & {
  distributions?: Record<string, unknown>[];
  server?: Record<string, unknown>;
  rateLimit?: Record<string, unknown>;
};

/** Parses a configuration file: JSON when it ends in .json, YAML otherwise (YAML is a superset). */
export function parseConfigText(text: string, path: string): unknown {
  const json = path.endsWith('.json');
  const value = json ? parseJson(text) : parseYamlDocument(text);
  const problem = json ? findJsonKeyProblem(text) : undefined;
  if (problem !== undefined) {
    throw new SignerError(
      'ERR_CONFIG_INVALID',
      problem.kind === 'duplicate'
        ? `the file has the key ${quoteInput(problem.key)} twice in one object`
        : `the file uses the reserved key ${quoteInput(problem.key)}`,
    );
  }
  return value;
}

// Parser messages quote the text around a mistake, and that text may be a key path or a
// token: problems name a line and column, never the file's content.
function notValid(format: 'JSON' | 'YAML', where: string): SignerError {
  return new SignerError('ERR_CONFIG_INVALID', `the file is not valid ${format} (${where})`);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // V8's message carries a snippet and no position: find the position with the YAML parser
    // (YAML is a superset of JSON), which reports one without quoting.
    const position = parseDocument(text, { schema: 'json' }).errors[0]?.linePos?.[0];
    return notValidAt('JSON', position);
  }
}

function notValidAt(
  format: 'JSON' | 'YAML',
  position: { line: number; col: number } | undefined,
): never {
  throw notValid(
    format,
    position === undefined ? 'syntax error' : `line ${position.line}, column ${position.col}`,
  );
}

function parseYamlDocument(text: string): unknown {
  // YAML refuses duplicate keys itself; warnings (an unknown tag, say) are refused too, since
  // YAML would otherwise carry on with a value the author did not mean.
  const document = parseDocument(text);
  const [problem] = [...document.errors, ...document.warnings];
  if (problem !== undefined) {
    const position = problem.linePos?.[0];
    const what = problem.code.toLowerCase().replaceAll('_', ' ');
    throw notValid(
      'YAML',
      position === undefined ? what : `${what} at line ${position.line}, column ${position.col}`,
    );
  }
  try {
    return document.toJS() as unknown;
  } catch {
    // An alias bomb: aliases that expand beyond what yaml allows (maxAliasCount).
    throw notValid('YAML', 'its aliases expand too far');
  }
}

function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new SignerError(
      'ERR_CONFIG_INVALID',
      `the file cannot be read (${typeof code === 'string' ? code : 'unknown error'})`,
    );
  }
  return parseConfigText(text, path);
}

/**
 * Checks a value against a configuration schema. Ajv, which Fastify loads anyway, rather than
 * TypeBox's own checker, whose few hundred modules took about 150 ms of every start.
 */
function schemaChecker(schema: object): (value: unknown) => ErrorObject[] {
  let validate: ValidateFunction | undefined;
  return (value) => {
    validate ??= new Ajv({ allErrors: true, strict: false }).compile(schema);
    return validate(value) ? [] : (validate.errors ?? []);
  };
}

const configFileErrors = schemaChecker(ConfigFileSchema);
const serviceConfigErrors = schemaChecker(ServiceConfigSchema);

/** Every schema violation as `where: what`, in schema order and without repeats. */
export function describeSchemaErrors(value: unknown): string[] {
  const lines = new Set<string>();
  // A choice of literals fails as one `const` error per literal, then one `anyOf`: said once.
  const allowed = new Map<string, string[]>();
  for (const error of configFileErrors(value)) {
    const where =
      error.instancePath === '' ? '(top level)' : error.instancePath.slice(1).replace(/\//g, '.');
    if (error.keyword === 'const') {
      const literals = allowed.get(where) ?? [];
      literals.push(quoteInput(String(error.params['allowedValue'])));
      allowed.set(where, literals);
    } else if (error.keyword === 'anyOf') {
      const literals = allowed.get(where);
      if (literals !== undefined) lines.add(`${where}: must be one of ${literals.join(', ')}`);
      allowed.delete(where);
    } else if (error.keyword === 'additionalProperties') {
      lines.add(
        `${where}: unknown setting ${quoteInput(String(error.params['additionalProperty']))}`,
      );
    } else {
      // Ajv writes "must NOT have …"; a configuration message need not shout.
      lines.add(`${where}: ${(error.message ?? 'is not valid').replace(/\bNOT\b/, 'not')}`);
    }
  }
  for (const [where, [literal]] of allowed)
    lines.add(`${where}: must be ${literal ?? 'another value'}`);
  return [...lines];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fullAccess(distributions: readonly { name: string }[]): AllowRule[] {
  return distributions.map((distribution) => ({
    distribution: distribution.name,
    prefixes: [''],
    wildcards: true,
    cookies: true,
  }));
}

/** Applies the environment over the draft: each variable set wins over the file. */
function applyEnvironment(
  draft: Draft,
  env: Environment,
  mode: 'dev' | 'production',
  problems: Problems,
): void {
  const distributions = (draft.distributions ??= []);
  if (mode === 'dev') {
    const edgePort = readInteger(
      env,
      'CFSIGN_EDGE_PORT',
      DEV_EDGE_PORT,
      { min: 1, max: 65535 },
      problems,
    );
    distributions.push({
      name: 'dev',
      url: devDistributionUrl(edgePort),
      keys: [{ id: DEV_KEY_PAIR_ID, privateKeyFile: `${DEV_KEY_DIRECTORY}/private_key.pem` }],
    });
  } else if (read(env, 'CFSIGN_EDGE_PORT') !== undefined) {
    problems.add(
      'CFSIGN_EDGE_PORT',
      'only dev mode starts the local edge; run cfsign edge instead',
    );
  }
  const [url, keyPairId, privateKeyFile] = SEED_VARIABLES.map((name) => read(env, name));
  const fromFile = read(env, 'CFSIGN_CONFIG') !== undefined;
  if (mode === 'production' && !fromFile) {
    SEED_VARIABLES.forEach((name) => {
      if (read(env, name) === undefined)
        problems.add(name, `is required when any of ${SEED_VARIABLES.join(', ')} is set`);
    });
    distributions.push({ name: 'default', url: url ?? '', keys: [] });
  } else if (fromFile && (keyPairId === undefined) !== (privateKeyFile === undefined)) {
    problems.add(
      keyPairId === undefined ? 'CLOUDFRONT_KEY_PAIR_ID' : 'PRIVATE_KEY_PATH',
      "CLOUDFRONT_KEY_PAIR_ID and PRIVATE_KEY_PATH override the first distribution's key together",
    );
  }
  const first = distributions[0];
  if (first !== undefined && mode === 'production') {
    if (url !== undefined) {
      first['url'] = problems.check('CLOUDFRONT_URL', () => normalizeDistributionUrl(url)) ?? url;
    }
    if (keyPairId !== undefined && privateKeyFile !== undefined) {
      problems.check('CLOUDFRONT_KEY_PAIR_ID', () => {
        assertKeyPairId(keyPairId);
      });
      const key: Record<string, string> = { id: keyPairId, privateKeyFile };
      if (read(env, 'CFSIGN_PRIVATE_KEY_PASSPHRASE') !== undefined)
        key['passphraseEnv'] = 'CFSIGN_PRIVATE_KEY_PASSPHRASE';
      first['keys'] = [key];
      first['activeKey'] = keyPairId;
    }
  }
  const hash = read(env, 'CFSIGN_HASH');
  if (hash !== undefined && hash !== 'sha1' && hash !== 'sha256') {
    problems.add('CFSIGN_HASH', `must be sha1 or sha256, not ${quoteInput(hash)}`);
  }
  const defaultTtlText = read(env, 'CFSIGN_DEFAULT_TTL');
  const maxTtlText = read(env, 'CFSIGN_MAX_TTL');
  const defaultTtl =
    defaultTtlText === undefined
      ? undefined
      : readSeconds(env, 'CFSIGN_DEFAULT_TTL', DEFAULTS.defaultTtl, problems);
  const maxTtl =
    maxTtlText === undefined
      ? undefined
      : readSeconds(env, 'CFSIGN_MAX_TTL', DEFAULTS.maxTtl, problems);
  if (defaultTtl !== undefined && maxTtl !== undefined && defaultTtl > maxTtl) {
    problems.add('CFSIGN_DEFAULT_TTL', `(${defaultTtl} s) is above CFSIGN_MAX_TTL (${maxTtl} s)`);
  }
  // 0 stands for absent or refused (readSeconds has said why).
  const linkWindow = readSeconds(env, 'CFSIGN_LINK_WINDOW', 0, problems);
  for (const distribution of distributions) {
    if (!isRecord(distribution)) continue;
    if (hash === 'sha1' || hash === 'sha256') distribution['hash'] = hash;
    if (defaultTtl !== undefined) distribution['defaultTtl'] = defaultTtl;
    if (maxTtl !== undefined) distribution['maxTtl'] = maxTtl;
    if (linkWindow > 0) distribution['linkWindow'] = linkWindow;
  }

  const server = (draft.server ??= {});
  const host = read(env, 'HOST');
  if (host !== undefined) server['host'] = host;
  if (read(env, 'PORT') !== undefined)
    server['port'] = readInteger(env, 'PORT', DEFAULTS.port, { min: 0, max: 65535 }, problems);
  const logLevel = read(env, 'CFSIGN_LOG_LEVEL');
  if (logLevel !== undefined) {
    if ((LOG_LEVELS as readonly string[]).includes(logLevel)) server['logLevel'] = logLevel;
    else problems.add('CFSIGN_LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  }
  if (read(env, 'CFSIGN_MAX_BATCH') !== undefined)
    server['maxBatchSize'] = readInteger(
      env,
      'CFSIGN_MAX_BATCH',
      DEFAULTS.maxBatchSize,
      { min: 1, max: 1000 },
      problems,
    );
  if (read(env, 'CFSIGN_SHUTDOWN_DELAY') !== undefined)
    server['shutdownDelaySeconds'] = readInteger(
      env,
      'CFSIGN_SHUTDOWN_DELAY',
      DEFAULTS.shutdownDelaySeconds,
      { min: 0, max: 5 },
      problems,
    );
  const cookieVariables = {
    domain: 'CFSIGN_COOKIE_DOMAIN',
    path: 'CFSIGN_COOKIE_PATH',
    sameSite: 'CFSIGN_COOKIE_SAMESITE',
  } as const;
  for (const [setting, variable] of Object.entries(cookieVariables)) {
    const value = read(env, variable);
    if (value === undefined) continue;
    if (setting === 'sameSite' && value !== 'Strict' && value !== 'Lax' && value !== 'None') {
      problems.add(variable, 'must be Strict, Lax or None');
      continue;
    }
    const cookies = isRecord(server['cookies']) ? server['cookies'] : (server['cookies'] = {});
    cookies[setting] = value;
  }
  const store = read(env, 'CFSIGN_RATE_LIMIT_STORE');
  if (store !== undefined) (draft.rateLimit ??= {})['store'] = store;

  const apiKeys = read(env, 'CFSIGN_API_KEYS');
  const authSetting = read(env, 'CFSIGN_AUTH');
  if (authSetting !== undefined && authSetting !== 'none') {
    problems.add(
      'CFSIGN_AUTH',
      `the only value is 'none' (authentication happens in front of cfsign)`,
    );
  }
  if (apiKeys !== undefined) {
    if (authSetting === 'none')
      problems.add('CFSIGN_AUTH', 'is none, but CFSIGN_API_KEYS is set; choose one');
    const names = distributions
      .filter(isRecord)
      .map((distribution) => ({ name: String(distribution['name']) }));
    if (Array.isArray(draft['clients']) && draft['clients'].length > 0) {
      problems.add(
        'CFSIGN_API_KEYS',
        'is set, but CFSIGN_CONFIG has clients; give clients in one place (CFSIGN_API_KEYS would grant every right)',
      );
    }
    draft['clients'] = readClients(apiKeys, problems).map((client) => ({
      ...client,
      allow: fullAccess(names),
    }));
  } else if (authSetting === 'none') {
    draft['auth'] = 'none';
  } else if (mode === 'production' && !fromFile) {
    problems.add(
      'CFSIGN_API_KEYS',
      'is required for a real distribution (name:token pairs), unless CFSIGN_AUTH=none says authentication happens in front of cfsign',
    );
  }
}

function isRedisUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function rangeOf(rule: AllowRule): string {
  return rule.prefixes.map((prefix) => quoteInput(prefix)).join(', ');
}

/** Applies defaults and the checks a schema cannot express (references, orderings). */
function resolve(file: ConfigFile, mode: 'dev' | 'production', problems: Problems): ServiceConfig {
  const names = new Set<string>();
  const distributions: DistributionConfig[] = file.distributions.map((distribution, index) => {
    const where = `distributions.${index}`;
    if (names.has(distribution.name))
      problems.add(where, `the name ${quoteInput(distribution.name)} is used twice`);
    names.add(distribution.name);
    const url =
      mode === 'dev'
        ? distribution.url
        : (problems.check(`${where}.url`, () => normalizeDistributionUrl(distribution.url)) ??
          distribution.url);
    const ids = distribution.keys.map((key) => key.id);
    if (new Set(ids).size !== ids.length) problems.add(`${where}.keys`, 'a key id is listed twice');
    distribution.keys.forEach((key, keyIndex) => {
      if ((key.privateKeyFile === undefined) === (key.privateKeyEnv === undefined)) {
        problems.add(
          `${where}.keys.${keyIndex}`,
          'give exactly one of privateKeyFile and privateKeyEnv',
        );
      }
    });
    const activeKey = distribution.activeKey ?? ids[0] ?? '';
    if (!ids.includes(activeKey))
      problems.add(`${where}.activeKey`, `${quoteInput(activeKey)} is not one of its keys`);
    const defaultTtl =
      distribution.defaultTtl ??
      Math.min(DEFAULTS.defaultTtl, distribution.maxTtl ?? DEFAULTS.defaultTtl);
    const maxTtl = distribution.maxTtl ?? Math.max(DEFAULTS.maxTtl, defaultTtl);
    if (defaultTtl > maxTtl)
      problems.add(`${where}.defaultTtl`, `(${defaultTtl} s) is above maxTtl (${maxTtl} s)`);
    const { linkWindow } = distribution;
    if (linkWindow !== undefined && linkWindow > maxTtl) {
      problems.add(
        `${where}.linkWindow`,
        `(${linkWindow} s) is above maxTtl (${maxTtl} s): no expiry could be rounded to its edge`,
      );
    }
    const resolved: DistributionConfig = {
      name: distribution.name,
      url,
      keys: distribution.keys,
      activeKey,
      defaultTtl,
      maxTtl,
    };
    if (distribution.hash !== undefined) resolved.hash = distribution.hash;
    if (linkWindow !== undefined) resolved.linkWindow = linkWindow;
    return resolved;
  });

  const maxBatchSize = file.server?.maxBatchSize ?? DEFAULTS.maxBatchSize;
  // The default bucket always fits the largest batch; an explicit one is checked below.
  const defaultRate: RateRule = file.rateLimit?.default ?? {
    perSecond: DEFAULTS.clientRate.perSecond,
    burst: Math.max(DEFAULTS.clientRate.burst, maxBatchSize),
  };
  if (defaultRate.burst < maxBatchSize) {
    problems.add(
      'rateLimit.default',
      `burst (${defaultRate.burst}) is below the largest batch (${maxBatchSize}), which could then never pass`,
    );
  }
  const clientNames = new Set<string>();
  const digests = new Set<string>();
  const clients: ClientConfig[] = (file.clients ?? []).map((client, index) => {
    const where = `clients.${index}`;
    if (clientNames.has(client.name))
      problems.add(where, `the name ${quoteInput(client.name)} is used twice`);
    if (digests.has(client.tokenSha256))
      problems.add(where, 'reuses the token digest of another client');
    clientNames.add(client.name);
    digests.add(client.tokenSha256);
    const ruled = new Set<string>();
    const allow = client.allow.map((rule, ruleIndex): AllowRule => {
      if (ruled.has(rule.distribution)) {
        problems.add(
          `${where}.allow.${ruleIndex}`,
          `a second rule for ${quoteInput(rule.distribution)}; merge its prefixes into the first`,
        );
      }
      ruled.add(rule.distribution);
      if (!names.has(rule.distribution))
        problems.add(
          `${where}.allow.${ruleIndex}.distribution`,
          `${quoteInput(rule.distribution)} is not a configured distribution`,
        );
      const resolved: AllowRule = {
        distribution: rule.distribution,
        prefixes: rule.prefixes ?? [''],
        wildcards: rule.wildcards ?? false,
        cookies: rule.cookies ?? false,
      };
      if (rule.maxTtl !== undefined) resolved.maxTtl = rule.maxTtl;
      if (resolved.prefixes.some((prefix) => /[*?]/.test(prefix))) {
        problems.add(
          `${where}.allow.${ruleIndex}.prefixes`,
          `prefixes are literal; ${rangeOf(resolved)} contains '*' or '?'`,
        );
      }
      return resolved;
    });
    const rate = client.rateLimit ?? defaultRate;
    if (client.rateLimit !== undefined && rate.burst < maxBatchSize) {
      problems.add(
        `${where}.rateLimit`,
        `burst (${rate.burst}) is below the largest batch (${maxBatchSize}), which could then never pass`,
      );
    }
    return {
      name: client.name,
      tokenSha256: client.tokenSha256,
      allow,
      rateLimit: client.rateLimit ?? defaultRate,
    };
  });

  let auth: ServiceConfig['auth'];
  if (clients.length > 0) {
    if (file.auth === 'none')
      problems.add('auth', 'is none, but clients are configured; choose one');
    auth = 'tokens';
  } else if (file.auth === 'none' || mode === 'dev') {
    auth = file.auth === 'none' ? 'none' : 'loopback';
    clients.push({
      name: auth === 'none' ? 'anonymous' : 'dev',
      allow: fullAccess(distributions),
      rateLimit: defaultRate,
    });
  } else {
    problems.add(
      'CFSIGN_API_KEYS',
      'is required for a real distribution (name:token pairs, or clients in CFSIGN_CONFIG), unless CFSIGN_AUTH=none says authentication happens in front of cfsign',
    );
    auth = 'none';
  }

  const server = file.server ?? {};
  const cookies: ServiceConfig['cookies'] = { path: server.cookies?.path ?? '/' };
  if (server.cookies?.domain !== undefined) cookies.domain = server.cookies.domain;
  if (server.cookies?.sameSite !== undefined) cookies.sameSite = server.cookies.sameSite;
  problems.check('cookies (CFSIGN_COOKIE_*)', () => formatSetCookieHeaders({}, cookies));
  const store = file.rateLimit?.store ?? DEFAULTS.rateLimitStore;
  if (store !== 'memory' && !isRedisUrl(store)) {
    problems.add('rateLimit.store (CFSIGN_RATE_LIMIT_STORE)', "must be 'memory' or a redis:// URL");
  }
  return {
    mode,
    host: server.host ?? (mode === 'dev' ? '127.0.0.1' : '0.0.0.0'),
    port: server.port ?? DEFAULTS.port,
    logLevel: server.logLevel ?? DEFAULTS.logLevel,
    distributions,
    auth,
    clients,
    rateLimit: { store, default: defaultRate, ip: file.rateLimit?.ip ?? DEFAULTS.ipRate },
    cookies,
    maxBatchSize: server.maxBatchSize ?? DEFAULTS.maxBatchSize,
    maxSigningInFlight: server.maxSigningInFlight ?? DEFAULTS.maxSigningInFlight,
    shutdownDelaySeconds: server.shutdownDelaySeconds ?? DEFAULTS.shutdownDelaySeconds,
    workers: DEFAULTS.workers,
    bodyLimitBytes: DEFAULTS.bodyLimitBytes,
  };
}

function fail(problems: Problems): never {
  throw new SignerError(
    'ERR_CONFIG_INVALID',
    `the configuration has ${problems.lines.length} problem${problems.lines.length === 1 ? '' : 's'}: ${problems.lines.join('; ')}`,
    { details: { problems: problems.lines } },
  );
}

/**
 * Reads the service configuration: the file named by CFSIGN_CONFIG (YAML or JSON), if any,
 * with environment variables (the seed's names included) taking precedence; or the environment
 * alone. With neither a file nor CLOUDFRONT_URL, CLOUDFRONT_KEY_PAIR_ID or PRIVATE_KEY_PATH,
 * the result is dev mode. Every problem is gathered before failing; messages name the variable
 * or the file setting and never echo a token or a key.
 *
 * @throws {SignerError} `ERR_CONFIG_INVALID` with `details.problems`, one line per problem
 */
export function loadConfig(env: Environment): ServiceConfig {
  const problems = new Problems();
  for (const name of Object.keys(env)) {
    if (
      name.startsWith('CFSIGN_') &&
      !(ENVIRONMENT_VARIABLES as readonly string[]).includes(name)
    ) {
      const suggestion = closestVariable(name);
      problems.add(
        name,
        `unknown variable${suggestion === undefined ? '' : `; did you mean ${suggestion}?`}`,
      );
    }
  }
  const configPath = read(env, 'CFSIGN_CONFIG');
  let draft: Draft = {};
  let fileUnusable = false;
  if (configPath !== undefined) {
    const file = problems.check('CFSIGN_CONFIG', () => readConfigFile(configPath));
    if (file !== undefined && !isRecord(file))
      problems.add('CFSIGN_CONFIG', 'the file must hold a mapping of settings');
    if (isRecord(file)) draft = file;
    else fileUnusable = true;
  }
  const mode =
    configPath === undefined && SEED_VARIABLES.every((name) => read(env, name) === undefined)
      ? 'dev'
      : 'production';
  applyEnvironment(draft, env, mode, problems);
  // Environment problems are precise on their own; schema echoes of them would only add noise.
  if (problems.lines.length > 0 && configPath === undefined) fail(problems);
  // Without the file's settings, schema problems would only describe the missing file again.
  if (fileUnusable) fail(problems);
  const schemaProblems = describeSchemaErrors(draft);
  for (const line of schemaProblems)
    problems.lines.push(
      configPath === undefined ? `configuration: ${line}` : `CFSIGN_CONFIG: ${line}`,
    );
  // With a schema-valid draft, resolve too, so every problem is reported in one go.
  if (schemaProblems.length > 0) fail(problems);
  const config = resolve(draft as ConfigFile, mode, problems);
  // Environment only, not a file setting: main.cjs sizes each worker's signing pool from it
  // before anything is imported, let alone a file read.
  if (read(env, 'CFSIGN_WORKERS') !== undefined) {
    config.workers = readInteger(
      env,
      'CFSIGN_WORKERS',
      DEFAULTS.workers,
      { min: 1, max: MAX_WORKERS },
      problems,
    );
  }
  if (problems.lines.length === 0 && serviceConfigErrors(config).length > 0) {
    problems.add('configuration', 'does not match the resolved configuration schema');
  }
  if (problems.lines.length > 0) fail(problems);
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
