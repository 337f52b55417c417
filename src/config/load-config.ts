import { createHash } from 'node:crypto';
import { Value } from 'typebox/value';
import { SignerError } from '../errors.ts';
import { assertKeyPairId } from '../core/grant.ts';
import { quoteInput } from '../core/quote-input.ts';
import { formatSetCookieHeaders } from '../core/sign-cookies.ts';
import { normalizeDistributionUrl } from '../core/signable-url.ts';
import { parseDuration } from '../core/time.ts';
import {
  LOG_LEVELS,
  ServiceConfigSchema,
  type ClientConfig,
  type LogLevel,
  type ServiceConfig,
} from './service-config.ts';

export type Environment = Readonly<Record<string, string | undefined>>;

/** Where dev mode keeps its generated key pair, relative to the working directory. */
export const DEV_KEY_DIRECTORY = '.cfsign/dev';
export const DEV_KEY_PAIR_ID = 'KCFSIGNDEV';
/** A placeholder that can never resolve (RFC 2606), so a dev link is never mistaken for real. */
export const DEV_DISTRIBUTION_URL = 'https://cfsign-dev.invalid';

const DEFAULTS = {
  port: 8080,
  defaultTtl: 3600,
  maxTtl: 86_400,
  maxBatchSize: 100,
  bodyLimitBytes: 1024 * 1024,
  logLevel: 'info',
  shutdownDelaySeconds: 2,
} as const;

/** Every variable the service reads; any other CFSIGN_* variable is a typo worth refusing. */
export const ENVIRONMENT_VARIABLES = [
  'CLOUDFRONT_URL',
  'CLOUDFRONT_KEY_PAIR_ID',
  'PRIVATE_KEY_PATH',
  'PORT',
  'HOST',
  'CFSIGN_API_KEYS',
  'CFSIGN_AUTH',
  'CFSIGN_DEFAULT_TTL',
  'CFSIGN_MAX_TTL',
  'CFSIGN_HASH',
  'CFSIGN_LOG_LEVEL',
  'CFSIGN_MAX_BATCH',
  'CFSIGN_PRIVATE_KEY_PASSPHRASE',
  'CFSIGN_COOKIE_DOMAIN',
  'CFSIGN_COOKIE_PATH',
  'CFSIGN_COOKIE_SAMESITE',
  'CFSIGN_SHUTDOWN_DELAY',
] as const;

const SEED_VARIABLES = ['CLOUDFRONT_URL', 'CLOUDFRONT_KEY_PAIR_ID', 'PRIVATE_KEY_PATH'] as const;
const MIN_TOKEN_LENGTH = 16;

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

