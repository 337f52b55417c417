import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignerError } from '../../src/errors.ts';
import { decodeCloudFrontBase64 } from '../../src/core/cloudfront-base64.ts';
import {
  formatSetCookieHeaders,
  signCookies,
  signCookiesAsync,
} from '../../src/core/sign-cookies.ts';
import { verifyCookies } from '../../src/core/verify.ts';
import { DISTRIBUTION, ECDSA, RSA, TRUSTED_KEYS } from '../helpers/fixtures.ts';

const NOW = new Date('2026-06-01T12:00:00Z');
const NOW_SECONDS = NOW.getTime() / 1000;
const PATTERN = `${DISTRIBUTION}/videos/*`;

describe('signCookies', () => {
  it('makes custom-policy cookies for a pattern, in CloudFront order', () => {
    const signed = signCookies({ ...RSA, resource: PATTERN, expires: '10m', now: NOW });
    assert.equal(signed.policyType, 'custom');
    assert.deepEqual(Object.keys(signed.cookies), [
      'CloudFront-Policy',
      'CloudFront-Signature',
      'CloudFront-Key-Pair-Id',
    ]);
    const policy = decodeCloudFrontBase64(signed.cookies['CloudFront-Policy'] ?? '')?.toString(
      'utf8',
    );
    assert.equal(
      policy,
      `{"Statement":[{"Resource":"${PATTERN}","Condition":{"DateLessThan":{"AWS:EpochTime":${NOW_SECONDS + 600}}}}]}`,
    );
    assert.equal(signed.expiresAt, NOW_SECONDS + 600);
  });

  it('makes canned cookies for one exact URL', () => {
    const signed = signCookies({ ...RSA, url: `${DISTRIBUTION}/a.mp4`, expires: '10m', now: NOW });
    assert.equal(signed.policyType, 'canned');
    assert.deepEqual(Object.keys(signed.cookies), [
      'CloudFront-Expires',
      'CloudFront-Signature',
      'CloudFront-Key-Pair-Id',
    ]);
    assert.equal(signed.cookies['CloudFront-Expires'], String(NOW_SECONDS + 600));
  });

  it('adds CloudFront-Hash-Algorithm=SHA256 for SHA-256 and ECDSA', () => {
    const signed = signCookies({ ...ECDSA, resource: PATTERN, expires: '10m', now: NOW });
    assert.equal(signed.cookies['CloudFront-Hash-Algorithm'], 'SHA256');
    const rsa = signCookies({
      ...RSA,
      resource: PATTERN,
      expires: '10m',
      now: NOW,
      hash: 'sha256',
    });
    assert.equal(rsa.cookies['CloudFront-Hash-Algorithm'], 'SHA256');
  });

  it('produces cookies that verify for URLs under the pattern only', async () => {
    const signed = await signCookiesAsync({
      ...ECDSA,
      resource: PATTERN,
      expires: '10m',
      now: NOW,
    });
    const inside = verifyCookies(`${DISTRIBUTION}/videos/x/y.mp4`, signed.cookies, {
      keys: TRUSTED_KEYS,
      now: NOW,
    });
    assert.equal(inside.valid, true, inside.reason);
    const outside = verifyCookies(`${DISTRIBUTION}/audio/y.mp3`, signed.cookies, {
      keys: TRUSTED_KEYS,
      now: NOW,
    });
    assert.equal(outside.failure, 'RESOURCE_MISMATCH');
  });

  it('verifies cookies given as a Cookie header, and refuses a duplicated CloudFront cookie', () => {
    const signed = signCookies({ ...RSA, resource: PATTERN, expires: '10m', now: NOW });
    const header = Object.entries(signed.cookies)
      .map(([name, value]) => `${name}=${value}`)
      .join('; ');
    const url = `${DISTRIBUTION}/videos/a.mp4`;
    assert.equal(
      verifyCookies(url, `theme=dark; ${header}`, { keys: TRUSTED_KEYS, now: NOW }).valid,
      true,
    );
    assert.equal(
      verifyCookies(url, `${header}; CloudFront-Signature=AAAA`, { keys: TRUSTED_KEYS, now: NOW })
        .failure,
      'DUPLICATE_PARAMETER',
    );
    const missing = verifyCookies(url, 'theme=dark', { keys: TRUSTED_KEYS, now: NOW });
    assert.equal(missing.reason, 'CloudFront-Key-Pair-Id is missing');
  });

  it('refuses to sign without a URL or a pattern', () => {
    assert.throws(
      () => signCookies({ ...RSA, expires: '10m', now: NOW }),
      (error) => error instanceof SignerError && error.code === 'ERR_USAGE',
    );
  });
});

