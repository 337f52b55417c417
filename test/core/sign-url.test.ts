import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getSignedUrl } from '@aws-sdk/cloudfront-signer';
import fc from 'fast-check';
import { SignerError } from '../../src/errors.ts';
import { decodeCloudFrontBase64 } from '../../src/core/cloudfront-base64.ts';
import { buildCustomPolicy } from '../../src/core/policy.ts';
import { signPolicy } from '../../src/core/signature.ts';
import {
  completeSignedUrl,
  planSignedUrl,
  signedUrlLength,
  signUrl,
  signUrlAsync,
  type SignUrlInput,
} from '../../src/core/sign-url.ts';
import { buildObjectUrl } from '../../src/core/signable-url.ts';
import { verifyUrl } from '../../src/core/verify.ts';
import {
  DISTRIBUTION,
  ECDSA,
  fixturePem,
  fixturePrivateKey,
  OTHER_RSA,
  RSA,
  TRUSTED_KEYS,
} from '../helpers/fixtures.ts';
import { GOLDEN_VECTORS, type GoldenVector } from '../helpers/vectors.ts';
import { objectKeyArbitrary } from '../helpers/arbitraries.ts';

const NOW = new Date('2025-12-01T00:00:00Z');
const NOW_SECONDS = NOW.getTime() / 1000;

function queryParameter(url: string, name: string): string | undefined {
  const query = url.slice(url.indexOf('?') + 1);
  for (const pair of query.split('&')) {
    const [key, value] = pair.split('=');
    if (key === name) return value;
  }
  return undefined;
}

function withoutSignature(url: string): string {
  return url.replace(/Signature=[^&]*/, 'Signature=…');
}

function inputFor(vector: GoldenVector): SignUrlInput {
  const input: SignUrlInput = {
    url: vector.url,
    keyPairId: vector.keyPairId,
    privateKey: fixturePrivateKey(vector.key),
    expires: vector.expiresAt,
    now: NOW,
    hash: vector.hash,
  };
  if (vector.resource !== undefined && vector.resource !== vector.url)
    input.resource = vector.resource;
  if (vector.notBefore !== undefined) input.notBefore = vector.notBefore;
  if (vector.ipAddress !== undefined) input.ipAddress = vector.ipAddress;
  return input;
}

function momentInside(vector: GoldenVector): Date {
  return new Date(((vector.notBefore ?? vector.expiresAt - 3600) + 1) * 1000);
}

function viewerInside(vector: GoldenVector): string | undefined {
  return vector.ipAddress?.split('/')[0];
}

describe('signUrl against golden vectors from botocore', () => {
  assert.ok(GOLDEN_VECTORS.length >= 30, 'the vector file is present and complete');

  for (const vector of GOLDEN_VECTORS) {
    const conditionsOnlyInPolicy =
      vector.policyType === 'custom' &&
      vector.resource === vector.url &&
      vector.notBefore === undefined &&
      vector.ipAddress === undefined;

    if (vector.objectKey !== undefined) {
      it(`builds the same object URL as Python's quote(): ${vector.name}`, () => {
        assert.equal(buildObjectUrl(DISTRIBUTION, vector.objectKey ?? ''), vector.url);
      });
    }

    it(`verifies botocore's link: ${vector.name}`, () => {
      const viewer = viewerInside(vector);
      const verdict = verifyUrl(vector.signedUrl, {
        keys: TRUSTED_KEYS,
        now: momentInside(vector),
        ...(viewer === undefined ? {} : { ipAddress: viewer }),
      });
      assert.equal(verdict.reason.startsWith('valid until'), true, verdict.reason);
      assert.equal(verdict.valid, true);
      assert.equal(verdict.policy, vector.policy);
    });

    if (conditionsOnlyInPolicy) {
      it(`signs the same custom policy bytes, though signUrl picks canned for it: ${vector.name}`, () => {
        const policy = buildCustomPolicy({ resource: vector.url, expiresAt: vector.expiresAt });
        assert.equal(policy, vector.policy);
        const signature = signPolicy(policy, fixturePrivateKey(vector.key), vector.hash);
        assert.deepEqual(
          signature,
          decodeCloudFrontBase64(queryParameter(vector.signedUrl, 'Signature') ?? ''),
        );
        assert.equal(signUrl(inputFor(vector)).policyType, 'canned');
      });
      continue;
    }

    it(`emits ${vector.key.startsWith('rsa') ? 'the identical URL' : 'the same URL up to the random ECDSA signature'}: ${vector.name}`, () => {
      const signed = signUrl(inputFor(vector));
      assert.equal(signed.policyType, vector.policyType);
      if (vector.key.startsWith('rsa')) {
        assert.equal(signed.url, vector.signedUrl);
      } else {
        assert.equal(withoutSignature(signed.url), withoutSignature(vector.signedUrl));
        assert.equal(
          verifyUrl(signed.url, {
            keys: TRUSTED_KEYS,
            now: momentInside(vector),
            ...(viewerInside(vector) === undefined
              ? {}
              : { ipAddress: viewerInside(vector) ?? '' }),
          }).valid,
          true,
        );
      }
    });
  }
});

