import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InjectOptions } from 'fastify';
import { FIXTURE_KEYS_DIR } from '../helpers/fixtures.ts';
import { CLIENT_TOKENS, MULTI_TENANT_CONFIG, writeConfigFile } from '../helpers/config-file.ts';
import { build } from '../helpers/server.ts';

interface Row {
  name: string;
  request: InjectOptions;
  status: number;
  code?: string;
}

const ACME = { authorization: `Bearer ${CLIENT_TOKENS.acme}` };
const BROAD = { authorization: `Bearer ${CLIENT_TOKENS.broad}` };
const JSON_ACME = { ...ACME, 'content-type': 'application/json' };
const JSON_BROAD = { ...BROAD, 'content-type': 'application/json' };

function sign(
  objectKey: string,
  headers: Record<string, string> = ACME,
  extra = '',
): InjectOptions {
  return { url: `/generate-signed-url?object_key=${objectKey}${extra}`, headers };
}

function batch(payload: unknown, headers: Record<string, string> = JSON_BROAD): InjectOptions {
  return {
    method: 'POST',
    url: '/v1/signed-urls',
    headers,
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  };
}

const AUTH_FAILURES: Row[] = (
  [
    ['no Authorization header', {}],
    ['an empty Authorization header', { authorization: '' }],
    ['a bare scheme', { authorization: 'Bearer' }],
    ['a scheme and a space', { authorization: 'Bearer ' }],
    ['a token with one extra character', { authorization: `Bearer ${CLIENT_TOKENS.acme}x` }],
    [
      'a token missing its last character',
      { authorization: `Bearer ${CLIENT_TOKENS.acme.slice(0, -1)}` },
    ],
    ['a one-character token', { authorization: 'Bearer a' }],
    ['a 600-character token', { authorization: `Bearer ${'a'.repeat(600)}` }],
    [
      'Basic credentials',
      { authorization: `Basic ${Buffer.from(`acme:${CLIENT_TOKENS.acme}`).toString('base64')}` },
    ],
    ['a token with a non-ASCII character', { authorization: 'Bearer tök-acme-0123456789abcdef' }],
    ['a token in a cookie', { cookie: `token=${CLIENT_TOKENS.acme}` }],
    [
      'the digest of a token instead of the token',
      { authorization: 'Bearer 3bb02cc3d1775cae55f1dd3c2fb6c4788169cb72a5c1dceac973a05c9d0f4d64' },
    ],
  ] as [string, Record<string, string>][]
).map(([name, headers]) => ({
  name: `401 for ${name}`,
  request: sign('tenants/acme/a.mp4', headers),
  status: 401,
  code: 'ERR_AUTH_REQUIRED',
}));

