import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeCloudFrontBase64 } from '../../src/core/cloudfront-base64.ts';
import { signUrl } from '../../src/core/sign-url.ts';
import { verifyUrl, type VerifyOptions } from '../../src/core/verify.ts';
import { DISTRIBUTION, ECDSA, RSA, TRUSTED_KEYS } from '../helpers/fixtures.ts';

const NOW = new Date('2026-06-01T12:00:00Z');
const NOW_SECONDS = NOW.getTime() / 1000;
const URL_A = `${DISTRIBUTION}/videos/a.mp4`;
const URL_B = `${DISTRIBUTION}/videos/b.mp4`;
const options: VerifyOptions = { keys: TRUSTED_KEYS, now: NOW };

function canned(url = URL_A, ttl = 600): string {
  return signUrl({ ...RSA, url, expires: NOW_SECONDS + ttl, now: NOW }).url;
}

function at(seconds: number): Date {
  return new Date(seconds * 1000);
}

describe('verifyUrl', () => {
  it('accepts a fresh canned link and says until when', () => {
    const verdict = verifyUrl(canned(), options);
    assert.equal(verdict.valid, true);
    assert.equal(verdict.reason, 'valid until 2026-06-01T12:10:00Z (expires in 10 min)');
    assert.equal(verdict.policyType, 'canned');
    assert.equal(verdict.keyPairId, RSA.keyPairId);
    assert.equal(verdict.hash, 'sha1');
  });

  it('reports an expired link with how long ago it expired', () => {
    const verdict = verifyUrl(canned(URL_A, 600), { ...options, now: at(NOW_SECONDS + 912) });
    assert.equal(verdict.failure, 'EXPIRED');
    assert.equal(verdict.cloudFrontError, 'AccessDenied');
    assert.equal(verdict.reason, 'expired 312 s ago (at 2026-06-01T12:10:00Z)');
  });

  it('treats the expiry second itself as expired (DateLessThan)', () => {
    assert.equal(
      verifyUrl(canned(URL_A, 600), { ...options, now: at(NOW_SECONDS + 600) }).failure,
      'EXPIRED',
    );
    assert.equal(
      verifyUrl(canned(URL_A, 600), { ...options, now: at(NOW_SECONDS + 599) }).valid,
      true,
    );
  });

  it('reports a start in the future, and the start second itself as too early (DateGreaterThan)', () => {
    const link = signUrl({
      ...RSA,
      url: URL_A,
      expires: '1h',
      notBefore: NOW_SECONDS + 30,
      now: NOW,
    }).url;
    const early = verifyUrl(link, options);
    assert.equal(early.failure, 'NOT_YET_VALID');
    assert.equal(early.reason, 'not valid until after 2026-06-01T12:00:30Z (in 30 s)');
    assert.equal(
      verifyUrl(link, { ...options, now: at(NOW_SECONDS + 30) }).failure,
      'NOT_YET_VALID',
    );
    assert.equal(verifyUrl(link, { ...options, now: at(NOW_SECONDS + 31) }).valid, true);
  });

  it('names the resource and the URL when a custom policy does not cover the URL', () => {
    const link = signUrl({
      ...RSA,
      url: URL_A,
      resource: URL_A,
      ipAddress: '192.0.2.1',
      expires: '1h',
      now: NOW,
    }).url;
    const moved = link.replace(URL_A, URL_B);
    const verdict = verifyUrl(moved, { ...options, ipAddress: '192.0.2.1' });
    assert.equal(verdict.failure, 'RESOURCE_MISMATCH');
    assert.equal(verdict.reason, `resource '${URL_A}' does not match '${URL_B}'`);
  });

  it('reports a canned link moved to another URL as a bad signature', () => {
    const verdict = verifyUrl(canned().replace(URL_A, URL_B), options);
    assert.equal(verdict.failure, 'BAD_SIGNATURE');
  });

  it('accepts a wildcard policy on any URL it matches', () => {
    const link = signUrl({
      ...RSA,
      url: URL_A,
      resource: `${DISTRIBUTION}/videos/*`,
      expires: '1h',
      now: NOW,
    }).url;
    assert.equal(verifyUrl(link.replace(URL_A, URL_B), options).valid, true);
    assert.equal(
      verifyUrl(link.replace(URL_A, `${DISTRIBUTION}/audio/b.mp3`), options).failure,
      'RESOURCE_MISMATCH',
    );
  });

  it('checks the IP condition when a viewer address is given, and warns when it is not', () => {
    const link = signUrl({
      ...RSA,
      url: URL_A,
      ipAddress: '203.0.113.0/24',
      expires: '1h',
      now: NOW,
    }).url;
    assert.equal(verifyUrl(link, { ...options, ipAddress: '203.0.113.9' }).valid, true);
    assert.equal(verifyUrl(link, { ...options, ipAddress: '::ffff:203.0.113.9' }).valid, true);
    const outside = verifyUrl(link, { ...options, ipAddress: '198.51.100.1' });
    assert.equal(outside.failure, 'IP_MISMATCH');
    assert.equal(outside.reason, "viewer address '198.51.100.1' is outside 203.0.113.0/24");
    assert.equal(verifyUrl(link, { ...options, ipAddress: '2001:db8::1' }).failure, 'IP_MISMATCH');
    const unchecked = verifyUrl(link, options);
    assert.equal(unchecked.valid, true);
    assert.match(unchecked.warnings[0] ?? '', /not checked/);
  });

  it('explains a Signature in standard base64: "Signature contains \'+\'"', () => {
    const link = canned();
    const signature = /Signature=([^&]+)/.exec(link)?.[1] ?? '';
    const standard = signature.replace(/-/g, '+').replace(/~/g, '/').replace(/_/g, '=');
    const verdict = verifyUrl(link.replace(signature, `${standard.slice(0, -2)}+/==`), options);
    assert.equal(verdict.failure, 'MALFORMED_SIGNATURE');
    assert.equal(verdict.cloudFrontError, 'MalformedSignature');
    assert.match(verdict.reason, /^Signature contains '[+/=]': not CloudFront base64/);
  });

  it('explains a percent-encoded Signature', () => {
    const link = canned().replace(/Signature=([^&]{4})/, 'Signature=%2B$1');
    assert.match(verifyUrl(link, options).reason, /Signature contains '%': percent-encoded/);
  });

  it("names a missing Key-Pair-Id as CloudFront's MissingKey", () => {
    const verdict = verifyUrl(canned().replace(/&Key-Pair-Id=[^&]+/, ''), options);
    assert.equal(verdict.failure, 'MISSING_PARAMETER');
    assert.equal(verdict.cloudFrontError, 'MissingKey');
    assert.equal(verdict.reason, 'Key-Pair-Id is missing');
  });

  it('names an unknown Key-Pair-Id as InvalidKey', () => {
    const verdict = verifyUrl(canned().replace(RSA.keyPairId, 'KUNKNOWN'), options);
    assert.equal(verdict.failure, 'UNKNOWN_KEY');
    assert.equal(verdict.cloudFrontError, 'InvalidKey');
    assert.match(verdict.reason, /'KUNKNOWN' is not one of the trusted public keys/);
  });

  it('refuses duplicated CloudFront parameters', () => {
    const verdict = verifyUrl(`${canned()}&Expires=${NOW_SECONDS + 9999}`, options);
    assert.equal(verdict.failure, 'DUPLICATE_PARAMETER');
  });

  it('refuses a link carrying both Expires and Policy', () => {
    const link = signUrl({
      ...RSA,
      url: URL_A,
      resource: `${DISTRIBUTION}/*`,
      expires: '1h',
      now: NOW,
    }).url;
    assert.equal(
      verifyUrl(`${link}&Expires=${NOW_SECONDS + 60}`, options).failure,
      'MALFORMED_POLICY',
    );
  });

  it('refuses a tampered policy that no longer decodes, and a policy the key did not sign', () => {
    const link = signUrl({
      ...RSA,
      url: URL_A,
      resource: `${DISTRIBUTION}/videos/*`,
      expires: '1h',
      now: NOW,
    }).url;
    assert.equal(
      verifyUrl(link.replace('Policy=', 'Policy=A'), options).failure,
      'MALFORMED_POLICY',
    );
    const widened = encodeCloudFrontBase64(
      `{"Statement":[{"Resource":"${DISTRIBUTION}/*","Condition":{"DateLessThan":{"AWS:EpochTime":${NOW_SECONDS + 3600}}}}]}`,
    );
    const forged = link.replace(/Policy=[^&]+/, `Policy=${widened}`);
    assert.equal(verifyUrl(forged, options).failure, 'BAD_SIGNATURE');
  });

  it('tells when the hash parameter disagrees with the signature', () => {
    const sha256 = signUrl({ ...RSA, url: URL_A, hash: 'sha256', expires: '1h', now: NOW }).url;
    const verdict = verifyUrl(sha256.replace('&Hash-Algorithm=SHA256', ''), options);
    assert.equal(verdict.failure, 'BAD_SIGNATURE');
    assert.match(verdict.reason, /made with SHA256 .* add Hash-Algorithm=SHA256/);
    assert.equal(verifyUrl(sha256.replace('SHA256', 'MD5'), options).failure, 'UNSUPPORTED_HASH');
  });

  it('verifies ECDSA links and refuses one with a flipped signature byte', () => {
    const link = signUrl({ ...ECDSA, url: URL_A, expires: '1h', now: NOW }).url;
    assert.equal(verifyUrl(link, options).valid, true);
    const flipped = link.replace(
      /Signature=(.)/,
      (_, c: string) => `Signature=${c === 'M' ? 'N' : 'M'}`,
    );
    assert.equal(verifyUrl(flipped, options).valid, false);
  });

  it('refuses URLs with raw spaces or non-ASCII, which a browser would have encoded', () => {
    assert.equal(
      verifyUrl(canned().replace('/videos/', '/vid eos/'), options).failure,
      'MALFORMED_URL',
    );
    assert.equal(
      verifyUrl(canned().replace('/videos/', '/vidéos/'), options).failure,
      'MALFORMED_URL',
    );
  });

  it('reports a URL without any signing parameter as missing its Key-Pair-Id', () => {
    assert.equal(verifyUrl(URL_A, options).cloudFrontError, 'MissingKey');
  });
});

describe('verifyUrl judges what a browser sends', () => {
  it('judges an uppercase host or a default port as the browser would send it, with a warning', () => {
    const link = canned();
    for (const variant of [
      link.replace('https://d111111abcdef8', 'https://D111111ABCDEF8'),
      link.replace('.net/', '.net:443/'),
    ]) {
      const verdict = verifyUrl(variant, options);
      assert.equal(verdict.valid, true, verdict.reason);
      assert.match(verdict.warnings.join(' '), /a browser sends this link in another form/);
    }
  });

  it('refuses a link longer than CloudFront accepts', () => {
    const verdict = verifyUrl(`${canned()}&pad=${'x'.repeat(8192)}`, options);
    assert.equal(verdict.failure, 'MALFORMED_URL');
    assert.match(verdict.reason, /over 8192 bytes/);
  });

  it('refuses something that is not an http(s) URL', () => {
    assert.equal(verifyUrl('ftp://x/a?Expires=1', options).failure, 'MALFORMED_URL');
    assert.equal(verifyUrl('not a url', options).failure, 'MALFORMED_URL');
  });
});