describe('formatSetCookieHeaders', () => {
  const cookies = {
    'CloudFront-Policy': 'cA__',
    'CloudFront-Signature': 'c2ln',
    'CloudFront-Key-Pair-Id': 'K1',
  };

  it('writes one Secure, HttpOnly header per cookie with Path=/ by default', () => {
    assert.deepEqual(formatSetCookieHeaders(cookies), [
      'CloudFront-Policy=cA__; Path=/; Secure; HttpOnly',
      'CloudFront-Signature=c2ln; Path=/; Secure; HttpOnly',
      'CloudFront-Key-Pair-Id=K1; Path=/; Secure; HttpOnly',
    ]);
  });

  it('adds Domain, Path and SameSite as asked', () => {
    const [first] = formatSetCookieHeaders(cookies, {
      domain: 'media.example.com',
      path: '/videos',
      sameSite: 'Lax',
    });
    assert.equal(
      first,
      'CloudFront-Policy=cA__; Domain=media.example.com; Path=/videos; Secure; HttpOnly; SameSite=Lax',
    );
  });

  it('refuses attribute injection and impossible options with ERR_COOKIE_OPTION_INVALID', () => {
    const bad = [
      { domain: 'example.com; Secure' },
      { domain: 'd111111abcdef8.cloudfront.net' },
      { path: 'videos' },
      { path: '/a;b' },
      { path: '/a b' },
      { sameSite: 'None' as const, secure: false },
      { sameSite: 'Loose' as 'Lax' },
    ];
    for (const options of bad) {
      assert.throws(
        () => formatSetCookieHeaders(cookies, options),
        (error) => error instanceof SignerError && error.code === 'ERR_COOKIE_OPTION_INVALID',
        JSON.stringify(options),
      );
    }
  });
});

describe('signCookies limits', () => {
  it('refuses a cookie larger than browsers keep with ERR_COOKIE_TOO_LARGE', () => {
    const resource = `${DISTRIBUTION}/${'a'.repeat(3500)}/*`;
    assert.throws(
      () => signCookies({ ...RSA, resource, expires: '10m', now: NOW }),
      (error) =>
        error instanceof SignerError &&
        error.code === 'ERR_COOKIE_TOO_LARGE' &&
        /CloudFront-Policy cookie would be \d+ bytes/.test(error.message),
    );
  });
});

describe('verifyCookies precedence', () => {
  it('judges the URL, not the cookies, when the URL carries any CloudFront parameter', () => {
    const signed = signCookies({ ...RSA, resource: PATTERN, expires: '10m', now: NOW });
    for (const query of [
      'Expires=1',
      'Policy=x',
      'Hash-Algorithm=SHA256',
      `Signature=x&Key-Pair-Id=${RSA.keyPairId}`,
    ]) {
      const verdict = verifyCookies(`${DISTRIBUTION}/videos/a.mp4?${query}`, signed.cookies, {
        keys: TRUSTED_KEYS,
        now: NOW,
      });
      assert.equal(verdict.valid, false, query);
      assert.match(verdict.warnings.join(' '), /judged the URL and ignored the cookies/);
    }
  });

  it('ignores cookie values that are not strings instead of throwing', () => {
    const verdict = verifyCookies(
      `${DISTRIBUTION}/videos/a.mp4`,
      { 'CloudFront-Key-Pair-Id': 7 } as unknown as Record<string, string>,
      { keys: TRUSTED_KEYS, now: NOW },
    );
    assert.equal(verdict.failure, 'MISSING_PARAMETER');
  });
});