function readClients(text: string, problems: Problems): ClientConfig[] {
  const clients: ClientConfig[] = [];
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
    if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
      problems.add(
        'CFSIGN_API_KEYS',
        `the token of client '${name}' must be at least ${MIN_TOKEN_LENGTH} characters without spaces (try: openssl rand -hex 32)`,
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

/**
 * Reads the service configuration from environment variables, the seed's names included.
 * With none of CLOUDFRONT_URL, CLOUDFRONT_KEY_PAIR_ID and PRIVATE_KEY_PATH set, the result is
 * dev mode. Every problem is gathered before failing; messages name the variable and never
 * echo a token or a key.
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
  const seedValues = SEED_VARIABLES.map((name) => read(env, name));
  const mode = seedValues.every((value) => value === undefined) ? 'dev' : 'production';
  if (mode === 'production') {
    SEED_VARIABLES.forEach((name, index) => {
      if (seedValues[index] === undefined) {
        problems.add(name, `is required when any of ${SEED_VARIABLES.join(', ')} is set`);
      }
    });
  }

  const url =
    mode === 'dev'
      ? DEV_DISTRIBUTION_URL
      : (problems.check('CLOUDFRONT_URL', () =>
          normalizeDistributionUrl(read(env, 'CLOUDFRONT_URL') ?? ''),
        ) ?? '');
  const keyPairId = mode === 'dev' ? DEV_KEY_PAIR_ID : (read(env, 'CLOUDFRONT_KEY_PAIR_ID') ?? '');
  if (mode === 'production')
    problems.check('CLOUDFRONT_KEY_PAIR_ID', () => {
      assertKeyPairId(keyPairId);
    });
  const privateKeyFile =
    mode === 'dev' ? `${DEV_KEY_DIRECTORY}/private_key.pem` : (read(env, 'PRIVATE_KEY_PATH') ?? '');

  const hashText = read(env, 'CFSIGN_HASH');
  if (hashText !== undefined && hashText !== 'sha1' && hashText !== 'sha256') {
    problems.add('CFSIGN_HASH', `must be sha1 or sha256, not ${quoteInput(hashText)}`);
  }
  const logLevel = read(env, 'CFSIGN_LOG_LEVEL') ?? DEFAULTS.logLevel;
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    problems.add('CFSIGN_LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const defaultTtl = readSeconds(env, 'CFSIGN_DEFAULT_TTL', DEFAULTS.defaultTtl, problems);
  const maxTtl = readSeconds(
    env,
    'CFSIGN_MAX_TTL',
    Math.max(DEFAULTS.maxTtl, defaultTtl),
    problems,
  );
  if (defaultTtl > maxTtl) {
    problems.add('CFSIGN_DEFAULT_TTL', `(${defaultTtl} s) is above CFSIGN_MAX_TTL (${maxTtl} s)`);
  }
  const port = readInteger(env, 'PORT', DEFAULTS.port, { min: 0, max: 65535 }, problems);
  const shutdownDelaySeconds = readInteger(
    env,
    'CFSIGN_SHUTDOWN_DELAY',
    DEFAULTS.shutdownDelaySeconds,
    { min: 0, max: 5 },
    problems,
  );
  const maxBatchSize = readInteger(
    env,
    'CFSIGN_MAX_BATCH',
    DEFAULTS.maxBatchSize,
    { min: 1, max: 1000 },
    problems,
  );

  const apiKeys = read(env, 'CFSIGN_API_KEYS');
  const authSetting = read(env, 'CFSIGN_AUTH');
  let auth: ServiceConfig['auth'];
  if (authSetting !== undefined && authSetting !== 'none') {
    problems.add(
      'CFSIGN_AUTH',
      `the only value is 'none' (authentication happens in front of cfsign)`,
    );
  }
  if (apiKeys !== undefined) {
    if (authSetting === 'none')
      problems.add('CFSIGN_AUTH', 'is none, but CFSIGN_API_KEYS is set; choose one');
    auth = { mode: 'tokens', clients: readClients(apiKeys, problems) };
  } else if (authSetting === 'none') {
    auth = { mode: 'none' };
  } else if (mode === 'dev') {
    auth = { mode: 'loopback' };
  } else {
    problems.add(
      'CFSIGN_API_KEYS',
      'is required for a real distribution (name:token pairs), unless CFSIGN_AUTH=none says authentication happens in front of cfsign',
    );
    auth = { mode: 'none' };
  }

  const cookies: ServiceConfig['cookies'] = { path: read(env, 'CFSIGN_COOKIE_PATH') ?? '/' };
  const domain = read(env, 'CFSIGN_COOKIE_DOMAIN');
  if (domain !== undefined) cookies.domain = domain;
  const sameSite = read(env, 'CFSIGN_COOKIE_SAMESITE');
  if (sameSite !== undefined) {
    if (sameSite === 'Strict' || sameSite === 'Lax' || sameSite === 'None')
      cookies.sameSite = sameSite;
    else problems.add('CFSIGN_COOKIE_SAMESITE', 'must be Strict, Lax or None');
  }
  problems.check('CFSIGN_COOKIE_DOMAIN / CFSIGN_COOKIE_PATH', () =>
    formatSetCookieHeaders({}, cookies),
  );

  const passphraseSet = read(env, 'CFSIGN_PRIVATE_KEY_PASSPHRASE') !== undefined;
  const config: ServiceConfig = {
    mode,
    host: read(env, 'HOST') ?? (mode === 'dev' ? '127.0.0.1' : '0.0.0.0'),
    port,
    logLevel: logLevel as LogLevel,
    distribution: {
      url,
      keys: [
        passphraseSet
          ? { id: keyPairId, privateKeyFile, passphraseEnv: 'CFSIGN_PRIVATE_KEY_PASSPHRASE' }
          : { id: keyPairId, privateKeyFile },
      ],
      activeKey: keyPairId,
      defaultTtl,
      maxTtl,
    },
    auth,
    cookies,
    maxBatchSize,
    shutdownDelaySeconds,
    bodyLimitBytes: DEFAULTS.bodyLimitBytes,
  };
  if (hashText === 'sha1' || hashText === 'sha256') config.distribution.hash = hashText;

  if (problems.lines.length === 0 && !Value.Check(ServiceConfigSchema, config)) {
    problems.add('configuration', 'does not match the configuration schema');
  }
  if (problems.lines.length > 0) {
    throw new SignerError(
      'ERR_CONFIG_INVALID',
      `the configuration has ${problems.lines.length} problem${problems.lines.length === 1 ? '' : 's'}: ${problems.lines.join('; ')}`,
      { details: { problems: problems.lines } },
    );
  }
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
