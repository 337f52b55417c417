import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate } from 'node:timers/promises';
import type { LightMyRequestResponse } from 'fastify';
import { SignerError } from '../../src/errors.ts';
import type { App } from '../../src/server/context.ts';
import { assertAccepted, AUTH, build } from '../helpers/server.ts';
import { defaultSigner } from '../helpers/server.ts';

interface ErrorBody {
  error: string;
  message: string;
  requestId: string;
}

interface OpenApiOperation {
  parameters?: { in: string; name: string; required?: boolean }[];
  requestBody?: {
    content: Record<
      string,
      { schema: { properties?: Record<string, unknown>; required?: string[] } }
    >;
  };
  responses: Record<string, unknown>;
  security?: unknown[];
}

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OpenApiOperation>>;
}

function errorBody(response: LightMyRequestResponse, status: number, code: string): ErrorBody {
  assert.equal(response.statusCode, status, response.body);
  const body = response.json<ErrorBody>();
  assert.deepEqual(Object.keys(body).sort(), ['error', 'message', 'requestId']);
  assert.equal(body.error, code);
  assert.match(body.requestId, /^[0-9a-f-]{36}$/);
  return body;
}

async function metricsText(app: App): Promise<string> {
  const response = await app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(response.statusCode, 200);
  return response.body;
}

/** GETs a page, following redirects (relative or absolute to this app) like a browser. */
async function getFollowingRedirects(app: App, path: string): Promise<LightMyRequestResponse> {
  let url = path;
  for (let hop = 0; hop < 5; hop += 1) {
    const response = await app.inject({ method: 'GET', url });
    const location = response.headers.location;
    if (response.statusCode < 300 || response.statusCode >= 400 || location === undefined) {
      return response;
    }
    const target = new URL(location, `http://localhost${url}`);
    url = `${target.pathname}${target.search}`;
  }
  assert.fail(`too many redirects from ${path}`);
}

function requestBodyProperties(operation: OpenApiOperation | undefined): string[] {
  const schema = operation?.requestBody?.content['application/json']?.schema;
  return Object.keys(schema?.properties ?? {});
}

