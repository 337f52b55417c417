import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';

import {
  MAX_EPOCH_SECONDS,
  alignExpiry,
  describeRelative,
  epochSeconds,
  parseDuration,
  resolveTime,
  resolveValidityWindow,
  type TimeInput,
} from '../../src/core/time.ts';
import { signerError } from '../helpers/errors.ts';

const NOW = new Date('2026-01-01T00:00:00Z');
/** 2026-01-01T00:00:00Z: 56 years since 1970 with 14 leap days, 20,454 days × 86,400 s. */
const NOW_SECONDS = 1_767_225_600;

function expiry(input: TimeInput, now: Date = NOW): number {
  return resolveTime(input, now, 'expiry', 'down');
}

function start(input: TimeInput, now: Date = NOW): number {
  return resolveTime(input, now, 'start', 'up');
}

describe('parseDuration', () => {
  for (const [text, seconds] of [
    ['90s', 90],
    ['15m', 900],
    ['1h', 3_600],
    ['7d', 604_800],
    ['1h30m', 5_400],
    ['1d2h3m4s', 93_784],
    ['2d12h', 216_000],
    ['0s', 0],
    ['120m', 7_200],
  ] as const) {
    it(`reads ${text} as ${seconds} seconds`, () => {
      assert.equal(parseDuration(text), seconds);
    });
  }

  for (const text of [
    '',
    '1',
    '1h30',
    '30m1h',
    '1.5h',
    '-5m',
    '+5m',
    '1H',
    ' 1h',
    '1h ',
    '1w',
    '1h 30m',
    'h',
    'ms',
    '1ms',
    '1y',
  ]) {
    it(`does not read ${JSON.stringify(text)} as a duration`, () => {
      assert.equal(parseDuration(text), undefined);
    });
  }

  it('adds up days, hours, minutes and seconds in any combination', () => {
    const part = fc.option(fc.nat({ max: 10_000 }), { nil: undefined });
    fc.assert(
      fc.property(part, part, part, part, (d, h, m, s) => {
        fc.pre(d !== undefined || h !== undefined || m !== undefined || s !== undefined);
        const text = `${d === undefined ? '' : `${d}d`}${h === undefined ? '' : `${h}h`}${m === undefined ? '' : `${m}m`}${s === undefined ? '' : `${s}s`}`;
        assert.equal(
          parseDuration(text),
          (d ?? 0) * 86_400 + (h ?? 0) * 3_600 + (m ?? 0) * 60 + (s ?? 0),
        );
      }),
      { numRuns: 300 },
    );
  });
});

