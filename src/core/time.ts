import { SignerError } from '../errors.ts';
import { quoteInput } from './quote-input.ts';

/** CloudFront's `AWS:EpochTime` is a signed 32-bit value: 2038-01-19T03:14:07Z is the last. */
export const MAX_EPOCH_SECONDS = 2_147_483_647;

/**
 * A point in time given by a caller: epoch seconds (number or digit string), an ISO-8601 date
 * or date-time (UTC when it has no offset), a `Date`, or a duration from `now` such as `90s`,
 * `15m`, `1h`, `7d` or `1h30m`.
 */
export type TimeInput = number | string | Date;

const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const SECONDS_PER_UNIT = { d: 86_400, h: 3_600, m: 60, s: 1 } as const;
// Epoch seconds reach 1e12 only in the year 33658; such a number is almost surely milliseconds.
const LOOKS_LIKE_MILLISECONDS = 1e12;

function nowMilliseconds(now: Date): number {
  // Plain-JavaScript callers can leave it out; say so rather than fail on a property read.
  if (!(now instanceof Date)) {
    throw new SignerError('ERR_DATE_INVALID', '`now` must be a Date (the current time)');
  }
  const ms = now.getTime();
  if (!Number.isFinite(ms)) {
    throw new SignerError('ERR_DATE_INVALID', '`now` is an invalid Date');
  }
  return ms;
}

/** Whole epoch seconds of `now`, rounded down. */
export function epochSeconds(now: Date): number {
  return Math.floor(nowMilliseconds(now) / 1000);
}

/**
 * The expiry of a stable link: `now + ttl` rounded up to the next multiple of `window` seconds
 * since the epoch, so that every request within one window gets the same expiry, and so the
 * same URL and signature. Where that edge would pass `now + maxTtl`, the exact `now + ttl` is
 * kept: rounding never lengthens a link past its cap, nor shortens it below what was asked.
 */
export function alignExpiry(
  nowSeconds: number,
  ttl: number,
  window: number | undefined,
  maxTtl: number,
): number {
  const exact = nowSeconds + ttl;
  if (window === undefined || window <= 1) return exact;
  const edge = Math.ceil(exact / window) * window;
  return edge <= nowSeconds + maxTtl ? edge : exact;
}

/** Seconds in a duration like `90s`, `15m`, `1h`, `7d` or `1h30m`, or undefined if it is not one. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (!match || text === '') return undefined;
  const [, days, hours, minutes, seconds] = match;
  return (
    Number(days ?? 0) * SECONDS_PER_UNIT.d +
    Number(hours ?? 0) * SECONDS_PER_UNIT.h +
    Number(minutes ?? 0) * SECONDS_PER_UNIT.m +
    Number(seconds ?? 0)
  );
}

/** Epoch seconds of a UTC calendar time. Unlike Date.UTC, years 0-99 are not read as 1900-1999. */
function utcSeconds(
  year: number,
  month: number,
  day: number,
  hour = 0,
  minute = 0,
  second = 0,
): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return date.getTime() / 1000;
}

function daysInMonth(year: number, month: number): number {
  return new Date(utcSeconds(year, month + 1, 0) * 1000).getUTCDate();
}

/** A strict ISO-8601 date or date-time as whole epoch seconds plus whether a fraction followed. */
interface IsoTime {
  wholeSeconds: number;
  hasFraction: boolean;
}

function parseIso8601(text: string): IsoTime | undefined {
  const match = ISO_8601.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', offset = 'Z'] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (offset !== 'Z') {
    const digits = offset.replace(':', '');
    const offsetHours = Number(digits.slice(1, 3));
    const offsetMins = Number(digits.slice(3, 5));
    if (offsetHours > 23 || offsetMins > 59) return undefined;
    offsetMinutes = (offsetHours * 60 + offsetMins) * (offset.startsWith('-') ? -1 : 1);
  }
  // Whole seconds stay exact integers; the fraction is only ever a reason to round.
  const wholeSeconds = utcSeconds(year, month, day, hour, minute, second) - offsetMinutes * 60;
  return { wholeSeconds, hasFraction: /[1-9]/.test(fraction) };
}

type Rounding = 'down' | 'up';

function outOfRange(what: string): SignerError {
  return new SignerError(
    'ERR_DATE_OUT_OF_RANGE',
    `${what} is after 2038-01-19T03:14:07Z, the last time CloudFront's policy can express`,
  );
}