const ROWS: Row[] = [
  ...AUTH_FAILURES,
  {
    name: '401 for a token in the query string',
    request: sign('tenants/acme/a.mp4', {}, `&token=${CLIENT_TOKENS.acme}`),
    status: 401,
    code: 'ERR_AUTH_REQUIRED',
  },
  // Prefix escapes
  {
    name: 'a sibling tenant whose name extends the prefix',
    request: sign('tenants/acmecorp/x.mp4'),
    status: 403,
    code: 'ERR_FORBIDDEN',
  },
  {
    name: 'the prefix without its slash',
    request: sign('tenants/acme'),
    status: 403,
    code: 'ERR_FORBIDDEN',
  },
  {
    name: 'the prefix in another case',
    request: sign('Tenants/acme/x.mp4'),
    status: 403,
    code: 'ERR_FORBIDDEN',
  },
  {
    name: 'a leading slash',
    request: sign('/tenants/acme/x.mp4'),
    status: 403,
    code: 'ERR_FORBIDDEN',
  },
  {
    name: 'backslashes for slashes',
    request: sign('tenants%5Cacme%5Cx.mp4'),
    status: 403,
    code: 'ERR_FORBIDDEN',
  },
  {
    name: 'a traversal out of the prefix',
    request: sign('tenants/acme/../other/x.mp4'),
    status: 400,
    code: 'ERR_OBJECT_KEY_INVALID',
  },
  {
    name: 'an encoded traversal',
    request: sign('tenants%2Facme%2F..%2Fother%2Fx'),
    status: 400,
    code: 'ERR_OBJECT_KEY_INVALID',
  },
  {
    name: 'a dot segment',
    request: sign('tenants/acme/./x'),
    status: 400,
    code: 'ERR_OBJECT_KEY_INVALID',
  },
  {
    name: 'a double-encoded slash',
    request: sign('tenants%252Facme%252Fx'),
    status: 403,
    code: 'ERR_FORBIDDEN',
  },
  {
    name: 'a fullwidth solidus',
    request: sign('tenants%EF%BC%8Facme%EF%BC%8Fx'),
    status: 403,
    code: 'ERR_FORBIDDEN',
  },
  {
    name: 'a zero-width space inside the prefix',
    request: sign('tenants/ac%E2%80%8Bme/x'),
    status: 403,
    code: 'ERR_FORBIDDEN',
  },
  // Encoding tricks
  {
    name: 'escapes that are not UTF-8',
    request: sign('tenants/acme/%FF'),
    status: 400,
    code: 'ERR_REQUEST_INVALID',
  },
  {
    name: 'an overlong UTF-8 slash',
    request: sign('tenants/acme/%C0%AF'),
    status: 400,
    code: 'ERR_REQUEST_INVALID',
  },
  {
    name: 'a NUL byte',
    request: sign('tenants/acme/a%00b'),
    status: 400,
    code: 'ERR_OBJECT_KEY_INVALID',
  },
  {
    name: 'a newline',
    request: sign('tenants/acme/a%0Ab'),
    status: 400,
    code: 'ERR_OBJECT_KEY_INVALID',
  },
  {
    name: 'a right-to-left override',
    request: sign('tenants/acme/a%E2%80%AEb'),
    status: 400,
    code: 'ERR_OBJECT_KEY_INVALID',
  },
  {
    name: 'a bidi isolate',
    request: sign('tenants/acme/a%E2%81%A6b'),
    status: 400,
    code: 'ERR_OBJECT_KEY_INVALID',
  },
  {
    name: 'a lone surrogate escape',
    request: sign('tenants/acme/%ED%A0%80'),
    status: 400,
    code: 'ERR_REQUEST_INVALID',
  },
  {
    name: "a '+' read as a space, like a form",
    request: sign('tenants/acme/a+b.mp4'),
    status: 200,
  },
  {
    name: 'a key of 1,025 bytes',
    request: sign(`tenants/acme/${'%C3%BC'.repeat(506)}`),
    status: 400,
    code: 'ERR_OBJECT_KEY_INVALID',
  },
  // Wildcards
  { name: "a '*' in a key, which stays literal", request: sign('tenants/acme/*'), status: 200 },
  { name: "a '?' in a key, which stays literal", request: sign('tenants/acme/%3F'), status: 200 },
  {
    name: 'a pattern from a client without the wildcard right',
    request: batch({ items: [{ key: 'tenants/acme/a', resource: 'tenants/acme/*' }] }, JSON_ACME),
    status: 403,
    code: 'ERR_FORBIDDEN',
  },
  {
    name: 'a pattern reaching past the prefix',
    request: batch({ items: [{ key: 'videos/a', resource: 'vid*' }] }),
    status: 403,
    code: 'ERR_FORBIDDEN',
  },
  {
    name: 'a pattern for the whole distribution',
    request: batch({ items: [{ key: 'videos/a', resource: '*' }] }),
    status: 403,
    code: 'ERR_FORBIDDEN',
  },
  {
    name: "a pattern with '?'",
    request: batch({ items: [{ key: 'videos/a', resource: 'videos/?' }] }),
    status: 400,
    code: 'ERR_RESOURCE_INVALID',
  },
  {
    name: 'a pattern that does not cover the key',
    request: batch({ items: [{ key: 'thumbs/a', resource: 'videos/*' }] }),
    status: 400,
    code: 'ERR_RESOURCE_MISMATCH',
  },
  {
    name: 'a pattern inside the prefix',
    request: batch({ items: [{ key: 'videos/a', resource: 'videos/*' }] }),
    status: 200,
  },
  // TTL coercion
  ...['1e400', 'Infinity', '0x10', '60.5', '-1', '0', '%2060', '60%20', '', '1_000', '٣'].map(
    (ttl): Row => ({
      name: `ttl=${ttl}`,
      request: sign('tenants/acme/a', ACME, `&ttl=${ttl}`),
      status: 400,
      code: 'ERR_REQUEST_INVALID',
    }),
  ),
  ...[
    ['"600"', '"600"'],
    ['60.5', '60.5'],
    ['true', 'true'],
    ['null', 'null'],
    ['1e400', '1e400'],
    ['[600]', '[600]'],
  ].map(([name, value]): Row => ({
    name: `expiresIn ${String(name)}`,
    request: batch(`{"items":[{"key":"videos/a","expiresIn":${String(value)}}]}`),
    status: 400,
    code: 'ERR_REQUEST_INVALID',
  })),
  {
    name: 'a lifetime over the client cap',
    request: sign('tenants/acme/a', ACME, '&ttl=3601'),
    status: 400,
    code: 'ERR_TTL_TOO_LONG',
  },
  // Duplicated and array parameters
  {
    name: 'object_key twice',
    request: sign('tenants/acme/a', ACME, '&object_key=videos/x'),
    status: 400,
    code: 'ERR_REQUEST_INVALID',
  },
  {
    name: 'object_key as an array',
    request: { url: '/generate-signed-url?object_key[]=tenants/acme/a', headers: ACME },
    status: 400,
    code: 'ERR_REQUEST_INVALID',
  },
  {
    name: 'ttl twice',
    request: sign('tenants/acme/a', ACME, '&ttl=60&ttl=70'),
    status: 400,
    code: 'ERR_REQUEST_INVALID',
  },
  {
    name: 'distribution twice',
    request: sign('tenants/acme/a', ACME, '&distribution=media&distribution=downloads'),
    status: 400,
    code: 'ERR_REQUEST_INVALID',
  },
  {
    name: 'a duplicated body key',
    request: batch('{"items":[{"key":"videos/a","key":"secret/b"}]}'),
    status: 400,
    code: 'ERR_REQUEST_INVALID',
  },
  {
    name: 'an unknown body field',
    request: batch({ items: [{ key: 'videos/a' }], admin: true }),
    status: 400,
    code: 'ERR_REQUEST_INVALID',
  },
  // Prototype pollution
  {
    name: 'a __proto__ body key',
    request: batch('{"items":[{"key":"videos/a"}],"__proto__":{"admin":true}}'),
    status: 400,
    code: 'ERR_REQUEST_INVALID',
  },
  {
    name: 'a constructor.prototype body key',
    request: batch('{"items":[{"key":"videos/a"}],"constructor":{"prototype":{"x":1}}}'),
    status: 400,
    code: 'ERR_REQUEST_INVALID',
  },
  {
    name: 'a __proto__ item key',
    request: batch('{"items":[{"key":"videos/a","__proto__":{"x":1}}]}'),
    status: 400,
    code: 'ERR_REQUEST_INVALID',
  },
  {
    name: 'a __proto__ query parameter',
    request: sign('tenants/acme/a', ACME, '&__proto__=x'),
    status: 400,
    code: 'ERR_REQUEST_INVALID',
  },
  // Batch caps and shapes
  {
    name: 'a batch of 101',
    request: batch({ items: Array.from({ length: 101 }, (_, i) => ({ key: `videos/${i}` })) }),
    status: 400,
    code: 'ERR_BATCH_TOO_LARGE',
  },
  {
    name: 'an empty batch',
    request: batch({ items: [] }),
    status: 400,
    code: 'ERR_REQUEST_INVALID',
  },
  {
    name: 'items that are not an array',
    request: batch({ items: { key: 'videos/a' } }),
    status: 400,
    code: 'ERR_REQUEST_INVALID',
  },
  {
    name: 'a batch with one forbidden item',
    request: batch({ items: [{ key: 'videos/a' }, { key: 'secret/b' }] }),
    status: 403,
    code: 'ERR_FORBIDDEN',
  },
  // Distributions, cookies, media types, sizes
  {
    name: 'an unknown distribution',
    request: sign('tenants/acme/a', ACME, '&distribution=other'),
    status: 400,
    code: 'ERR_DISTRIBUTION_UNKNOWN',
  },
  {
    name: 'a distribution the client has no rule for',
    request: sign('tenants/acme/a', ACME, '&distribution=downloads'),
    status: 403,
    code: 'ERR_FORBIDDEN',
  },
  {
    name: 'cookies without the cookie right',
    request: {
      method: 'POST',
      url: '/v1/signed-cookies',
      headers: JSON_ACME,
      payload: '{"resource":"tenants/acme/*"}',
    },
    status: 403,
    code: 'ERR_FORBIDDEN',
  },
  {
    name: 'a text/plain body',
    request: {
      method: 'POST',
      url: '/v1/signed-urls',
      headers: { ...BROAD, 'content-type': 'text/plain' },
      payload: '{"items":[{"key":"videos/a"}]}',
    },
    status: 415,
    code: 'ERR_MEDIA_TYPE_UNSUPPORTED',
  },
  {
    name: 'a body over 1 MiB',
    request: batch(`{"items":[{"key":"${'a'.repeat(1_100_000)}"}]}`),
    status: 413,
    code: 'ERR_BODY_TOO_LARGE',
  },
  {
    name: 'a body that is not JSON',
    request: batch('{"items":'),
    status: 400,
    code: 'ERR_REQUEST_INVALID',
  },
  {
    name: 'a verify of a link with a forged policy',
    request: {
      method: 'POST',
      url: '/v1/verify',
      headers: JSON_ACME,
      payload: JSON.stringify({
        url: 'https://d111111abcdef8.cloudfront.net/a?Policy=eyJ9&Signature=AAAA&Key-Pair-Id=K2JCJMDEHXQW5F',
      }),
    },
    status: 200,
  },
];