describe('signUrl against @aws-sdk/cloudfront-signer', () => {
  const urls = [
    `${DISTRIBUTION}/videos/a.mp4`,
    `${DISTRIBUTION}/dir/a%20b.mp4`,
    `${DISTRIBUTION}/%C3%BCn%C3%AF/x.txt`,
    `${DISTRIBUTION}/videos/a.mp4?quality=hd&lang=en`,
  ];
  for (const url of urls) {
    it(`produces the same canned signature for ${url}`, () => {
      const expiresAt = NOW_SECONDS + 3600;
      const theirs = getSignedUrl({
        url,
        keyPairId: RSA.keyPairId,
        privateKey: fixturePem('rsa-2048.pkcs8.pem'),
        dateLessThan: new Date(expiresAt * 1000),
      });
      const ours = signUrl({
        url,
        keyPairId: RSA.keyPairId,
        privateKey: RSA.privateKey,
        expires: expiresAt,
        now: NOW,
      });
      assert.equal(queryParameter(ours.url, 'Expires'), queryParameter(theirs, 'Expires'));
      assert.equal(queryParameter(ours.url, 'Signature'), queryParameter(theirs, 'Signature'));
      assert.equal(ours.url.slice(0, url.length), theirs.slice(0, url.length));
    });
  }
});