describe('operations', () => {
  describe('health and readiness', () => {
    it('answers /healthz with 200 {"status":"ok"} without a token', async (t) => {
      const { app } = await build(t);
      const response = await app.inject({ method: 'GET', url: '/healthz' });
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), { status: 'ok' });
    });

    it('answers /readyz with 200 {"status":"ready"} without a token', async (t) => {
      const { app } = await build(t);
      const response = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), { status: 'ready' });
    });

    it('answers /readyz with 503 {"status":"draining"} once draining, while /healthz stays ok', async (t) => {
      const { app } = await build(t);
      app.cfsign.state.draining = true;
      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 503);
      assert.deepEqual(ready.json(), { status: 'draining' });
      const health = await app.inject({ method: 'GET', url: '/healthz' });
      assert.equal(health.statusCode, 200);
      assert.deepEqual(health.json(), { status: 'ok' });
    });
  });

  describe('metrics', () => {
    it('serves Prometheus text without a token', async (t) => {
      const { app } = await build(t);
      const response = await app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      assert.match(response.body, /^# HELP cfsign_http_requests_total /m);
      assert.match(response.body, /^# TYPE cfsign_http_requests_total counter$/m);
      assert.match(response.body, /^# TYPE cfsign_http_request_duration_seconds histogram$/m);
    });

    it('counts requests by route, method and status', async (t) => {
      const { app } = await build(t);
      await app.inject({ method: 'GET', url: '/healthz' });
      await app.inject({ method: 'GET', url: '/healthz' });
      await app.inject({
        method: 'POST',
        url: '/v1/signed-urls',
        headers: AUTH,
        payload: { items: [] },
      });
      await app.inject({ method: 'GET', url: '/no/such/route' });
      const text = await metricsText(app);
      assert.match(
        text,
        /^cfsign_http_requests_total\{route="\/healthz",method="GET",status="200"\} 2$/m,
      );
      assert.match(
        text,
        /^cfsign_http_requests_total\{route="\/v1\/signed-urls",method="POST",status="400"\} 1$/m,
      );
      assert.match(
        text,
        /^cfsign_http_requests_total\{route="unmatched",method="GET",status="404"\} 1$/m,
      );
      assert.doesNotMatch(text, /no\/such\/route/);
    });

    it('counts signatures by Key-Pair-Id, algorithm and hash after a signing request', async (t) => {
      const { app } = await build(t);
      assert.doesNotMatch(await metricsText(app), /^cfsign_signatures_total\{/m);
      const response = await app.inject({
        method: 'POST',
        url: '/v1/signed-urls',
        headers: AUTH,
        payload: { items: [{ key: 'a.mp4' }, { key: 'b.mp4' }] },
      });
      assert.equal(response.statusCode, 200);
      for (const { url } of response.json<{ items: { url: string }[] }>().items) {
        assertAccepted(url);
      }
      assert.match(
        await metricsText(app),
        /^cfsign_signatures_total\{key_pair_id="K2JCJMDEHXQW5F",algorithm="rsa",hash="sha1"\} 2$/m,
      );
    });

    it('shows the signatures the signing gate holds, and none once they are done', async (t) => {
      const { app } = await build(t);
      const inFlight = async (): Promise<number> => {
        const value = /^cfsign_signing_in_flight (\d+)$/m.exec(await metricsText(app))?.[1];
        assert.ok(value !== undefined, 'cfsign_signing_in_flight is exported');
        return Number(value);
      };
      assert.equal(await inFlight(), 0);
      const items = Array.from({ length: 100 }, (_, index) => ({ key: `gate/${index}.mp4` }));
      const state = { done: false };
      const batch = app
        .inject({ method: 'POST', url: '/v1/signed-urls', headers: AUTH, payload: { items } })
        .finally(() => {
          state.done = true;
        });
      const seen = new Set<number>();
      while (!state.done) {
        seen.add(await inFlight());
        // inject() runs on microtasks alone; the pool's signatures complete in the poll phase.
        await setImmediate();
      }
      assert.equal((await batch).statusCode, 200);
      assert.ok(
        seen.has(100),
        `a batch of 100 holds 100 slots while it signs (saw ${[...seen].join(', ')})`,
      );
      assert.equal(await inFlight(), 0);
    });

    it('counts error responses by code after a 401', async (t) => {
      const { app } = await build(t);
      const response = await app.inject({
        method: 'POST',
        url: '/v1/signed-urls',
        payload: { items: [{ key: 'a.mp4' }] },
      });
      errorBody(response, 401, 'ERR_AUTH_REQUIRED');
      const text = await metricsText(app);
      assert.match(text, /^cfsign_errors_total\{code="ERR_AUTH_REQUIRED"\} 1$/m);
      assert.match(
        text,
        /^cfsign_http_requests_total\{route="\/v1\/signed-urls",method="POST",status="401"\} 1$/m,
      );
    });

    it('never shows a token or a link in the metrics', async (t) => {
      const { app } = await build(t);
      const response = await app.inject({
        method: 'GET',
        url: '/generate-signed-url?object_key=secret-object.mp4',
        headers: AUTH,
      });
      assert.equal(response.statusCode, 200);
      assertAccepted(response.json<{ signed_url: string }>().signed_url);
      const text = await metricsText(app);
      assert.doesNotMatch(text, /secret-object|Signature=|tok-web/);
    });
  });

  describe('OpenAPI and docs', () => {
    it('serves an OpenAPI 3 document listing every route with its request schema', async (t) => {
      const { app } = await build(t);
      const response = await app.inject({ method: 'GET', url: '/openapi.json' });
      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers['content-type']), /^application\/json/);
      const document = response.json<OpenApiDocument>();
      assert.match(document.openapi, /^3\./);
      const { paths } = document;
      for (const path of [
        '/generate-signed-url',
        '/v1/signed-urls',
        '/v1/signed-cookies',
        '/v1/verify',
      ]) {
        assert.ok(path in paths, `${path} is missing`);
      }

      const generate = paths['/generate-signed-url']?.['get'];
      assert.deepEqual(
        generate?.parameters?.map((parameter) => [
          parameter.in,
          parameter.name,
          parameter.required,
        ]),
        [
          ['query', 'object_key', true],
          ['query', 'ttl', false],
          ['query', 'distribution', false],
        ],
      );

      const urls = paths['/v1/signed-urls']?.['post'];
      assert.deepEqual(requestBodyProperties(urls), ['items', 'distribution']);
      const itemSchema = (
        urls?.requestBody?.content['application/json']?.schema.properties?.['items'] as {
          items: { properties: Record<string, unknown>; required: string[] };
        }
      ).items;
      assert.deepEqual(Object.keys(itemSchema.properties).sort(), [
        'expiresIn',
        'ipAddress',
        'key',
        'notBefore',
        'resource',
      ]);
      assert.deepEqual(itemSchema.required, ['key']);

      const cookies = paths['/v1/signed-cookies']?.['post'];
      assert.deepEqual(requestBodyProperties(cookies).sort(), [
        'distribution',
        'expiresIn',
        'ipAddress',
        'notBefore',
        'resource',
      ]);
      assert.deepEqual(cookies?.requestBody?.content['application/json']?.schema.required, [
        'resource',
      ]);

      const verify = paths['/v1/verify']?.['post'];
      assert.deepEqual(requestBodyProperties(verify).sort(), ['at', 'cookies', 'ipAddress', 'url']);
      assert.doesNotMatch(JSON.stringify(verify?.responses['200']), /"policy"/);
    });

    // BUG (src/server/build-server.ts): the document's top-level `security: [{bearer: []}]`
    // applies to every operation, so /healthz, /readyz and /metrics are documented as needing a
    // bearer token although they are served without one; they should declare `security: []`.
    it('documents the operations routes as needing no token', async (t) => {
      const { app } = await build(t);
      const { paths } = (
        await app.inject({ method: 'GET', url: '/openapi.json' })
      ).json<OpenApiDocument>();
      for (const path of ['/healthz', '/readyz', '/metrics']) {
        assert.deepEqual(paths[path]?.['get']?.security, [], `${path} claims to need a token`);
      }
    });

    it('serves the docs as an HTML page that loads no script from another site', async (t) => {
      const { app } = await build(t);
      const page = await getFollowingRedirects(app, '/docs');
      assert.equal(page.statusCode, 200);
      assert.match(String(page.headers['content-type']), /^text\/html/);
      assert.match(page.body, /<html/i);
      const sources = [...page.body.matchAll(/<script[^>]*\ssrc=["']([^"']+)["']/gi)].map(
        (match) => match[1] ?? '',
      );
      assert.ok(sources.length > 0, 'the page loads no script at all');
      assert.doesNotMatch(page.body, /<(script|link)[^>]*(src|href)=["']?(https?:)?\/\//i);
      for (const source of sources) {
        const script = await app.inject({ method: 'GET', url: source });
        assert.equal(script.statusCode, 200, `${source} is not served`);
        assert.match(String(script.headers['content-type']), /javascript/);
      }
    });
  });

  describe('errors', () => {
    it('answers an unknown route with 404 ERR_NOT_FOUND naming the path but not the query', async (t) => {
      const { app } = await build(t);
      const response = await app.inject({ method: 'GET', url: '/v2/nope?token=hunter2' });
      const body = errorBody(response, 404, 'ERR_NOT_FOUND');
      assert.match(body.message, /GET '\/v2\/nope'/);
      assert.doesNotMatch(response.body, /hunter2/);
    });

    it('answers a known path with another method with 404 ERR_NOT_FOUND', async (t) => {
      const { app } = await build(t);
      const response = await app.inject({
        method: 'DELETE',
        url: '/v1/signed-urls',
        headers: AUTH,
      });
      const body = errorBody(response, 404, 'ERR_NOT_FOUND');
      assert.match(body.message, /DELETE '\/v1\/signed-urls'/);
    });

    it('answers an unexpected fault with 500 "internal error" and leaks none of it, logging it with the request id', async (t) => {
      const server = await build(t);
      const { app } = server;
      defaultSigner(app).signPlanned = () => Promise.reject(new Error('secret internal detail'));
      const response = await app.inject({
        method: 'POST',
        url: '/v1/signed-urls',
        headers: AUTH,
        payload: { items: [{ key: 'a.mp4' }] },
      });
      const body = errorBody(response, 500, 'ERR_INTERNAL');
      assert.equal(body.message, 'internal error');
      assert.equal(response.headers['cache-control'], 'no-store');
      assert.doesNotMatch(response.body, /secret internal detail|stack|Error/);
      const logged = server.logs.find(
        (line) => line['reqId'] === body.requestId && line['level'] === 50,
      );
      assert.ok(logged, 'the fault is not logged with the request id');
      assert.match(JSON.stringify(logged), /secret internal detail/);
    });

    it("answers the Flask route's unexpected fault the same way", async (t) => {
      const { app } = await build(t);
      defaultSigner(app).signPlanned = () =>
        Promise.reject(new TypeError('boom at /etc/keys/private.pem'));
      const response = await app.inject({
        method: 'GET',
        url: '/generate-signed-url?object_key=a.mp4',
        headers: AUTH,
      });
      const body = errorBody(response, 500, 'ERR_INTERNAL');
      assert.equal(body.message, 'internal error');
      assert.doesNotMatch(response.body, /boom|private\.pem|TypeError/);
    });

    it('keeps the code but not the message of a server-side SignerError', async (t) => {
      const { app } = await build(t);
      defaultSigner(app).signPlanned = () =>
        Promise.reject(
          new SignerError('ERR_KEY_PASSPHRASE', 'wrong passphrase for /run/secrets/cloudfront.pem'),
        );
      const response = await app.inject({
        method: 'POST',
        url: '/v1/signed-urls',
        headers: AUTH,
        payload: { items: [{ key: 'a.mp4' }] },
      });
      const body = errorBody(response, 500, 'ERR_KEY_PASSPHRASE');
      assert.equal(body.message, 'internal error');
      assert.doesNotMatch(response.body, /passphrase|secrets/);
    });
  });
});