const SECRETS = [...Object.values(CLIENT_TOKENS), 'BEGIN', 'PRIVATE KEY', FIXTURE_KEYS_DIR, '.pem'];

describe('adversarial requests', () => {
  assert.ok(ROWS.length >= 60, `only ${ROWS.length} rows`);

  for (const row of ROWS) {
    it(`answers ${row.status}${row.code === undefined ? '' : ` ${row.code}`} for ${row.name}, leaking nothing`, async (t) => {
      const server = await build(t, { CFSIGN_CONFIG: writeConfigFile(t, MULTI_TENANT_CONFIG) });
      const response = await server.app.inject(row.request);
      assert.equal(response.statusCode, row.status, response.body.slice(0, 300));
      if (row.code !== undefined) {
        const body = JSON.parse(response.body) as Record<string, unknown>;
        assert.deepEqual(Object.keys(body), ['error', 'message', 'requestId']);
        assert.equal(body['error'], row.code);
        assert.doesNotMatch(response.body, /Signature=|Policy=/);
      }
      const path = typeof row.request.url === 'string' ? row.request.url : '';
      if (path.startsWith('/generate') || path.startsWith('/v1/')) {
        assert.equal(response.headers['cache-control'], 'no-store');
      }
      for (const secret of SECRETS) {
        assert.ok(!response.body.includes(secret), `the response holds ${secret}`);
        assert.ok(!server.logText().includes(secret), `a log line holds ${secret}`);
      }
      assert.doesNotMatch(server.logText(), /Signature=|Policy=|"signed_url"/);
      assert.ok(server.logs.every((line) => (line['level'] as number) < 50 || row.status >= 500));
    });
  }
});