describe('signUrl', () => {
  const base: Omit<SignUrlInput, 'url'> = {
    keyPairId: RSA.keyPairId,
    privateKey: RSA.privateKey,
    expires: '1h',
    now: NOW,
  };

  it('uses a canned policy with Expires, Signature and Key-Pair-Id when only an expiry is asked', () => {
    const signed = signUrl({ ...base, url: `${DISTRIBUTION}/a.mp4` });
    assert.equal(signed.policyType, 'canned');
    assert.equal(signed.expiresAt, NOW_SECONDS + 3600);
    assert.match(
      signed.url,
      new RegExp(
        `^${DISTRIBUTION}/a\\.mp4\\?Expires=${NOW_SECONDS + 3600}&Signature=[A-Za-z0-9_~-]+&Key-Pair-Id=K2JCJMDEHXQW5F$`,
      ),
    );
  });

  it('appends Hash-Algorithm=SHA256 last when SHA-256 is asked', () => {
    const signed = signUrl({ ...base, url: `${DISTRIBUTION}/a.mp4`, hash: 'sha256' });
    assert.equal(signed.hash, 'sha256');
    assert.match(signed.url, /&Key-Pair-Id=K2JCJMDEHXQW5F&Hash-Algorithm=SHA256$/);
  });

  it('signs with SHA-256 by default for an ECDSA key and says so in the URL', () => {
    const signed = signUrl({
      ...base,
      url: `${DISTRIBUTION}/a.mp4`,
      keyPairId: ECDSA.keyPairId,
      privateKey: ECDSA.privateKey,
    });
    assert.equal(signed.hash, 'sha256');
    assert.match(signed.url, /&Hash-Algorithm=SHA256$/);
    assert.equal(verifyUrl(signed.url, { keys: TRUSTED_KEYS, now: NOW }).valid, true);
  });

  it('signs ECDSA with SHA-1 when asked, without a Hash-Algorithm parameter', () => {
    const signed = signUrl({
      ...base,
      url: `${DISTRIBUTION}/a.mp4`,
      keyPairId: ECDSA.keyPairId,
      privateKey: ECDSA.privateKey,
      hash: 'sha1',
    });
    assert.doesNotMatch(signed.url, /Hash-Algorithm/);
    assert.equal(verifyUrl(signed.url, { keys: TRUSTED_KEYS, now: NOW }).valid, true);
  });

  it('keeps an existing query string byte for byte and joins with &', () => {
    const url = `${DISTRIBUTION}/a.mp4?b=%2f&a=1`;
    const signed = signUrl({ ...base, url });
    assert.ok(signed.url.startsWith(`${url}&Expires=`));
  });

  it('uses a custom policy for a start, an IP block or a pattern, carrying exactly those conditions', () => {
    const signed = signUrl({
      ...base,
      url: `${DISTRIBUTION}/videos/a.mp4`,
      resource: `${DISTRIBUTION}/videos/*`,
      notBefore: NOW_SECONDS + 60,
      ipAddress: '203.0.113.0/24',
    });
    assert.equal(signed.policyType, 'custom');
    const policy = decodeCloudFrontBase64(queryParameter(signed.url, 'Policy') ?? '')?.toString(
      'utf8',
    );
    assert.deepEqual(JSON.parse(policy ?? 'null'), {
      Statement: [
        {
          Resource: `${DISTRIBUTION}/videos/*`,
          Condition: {
            DateLessThan: { 'AWS:EpochTime': NOW_SECONDS + 3600 },
            IpAddress: { 'AWS:SourceIp': '203.0.113.0/24' },
            DateGreaterThan: { 'AWS:EpochTime': NOW_SECONDS + 60 },
          },
        },
      ],
    });
  });

  it('refuses an IP condition on a URL with a query string with ERR_RESOURCE_WILDCARD_IN_URL', () => {
    assert.throws(
      () => signUrl({ ...base, url: `${DISTRIBUTION}/a.mp4?x=1`, ipAddress: '192.0.2.1' }),
      (error) =>
        error instanceof SignerError &&
        error.code === 'ERR_RESOURCE_WILDCARD_IN_URL' &&
        /wildcard/.test(error.message),
    );
  });

  it('refuses a URL with a literal * when a custom policy would be needed', () => {
    assert.throws(
      () => signUrl({ ...base, url: `${DISTRIBUTION}/a*.mp4`, notBefore: NOW_SECONDS + 10 }),
      (error) => error instanceof SignerError && error.code === 'ERR_RESOURCE_WILDCARD_IN_URL',
    );
  });

  it('refuses a resource pattern that does not match the URL with ERR_RESOURCE_MISMATCH', () => {
    assert.throws(
      () =>
        signUrl({
          ...base,
          url: `${DISTRIBUTION}/audio/a.mp3`,
          resource: `${DISTRIBUTION}/videos/*`,
        }),
      (error) =>
        error instanceof SignerError &&
        error.code === 'ERR_RESOURCE_MISMATCH' &&
        /does not match/.test(error.message),
    );
  });

  it('refuses a malformed Key-Pair-Id with ERR_KEY_PAIR_ID_INVALID', () => {
    for (const keyPairId of ['', 'k2 jc', 'K2&Signature=x', 'k2jcjmdehxqw5f']) {
      assert.throws(
        () => signUrl({ ...base, keyPairId, url: `${DISTRIBUTION}/a.mp4` }),
        (error) => error instanceof SignerError && error.code === 'ERR_KEY_PAIR_ID_INVALID',
      );
    }
  });

  it('refuses an unknown hash with ERR_HASH_UNSUPPORTED', () => {
    assert.throws(
      () => signUrl({ ...base, url: `${DISTRIBUTION}/a.mp4`, hash: 'md5' as 'sha1' }),
      (error) => error instanceof SignerError && error.code === 'ERR_HASH_UNSUPPORTED',
    );
  });

  it('refuses a public key with ERR_KEY_UNSUPPORTED', () => {
    assert.throws(
      () => signUrl({ ...base, url: `${DISTRIBUTION}/a.mp4`, privateKey: RSA.publicKey }),
      (error) =>
        error instanceof SignerError &&
        error.code === 'ERR_KEY_UNSUPPORTED' &&
        /public key/.test(error.message),
    );
  });

  it('signs the same bytes on the thread pool as on the calling thread', async () => {
    const input = { ...base, url: `${DISTRIBUTION}/a.mp4` };
    assert.deepEqual(await signUrlAsync(input), signUrl(input));
  });
});