/** Range checks; `typedNumber` is true only for numbers the caller wrote as epoch seconds. */
function checkEpochSeconds(value: number, what: string, typedNumber: boolean): number {
  if (!Number.isSafeInteger(value)) {
    if (!typedNumber && value > MAX_EPOCH_SECONDS) throw outOfRange(what);
    throw new SignerError(
      'ERR_DATE_INVALID',
      `${what} must be whole epoch seconds, an ISO-8601 date, or a duration like 15m`,
    );
  }
  if (typedNumber && value >= LOOKS_LIKE_MILLISECONDS) {
    throw new SignerError(
      'ERR_DATE_MILLISECONDS',
      `${what} ${value} looks like epoch milliseconds; CloudFront needs seconds (divide by 1000)`,
    );
  }
  if (value > MAX_EPOCH_SECONDS) throw outOfRange(what);
  if (value < 0) {
    throw new SignerError('ERR_DATE_OUT_OF_RANGE', `${what} is before 1970`);
  }
  return value;
}

/**
 * Resolves a {@link TimeInput} to whole epoch seconds. Fractions of a second are rounded
 * `down` for an expiry and `up` for a start, so the grant never exceeds what was asked.
 *
 * @throws {SignerError} `ERR_DATE_INVALID`, `ERR_DATE_MILLISECONDS` or `ERR_DATE_OUT_OF_RANGE`
 */
export function resolveTime(input: TimeInput, now: Date, what: string, rounding: Rounding): number {
  const nowMs = nowMilliseconds(now);
  const round = rounding === 'down' ? Math.floor : Math.ceil;
  if (typeof input === 'number') return checkEpochSeconds(input, what, true);
  if (input instanceof Date) {
    const ms = input.getTime();
    if (!Number.isFinite(ms)) {
      throw new SignerError('ERR_DATE_INVALID', `${what} is an invalid Date`);
    }
    // Integer milliseconds: this division and rounding are exact.
    return checkEpochSeconds(round(ms / 1000), what, false);
  }
  if (typeof input !== 'string') {
    throw new SignerError('ERR_DATE_INVALID', `${what} must be a number, a string or a Date`);
  }
  if (/^\d+$/.test(input)) return checkEpochSeconds(Number(input), what, true);
  const duration = parseDuration(input);
  if (duration !== undefined) {
    return checkEpochSeconds(round(nowMs / 1000) + duration, what, false);
  }
  const iso = parseIso8601(input);
  if (iso !== undefined) {
    const roundUp = rounding === 'up' && iso.hasFraction;
    return checkEpochSeconds(iso.wholeSeconds + (roundUp ? 1 : 0), what, false);
  }
  throw new SignerError(
    'ERR_DATE_INVALID',
    `${what} ${quoteInput(input)} is not epoch seconds, an ISO-8601 date (2030-01-31T12:00:00Z) or a duration (90s, 15m, 1h, 7d)`,
  );
}

/** The validity window of a policy, in whole epoch seconds. */
export interface ValidityWindow {
  expiresAt: number;
  notBefore?: number;
}

/**
 * Resolves an expiry and an optional start against `now`, refusing a past expiry and a start
 * that is not before the expiry.
 *
 * @throws {SignerError} the codes of {@link resolveTime}, `ERR_DATE_IN_PAST`, `ERR_DATE_WINDOW_INVALID`
 */
export function resolveValidityWindow(
  expires: TimeInput,
  notBefore: TimeInput | undefined,
  now: Date,
): ValidityWindow {
  const nowSeconds = epochSeconds(now);
  const expiresAt = resolveTime(expires, now, 'expiry', 'down');
  if (expiresAt <= nowSeconds) {
    const hint =
      (typeof expires === 'number' || /^\d+$/.test(String(expires))) && Number(expires) < 1e9
        ? `; for a lifetime, pass a duration such as '${String(expires)}s'`
        : '';
    throw new SignerError(
      'ERR_DATE_IN_PAST',
      `expiry ${new Date(expiresAt * 1000).toISOString()} is not in the future (it is ${describeRelative(expiresAt - nowSeconds)})${hint}`,
      { details: { expiresAt, now: nowSeconds } },
    );
  }
  if (notBefore === undefined) return { expiresAt };
  const start = resolveTime(notBefore, now, 'start', 'up');
  if (start >= expiresAt) {
    throw new SignerError(
      'ERR_DATE_WINDOW_INVALID',
      `start (${new Date(start * 1000).toISOString()}) must be before expiry (${new Date(expiresAt * 1000).toISOString()})`,
      { details: { notBefore: start, expiresAt } },
    );
  }
  return { expiresAt, notBefore: start };
}

/** "in 4 min", "312 s ago": a short human description of `seconds` relative to now. */
export function describeRelative(deltaSeconds: number): string {
  const magnitude = Math.abs(deltaSeconds);
  const text =
    magnitude < 600
      ? `${magnitude} s`
      : magnitude < 7200
        ? `${Math.round(magnitude / 60)} min`
        : magnitude < 172_800
          ? `${Math.round(magnitude / 3600)} h`
          : `${Math.round(magnitude / 86_400)} d`;
  if (deltaSeconds === 0) return 'now';
  return deltaSeconds > 0 ? `in ${text}` : `${text} ago`;
}
