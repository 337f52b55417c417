/**
 * Every error a caller can cause carries one of these codes. A code never changes meaning;
 * new conditions get new codes. `docs/errors.md`, the CLI exit-code table and the HTTP status
 * table are checked against this list by a test.
 */
export const ERROR_CODES = [
  'ERR_USAGE',
  'ERR_URL_INVALID',
  'ERR_URL_NOT_CANONICAL',
  'ERR_URL_RESERVED_PARAMETER',
  'ERR_OBJECT_KEY_INVALID',
  'ERR_RESOURCE_INVALID',
  'ERR_RESOURCE_MISMATCH',
  'ERR_RESOURCE_WILDCARD_IN_URL',
  'ERR_DATE_INVALID',
  'ERR_DATE_MILLISECONDS',
  'ERR_DATE_IN_PAST',
  'ERR_DATE_OUT_OF_RANGE',
  'ERR_DATE_WINDOW_INVALID',
  'ERR_IP_INVALID',
  'ERR_IP_V6_UNSUPPORTED',
  'ERR_HASH_UNSUPPORTED',
  'ERR_KEY_PAIR_ID_INVALID',
  'ERR_KEY_INVALID',
  'ERR_KEY_UNSUPPORTED',
  'ERR_KEY_PASSPHRASE',
  'ERR_KEY_UNREADABLE',
  'ERR_POLICY_MALFORMED',
  'ERR_COOKIE_OPTION_INVALID',
  'ERR_COOKIE_TOO_LARGE',
  'ERR_FILE_EXISTS',
  'ERR_CONFIG_INVALID',
  'ERR_REQUEST_INVALID',
  'ERR_AUTH_REQUIRED',
  'ERR_TTL_TOO_LONG',
  'ERR_BATCH_TOO_LARGE',
  'ERR_NOT_FOUND',
  'ERR_BODY_TOO_LARGE',
  'ERR_MEDIA_TYPE_UNSUPPORTED',
  'ERR_INTERNAL',
  'ERR_FORBIDDEN',
  'ERR_DISTRIBUTION_UNKNOWN',
  'ERR_RATE_LIMITED',
  'ERR_OVERLOADED',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface SignerErrorOptions {
  cause?: unknown;
  /** Machine-readable facts about the failure. Never secrets, paths or signed links. */
  details?: Readonly<Record<string, unknown>>;
}

/**
 * The one error type of cfsign. `code` is the stable discriminant; `message` says what was
 * wrong and what to do, and never contains key material, tokens, signed links or file paths.
 */
export class SignerError extends Error {
  override readonly name = 'SignerError';
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options: SignerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }
}

export function isSignerError(value: unknown): value is SignerError {
  return value instanceof SignerError;
}