describe('signUrl properties', () => {
  const keys = fc.constantFrom(
    { ...RSA, hash: 'sha1' as const },
    { ...RSA, hash: 'sha256' as const },
    { ...ECDSA, hash: 'sha256' as const },
  );

  it('emits a link that verifies, for exactly the object URL signed, in CloudFront base64', () => {
    fc.assert(
      fc.property(
        objectKeyArbitrary(),
        keys,
        fc.integer({ min: 1, max: 7 * 86400 }),
        (objectKey, key, ttl) => {
          const url = buildObjectUrl(DISTRIBUTION, objectKey);
          const signed = signUrl({
            url,
            keyPairId: key.keyPairId,
            privateKey: key.privateKey,
            hash: key.hash,
            expires: NOW_SECONDS + ttl,
            now: NOW,
          });
          assert.ok(signed.url.startsWith(`${url}?Expires=${NOW_SECONDS + ttl}&Signature=`));
          assert.match(queryParameter(signed.url, 'Signature') ?? '', /^[A-Za-z0-9_~-]+$/);
          const verdict = verifyUrl(signed.url, { keys: TRUSTED_KEYS, now: NOW });
          assert.equal(verdict.valid, true, verdict.reason);
          assert.equal(verdict.requestUrl, url);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('predicts the length of every link exactly, so the 8,192-byte check needs no trial link', () => {
    fc.assert(
      fc.property(
        objectKeyArbitrary(),
        keys,
        fc.option(fc.constantFrom('203.0.113.7', '198.51.100.0/24'), { nil: undefined }),
        fc.boolean(),
        fc.integer({ min: 1, max: 600 }),
        (objectKey, key, ipAddress, withStart, signatureBytes) => {
          const url = buildObjectUrl(DISTRIBUTION, objectKey);
          const input: SignUrlInput = {
            url,
            keyPairId: key.keyPairId,
            privateKey: key.privateKey,
            hash: key.hash,
            expires: NOW_SECONDS + 600,
            now: NOW,
          };
          if (ipAddress !== undefined) input.ipAddress = ipAddress;
          if (withStart) input.notBefore = NOW_SECONDS + 60;
          const grant = planSignedUrl(input);
          const signature = Buffer.alloc(signatureBytes, 0xff);
          assert.equal(
            signedUrlLength(url, grant, signatureBytes),
            completeSignedUrl(url, grant, signature).url.length,
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never lets a * or ? from an object key act as a wildcard, even in a custom policy', () => {
    const wildcardKey = fc
      .tuple(objectKeyArbitrary(), fc.constantFrom('*', '?', '*?', '**'), objectKeyArbitrary())
      .map(([a, w, b]) => `${a}${w}${b}`)
      .filter((key) => Buffer.byteLength(key) <= 1024);
    fc.assert(
      fc.property(wildcardKey, (objectKey) => {
        const url = buildObjectUrl(DISTRIBUTION, objectKey);
        const signed = signUrl({ ...RSA, url, expires: '1h', now: NOW, ipAddress: '192.0.2.0/24' });
        const policy = JSON.parse(
          decodeCloudFrontBase64(queryParameter(signed.url, 'Policy') ?? '')?.toString('utf8') ??
            'null',
        ) as { Statement: [{ Resource: string }] };
        assert.equal(policy.Statement[0].Resource, url);
        assert.doesNotMatch(policy.Statement[0].Resource, /[*?]/);
        const sibling = signed.url.replace(
          url,
          buildObjectUrl(DISTRIBUTION, objectKey.replace(/[*?]/g, 'x')),
        );
        assert.equal(
          verifyUrl(sibling, { keys: TRUSTED_KEYS, now: NOW, ipAddress: '192.0.2.7' }).failure,
          'RESOURCE_MISMATCH',
        );
      }),
      { numRuns: 100 },
    );
  });

  it('emits custom-policy links whose Policy and Signature use only CloudFront base64, and that verify', () => {
    fc.assert(
      fc.property(
        objectKeyArbitrary(),
        keys,
        fc.option(fc.constantFrom('203.0.113.7', '198.51.100.0/24'), { nil: undefined }),
        fc.boolean(),
        (objectKey, key, ipAddress, withStart) => {
          const input: SignUrlInput = {
            url: buildObjectUrl(DISTRIBUTION, objectKey),
            keyPairId: key.keyPairId,
            privateKey: key.privateKey,
            hash: key.hash,
            expires: NOW_SECONDS + 600,
            now: NOW,
            // A start or an IP block, at least one, so the policy is custom.
            ...(withStart || ipAddress === undefined ? { notBefore: NOW_SECONDS - 60 } : {}),
            ...(ipAddress === undefined ? {} : { ipAddress }),
          };
          const signed = signUrl(input);
          assert.match(queryParameter(signed.url, 'Policy') ?? '', /^[A-Za-z0-9_~-]+$/);
          assert.match(queryParameter(signed.url, 'Signature') ?? '', /^[A-Za-z0-9_~-]+$/);
          const viewer =
            ipAddress === undefined ? {} : { ipAddress: ipAddress.split('/')[0] ?? '' };
          const verdict = verifyUrl(signed.url, { keys: TRUSTED_KEYS, now: NOW, ...viewer });
          assert.equal(verdict.valid, true, verdict.reason);
          assert.equal(verdict.policyType, 'custom');
        },
      ),
      { numRuns: 100 },
    );
  });

  it('never verifies a link under another key, whichever key signed it', () => {
    const signers = fc.constantFrom(RSA, ECDSA);
    fc.assert(
      fc.property(objectKeyArbitrary(), signers, (objectKey, signer) => {
        const signed = signUrl({
          ...signer,
          url: buildObjectUrl(DISTRIBUTION, objectKey),
          expires: '1h',
          now: NOW,
        });
        for (const other of [OTHER_RSA, RSA, ECDSA].filter((key) => key !== signer)) {
          const impostor = new Map([[signer.keyPairId, other.publicKey]]);
          assert.equal(
            verifyUrl(signed.url, { keys: impostor, now: NOW }).failure,
            'BAD_SIGNATURE',
          );
        }
      }),
      { numRuns: 50 },
    );
  });
});

describe('signUrl limits', () => {
  it('refuses a link that would exceed CloudFront 8,192-byte URL limit, even when the URL alone fits', () => {
    const url = `${DISTRIBUTION}/${'a'.repeat(7900)}`;
    assert.throws(
      () => signUrl({ ...RSA, url, expires: '1h', now: NOW }),
      (error) =>
        error instanceof SignerError &&
        error.code === 'ERR_URL_INVALID' &&
        /signed URL would be up to 8\d{3} bytes/.test(error.message),
    );
    const shorter = `${DISTRIBUTION}/${'a'.repeat(7700)}`;
    assert.ok(signUrl({ ...RSA, url: shorter, expires: '1h', now: NOW }).url.length <= 8192);
  });
});