describe('resolveTime', () => {
  it('reads epoch seconds given as a number or a digit string', () => {
    assert.equal(expiry(1_767_229_200), 1_767_229_200);
    assert.equal(expiry('1767229200'), 1_767_229_200);
    assert.equal(expiry(0), 0);
    assert.equal(expiry('0'), 0);
  });

  it('reads an ISO date without a time as midnight UTC', () => {
    assert.equal(expiry('2026-01-02'), NOW_SECONDS + 86_400);
    assert.equal(start('2026-01-02'), NOW_SECONDS + 86_400);
    assert.equal(expiry('2024-02-29'), 1_709_164_800);
    assert.equal(expiry('2000-02-29'), 951_782_400);
  });

  it('reads ISO date-times with Z, without an offset (UTC), and with offsets', () => {
    assert.equal(expiry('2026-01-02T00:00:00Z'), NOW_SECONDS + 86_400);
    assert.equal(expiry('2026-01-01T12:00:00'), NOW_SECONDS + 43_200);
    assert.equal(expiry('2026-01-01T12:00'), NOW_SECONDS + 43_200);
    assert.equal(expiry('2026-01-01T12:00Z'), NOW_SECONDS + 43_200);
    // 01:00 at +02:00 is 23:00 UTC the day before.
    assert.equal(expiry('2026-01-01T01:00:00+02:00'), NOW_SECONDS - 3_600);
    assert.equal(expiry('2026-01-01T01:00:00+0200'), NOW_SECONDS - 3_600);
    // 00:00 at -05:30 is 05:30 UTC.
    assert.equal(expiry('2026-01-01T00:00:00-0530'), NOW_SECONDS + 19_800);
    assert.equal(expiry('2026-01-01T00:00:00-05:30'), NOW_SECONDS + 19_800);
    assert.equal(expiry('2026-01-01T00:00:00+00:00'), NOW_SECONDS);
    assert.equal(expiry('2026-01-01T00:00:00-00:00'), NOW_SECONDS);
  });

  it('rounds a fraction of a second down for an expiry and up for a start', () => {
    assert.equal(expiry('2026-01-01T00:00:00.999Z'), NOW_SECONDS);
    assert.equal(start('2026-01-01T00:00:00.001Z'), NOW_SECONDS + 1);
    assert.equal(expiry('2026-01-01T00:00:10.5Z'), NOW_SECONDS + 10);
    assert.equal(start('2026-01-01T00:00:10.5Z'), NOW_SECONDS + 11);
    assert.equal(expiry('2026-01-01T00:00:10.99999Z'), NOW_SECONDS + 10);
    assert.equal(start('2026-01-01T00:00:10.0Z'), NOW_SECONDS + 10);
    assert.equal(start('2026-01-01T00:00:10.000Z'), NOW_SECONDS + 10);
  });

  it('rounds an expiry down even when the fraction is nanoseconds short of the next second', () => {
    assert.equal(expiry('2026-01-01T00:00:10.9999999Z'), NOW_SECONDS + 10);
    assert.equal(expiry('2026-01-01T00:00:10.999999999Z'), NOW_SECONDS + 10);
  });

  it('rounds a start up even when the fraction is only nanoseconds', () => {
    assert.equal(start('2026-01-01T00:00:00.000000001Z'), NOW_SECONDS + 1);
    assert.equal(start('2026-01-01T00:00:00.0000001Z'), NOW_SECONDS + 1);
  });

  it('reads a Date, rounding its milliseconds like a fraction', () => {
    const half = new Date('2026-01-01T00:00:00.500Z');
    assert.equal(expiry(half), NOW_SECONDS);
    assert.equal(start(half), NOW_SECONDS + 1);
    assert.equal(expiry(new Date('2026-01-02T00:00:00Z')), NOW_SECONDS + 86_400);
    assert.equal(start(new Date('2026-01-02T00:00:00Z')), NOW_SECONDS + 86_400);
  });

  it('reads a duration from now, counting from the whole second of now', () => {
    assert.equal(expiry('90s'), NOW_SECONDS + 90);
    assert.equal(expiry('15m'), NOW_SECONDS + 900);
    assert.equal(expiry('1h'), NOW_SECONDS + 3_600);
    assert.equal(expiry('7d'), NOW_SECONDS + 604_800);
    assert.equal(expiry('1h30m'), NOW_SECONDS + 5_400);
    assert.equal(expiry('90s', new Date('2026-01-01T00:00:00.900Z')), NOW_SECONDS + 90);
  });

  it('agrees with Date.parse on ISO date-times, with and without offsets', () => {
    const instant = fc.integer({ min: 0, max: MAX_EPOCH_SECONDS * 1000 - 1 });
    const offset = fc.record({
      sign: fc.constantFrom('+', '-'),
      hours: fc.integer({ min: 0, max: 14 }),
      minutes: fc.constantFrom(0, 15, 30, 45),
    });
    fc.assert(
      fc.property(instant, offset, (ms, { sign, hours, minutes }) => {
        const shiftMs = (sign === '+' ? 1 : -1) * (hours * 60 + minutes) * 60_000;
        // Local wall-clock time at that offset, written out with the offset.
        const wall = new Date(ms + shiftMs).toISOString().slice(0, -1);
        const text = `${wall}${sign}${String(hours).padStart(2, '0')}:${String(minutes).padStart(2, '0')}`;
        const reference = Date.parse(text);
        assert.equal(reference, ms);
        const inRange = (s: number): boolean => s >= 0 && s <= MAX_EPOCH_SECONDS;
        if (inRange(Math.floor(reference / 1000))) {
          assert.equal(expiry(text), Math.floor(reference / 1000));
        }
        if (inRange(Math.ceil(reference / 1000))) {
          assert.equal(start(text), Math.ceil(reference / 1000));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('reads any in-range epoch second the same as a number and as a digit string', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_EPOCH_SECONDS }), (seconds) => {
        assert.equal(expiry(seconds), seconds);
        assert.equal(start(String(seconds)), seconds);
      }),
      { numRuns: 300 },
    );
  });

  it('accepts exactly 2147483647 (2038-01-19T03:14:07Z) and nothing later', () => {
    assert.equal(MAX_EPOCH_SECONDS, 2_147_483_647);
    assert.equal(expiry(2_147_483_647), 2_147_483_647);
    assert.equal(expiry('2147483647'), 2_147_483_647);
    assert.equal(expiry('2038-01-19T03:14:07Z'), 2_147_483_647);
    assert.equal(expiry('2038-01-19T03:14:07.999Z'), 2_147_483_647);
  });

  for (const [label, input, rounding] of [
    ['2147483648', 2_147_483_648, 'down'],
    ["'2147483648'", '2147483648', 'down'],
    ['2038-01-19T03:14:08Z', '2038-01-19T03:14:08Z', 'down'],
    ['a start of 2038-01-19T03:14:07.5Z (rounded up)', '2038-01-19T03:14:07.5Z', 'up'],
    ['2038-01-20', '2038-01-20', 'down'],
    ['9999-12-31T23:59:59Z', '9999-12-31T23:59:59Z', 'down'],
    ['a Date in 2100', new Date('2100-01-01T00:00:00Z'), 'down'],
    ['the duration 40000d', '40000d', 'down'],
  ] as const) {
    it(`rejects ${label} with ERR_DATE_OUT_OF_RANGE`, () => {
      assert.throws(
        () => resolveTime(input, NOW, 'expiry', rounding),
        signerError('ERR_DATE_OUT_OF_RANGE', 'after 2038-01-19T03:14:07Z'),
      );
    });
  }

  for (const [label, input] of [
    ['-5', -5],
    ['1969-12-31T23:59:59Z', '1969-12-31T23:59:59Z'],
    ['a Date in 1960', new Date('1960-01-01T00:00:00Z')],
  ] as const) {
    it(`rejects ${label}, before 1970, with ERR_DATE_OUT_OF_RANGE`, () => {
      assert.throws(() => start(input), signerError('ERR_DATE_OUT_OF_RANGE', 'before 1970'));
    });
  }

  it('rejects the ISO year 0099, before 1970, with ERR_DATE_OUT_OF_RANGE (not as 1999)', () => {
    assert.throws(() => start('0099-12-31'), signerError('ERR_DATE_OUT_OF_RANGE', 'before 1970'));
    assert.throws(
      () => start('0050-06-01T00:00:00Z'),
      signerError('ERR_DATE_OUT_OF_RANGE', 'before 1970'),
    );
  });

  for (const [label, input] of [
    ['epoch milliseconds as a number', 1_767_225_600_000],
    ['epoch milliseconds as a digit string', '1767225600000'],
    ['exactly 1e12', 1e12],
  ] as const) {
    it(`rejects ${label} with ERR_DATE_MILLISECONDS`, () => {
      assert.throws(
        () => expiry(input),
        signerError('ERR_DATE_MILLISECONDS', /looks like epoch milliseconds.*divide by 1000/),
      );
    });
  }

  it('rejects 999999999999 as out of range, not as milliseconds', () => {
    assert.throws(() => expiry(999_999_999_999), signerError('ERR_DATE_OUT_OF_RANGE', '2038'));
  });

  for (const text of ['12000000d', '99999999999999999999s']) {
    it(`rejects the overlong duration ${text} with ERR_DATE_OUT_OF_RANGE, not as milliseconds or malformed`, () => {
      assert.throws(() => expiry(text), signerError('ERR_DATE_OUT_OF_RANGE', 'after 2038'));
    });
  }

  it('rejects the latest possible Date with ERR_DATE_OUT_OF_RANGE, not as milliseconds', () => {
    assert.throws(
      () => expiry(new Date(8.64e15)),
      signerError('ERR_DATE_OUT_OF_RANGE', 'after 2038'),
    );
  });

  for (const text of [
    '2026-02-30',
    '2025-02-29',
    '2100-02-29',
    '2026-04-31',
    '2026-13-01',
    '2026-00-10',
    '2026-01-00',
    '2026-01-32',
    '2026-1-1',
    '26-01-01',
    '2026-01-01T24:00:00Z',
    '2026-01-01T23:60Z',
    '2026-01-01T00:00:60Z',
    '2026-01-01T00Z',
    '2026-01-01T00:00:00+24:00',
    '2026-01-01T00:00:00+02:60',
    '2026-01-01T00:00:00+2',
    '2026-01-01T00:00:00.Z',
    '2026-01-01T00:00:00.1234567890Z',
    '2026-01-01 00:00:00Z',
    '2026-01-01t00:00:00z',
    '2026-01-01Z',
    'tomorrow',
    'now',
    '1e9',
    '-5',
    '+5',
    '60.5',
    '0x10',
    '',
    ' 1h',
    '1h ',
    '1,767,225,600',
    'NaN',
    'Infinity',
    '１２３',
  ]) {
    it(`rejects ${JSON.stringify(text)} with ERR_DATE_INVALID`, () => {
      assert.throws(
        () => expiry(text),
        signerError('ERR_DATE_INVALID', /is not epoch seconds, an ISO-8601 date .* or a duration/),
      );
    });
  }

  for (const [label, value] of [
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
    ['60.5', 60.5],
    ['a fractional epoch 1767225600.5', 1_767_225_600.5],
    ['2^53', 2 ** 53],
  ] as const) {
    it(`rejects the number ${label} with ERR_DATE_INVALID`, () => {
      assert.throws(() => expiry(value), signerError('ERR_DATE_INVALID', 'whole epoch seconds'));
    });
  }

  it('rejects an invalid Date with ERR_DATE_INVALID', () => {
    assert.throws(
      () => expiry(new Date('nonsense')),
      signerError('ERR_DATE_INVALID', 'expiry is an invalid Date'),
    );
  });

  it('rejects a value that is not a number, string or Date with ERR_DATE_INVALID', () => {
    const values: unknown[] = [null, undefined, true, {}, [1]];
    for (const value of values) {
      assert.throws(
        () => expiry(value as TimeInput),
        signerError('ERR_DATE_INVALID', 'must be a number, a string or a Date'),
      );
    }
  });

  it('rejects an invalid now with ERR_DATE_INVALID', () => {
    assert.throws(
      () => expiry('1h', new Date(Number.NaN)),
      signerError('ERR_DATE_INVALID', '`now` is an invalid Date'),
    );
    assert.throws(() => epochSeconds(new Date('x')), signerError('ERR_DATE_INVALID', '`now`'));
  });

  it('names the input in its message', () => {
    assert.throws(
      () => resolveTime('soon', NOW, 'start', 'up'),
      signerError('ERR_DATE_INVALID', "start 'soon'"),
    );
  });
});

describe('epochSeconds', () => {
  it('rounds now down to whole seconds', () => {
    assert.equal(epochSeconds(NOW), NOW_SECONDS);
    assert.equal(epochSeconds(new Date('2026-01-01T00:00:00.999Z')), NOW_SECONDS);
    assert.equal(epochSeconds(new Date('1969-12-31T23:59:59.500Z')), -1);
  });
});

describe('resolveValidityWindow', () => {
  it('returns only an expiry when no start is given', () => {
    assert.deepEqual(resolveValidityWindow('1h', undefined, NOW), {
      expiresAt: NOW_SECONDS + 3_600,
    });
  });

  it('returns the expiry and the start', () => {
    assert.deepEqual(resolveValidityWindow('1h', '30m', NOW), {
      expiresAt: NOW_SECONDS + 3_600,
      notBefore: NOW_SECONDS + 1_800,
    });
    assert.deepEqual(resolveValidityWindow('2026-01-02', '2026-01-01T12:00:00+02:00', NOW), {
      expiresAt: NOW_SECONDS + 86_400,
      notBefore: NOW_SECONDS + 36_000,
    });
  });

  it('allows a start in the past', () => {
    assert.deepEqual(resolveValidityWindow('1h', 1_000_000_000, NOW), {
      expiresAt: NOW_SECONDS + 3_600,
      notBefore: 1_000_000_000,
    });
  });

  it('accepts an expiry one second after now', () => {
    assert.deepEqual(resolveValidityWindow(NOW_SECONDS + 1, undefined, NOW), {
      expiresAt: NOW_SECONDS + 1,
    });
    assert.deepEqual(resolveValidityWindow('1s', undefined, NOW), { expiresAt: NOW_SECONDS + 1 });
  });

  for (const [label, input] of [
    ['now itself', NOW_SECONDS],
    ['now as a Date', NOW],
    ['a zero duration', '0s'],
    ['now plus a fraction (rounded down)', '2026-01-01T00:00:00.999Z'],
    ['yesterday', '2025-12-31'],
    ['epoch zero', 0],
  ] as const) {
    it(`rejects an expiry of ${label} with ERR_DATE_IN_PAST`, () => {
      assert.throws(
        () => resolveValidityWindow(input, undefined, NOW),
        signerError('ERR_DATE_IN_PAST', 'is not in the future'),
      );
    });
  }

  it('suggests a duration when a small number looks like a lifetime', () => {
    assert.throws(
      () => resolveValidityWindow(3_600, undefined, NOW),
      signerError('ERR_DATE_IN_PAST', "pass a duration such as '3600s'"),
    );
  });

  it('suggests a duration for a small number given as text, as the CLI and env give it', () => {
    assert.throws(
      () => resolveValidityWindow('3600', undefined, NOW),
      signerError('ERR_DATE_IN_PAST', "pass a duration such as '3600s'"),
    );
  });

  it('refuses a missing or invalid now with ERR_DATE_INVALID, not a TypeError', () => {
    for (const now of [undefined, null, 1_700_000_000, new Date(Number.NaN)]) {
      assert.throws(
        () => resolveValidityWindow('1h', undefined, now as unknown as Date),
        signerError('ERR_DATE_INVALID', '`now`'),
      );
    }
  });

  it('says how long ago a past expiry was', () => {
    assert.throws(
      () => resolveValidityWindow(NOW_SECONDS - 3 * 3_600, undefined, NOW),
      signerError('ERR_DATE_IN_PAST', '(it is 3 h ago)'),
    );
  });

  for (const [label, expires, notBefore] of [
    ['a start equal to the expiry', '1h', '1h'],
    ['a start after the expiry', '1h', '2h'],
    ['a start date after the expiry', '2026-01-02', '2026-01-03'],
    ['a start that rounds up onto the expiry', '2026-01-01T00:00:10.5Z', '2026-01-01T00:00:09.5Z'],
  ] as const) {
    it(`rejects ${label} with ERR_DATE_WINDOW_INVALID`, () => {
      assert.throws(
        () => resolveValidityWindow(expires, notBefore, NOW),
        signerError('ERR_DATE_WINDOW_INVALID', 'must be before expiry'),
      );
    });
  }

  it('checks the expiry before the start', () => {
    assert.throws(
      () => resolveValidityWindow('0s', 'nonsense', NOW),
      signerError('ERR_DATE_IN_PAST', 'not in the future'),
    );
    assert.throws(
      () => resolveValidityWindow('1h', 'nonsense', NOW),
      signerError('ERR_DATE_INVALID', "start 'nonsense'"),
    );
  });

  it('always returns a start before the expiry and an expiry after now', () => {
    const seconds = fc.integer({ min: 0, max: MAX_EPOCH_SECONDS });
    fc.assert(
      fc.property(seconds, fc.option(seconds, { nil: undefined }), (expires, notBefore) => {
        try {
          const window = resolveValidityWindow(expires, notBefore, NOW);
          assert.equal(window.expiresAt, expires);
          assert.ok(window.expiresAt > NOW_SECONDS);
          if (notBefore !== undefined) {
            assert.equal(window.notBefore, notBefore);
            assert.ok(notBefore < expires);
          }
        } catch (error) {
          if (expires <= NOW_SECONDS) {
            assert.ok(signerError('ERR_DATE_IN_PAST', 'not in the future')(error));
          } else {
            assert.ok(notBefore !== undefined && notBefore >= expires);
            assert.ok(signerError('ERR_DATE_WINDOW_INVALID', 'must be before')(error));
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('describeRelative', () => {
  for (const [delta, text] of [
    [0, 'now'],
    [5, 'in 5 s'],
    [-5, '5 s ago'],
    [10_800, 'in 3 h'],
    [-14_400, '4 h ago'],
    [172_800, 'in 2 d'],
    [-864_000, '10 d ago'],
  ] as const) {
    it(`describes ${delta} s as '${text}'`, () => {
      assert.equal(describeRelative(delta), text);
    });
  }
});

describe('durations from a fractional now', () => {
  const fractionalNow = new Date('2026-01-01T00:00:00.700Z');

  it('rounds an expiry duration down and a start duration up, so the window never grows', () => {
    assert.equal(expiry('1m', fractionalNow), NOW_SECONDS + 60);
    assert.equal(start('1m', fractionalNow), NOW_SECONDS + 61);
  });
});

describe('alignExpiry (stable links)', () => {
  it('rounds now + ttl up to the next multiple of the window', () => {
    assert.equal(alignExpiry(1_000, 600, 300, 86_400), 1_800);
    assert.equal(alignExpiry(1_200, 600, 300, 86_400), 1_800);
    assert.equal(alignExpiry(1_201, 600, 300, 86_400), 2_100);
  });

  it('keeps the exact expiry without a window, or where the edge would pass the cap', () => {
    assert.equal(alignExpiry(1_000, 600, undefined, 86_400), 1_600);
    assert.equal(alignExpiry(1_000, 600, 1, 86_400), 1_600);
    assert.equal(alignExpiry(1_000, 600, 300, 700), 1_600);
    assert.equal(alignExpiry(1_000, 600, 300, 800), 1_800);
  });

  it('never gives less than asked nor more than the cap, and one expiry per window', () => {
    const input = fc
      .record({
        now: fc.integer({ min: 1_600_000_000, max: 2_000_000_000 }),
        ttl: fc.integer({ min: 1, max: 86_400 }),
        window: fc.integer({ min: 1, max: 86_400 }),
        slack: fc.integer({ min: 0, max: 86_400 }),
        later: fc.integer({ min: 0, max: 86_400 }),
      })
      .map((value) => ({ ...value, cap: value.ttl + value.slack }));
    fc.assert(
      fc.property(input, ({ now, ttl, window, cap, later }) => {
        const expiry = alignExpiry(now, ttl, window, cap);
        assert.ok(expiry >= now + ttl, 'shorter than asked');
        assert.ok(expiry <= now + cap, 'past the cap');
        if (expiry !== now + ttl) assert.equal(expiry % window, 0);
        // With room for a whole window under the cap, every request gets an edge, and all
        // requests whose exact expiries fall in one window get the same one.
        if (cap >= ttl + window - 1) {
          assert.equal(expiry % window, 0);
          const again = alignExpiry(now + later, ttl, window, cap);
          const sameWindow =
            Math.ceil((now + later + ttl) / window) === Math.ceil((now + ttl) / window);
          assert.equal(again === expiry, sameWindow);
        }
      }),
    );
  });
});
