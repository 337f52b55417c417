import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { build } from '../helpers/server.ts';

const PAGES = ['/console/', '/console/inspect'] as const;

describe('GET /console', () => {
  it('redirects /console to /console/ so relative links resolve', async (t) => {
    const { app } = await build(t);
    const response = await app.inject({ method: 'GET', url: '/console' });
    assert.equal(response.statusCode, 308);
    assert.equal(response.headers.location, '/console/');
  });

  for (const page of PAGES) {
    it(`serves ${page} as HTML with a policy that lets only this origin's scripts run`, async (t) => {
      const { app } = await build(t);
      const response = await app.inject({ method: 'GET', url: page });
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers['content-type'], 'text/html; charset=utf-8');
      const policy = String(response.headers['content-security-policy']);
      assert.match(policy, /default-src 'none'/);
      assert.match(policy, /script-src 'self'(;|$)/);
      assert.match(policy, /frame-ancestors 'none'/);
      assert.doesNotMatch(policy, /unsafe-inline|unsafe-eval/);
      assert.equal(response.headers['x-content-type-options'], 'nosniff');
      assert.equal(response.headers['referrer-policy'], 'no-referrer');
      assert.match(response.body, /<html lang="en">/);
      // No inline script (the policy would block it) and nothing from another site.
      assert.doesNotMatch(response.body, /<script(?![^>]*\ssrc=)[^>]*>/i);
      assert.doesNotMatch(response.body, /(src|href)=["']?(https?:)?\/\//i);
    });

    it(`serves every script and style ${page} loads, and every module those import`, async (t) => {
      const { app } = await build(t);
      const html = (await app.inject({ method: 'GET', url: page })).body;
      const pending = [...html.matchAll(/(?:src|href)="([^"#]+\.(?:js|mjs|css))"/g)].map(
        (match) => match[1] ?? '',
      );
      assert.ok(pending.length >= 2, 'the page loads no script or style');
      const seen = new Set<string>();
      while (pending.length > 0) {
        const file = pending.pop() ?? '';
        if (seen.has(file)) continue;
        seen.add(file);
        const response = await app.inject({ method: 'GET', url: `/console/${file}` });
        assert.equal(response.statusCode, 200, `${file} is not served`);
        assert.match(String(response.headers['content-type']), /^text\/(javascript|css)/);
        for (const match of response.body.matchAll(/from '\.\/([^']+)'/g)) {
          pending.push(match[1] ?? '');
        }
      }
      assert.ok(seen.has('qrcode.mjs') || page !== '/console/', 'the Sign page draws no QR code');
    });
  }

  it('labels every input of both pages', async (t) => {
    const { app } = await build(t);
    for (const page of PAGES) {
      const html = (await app.inject({ method: 'GET', url: page })).body;
      const ids = [...html.matchAll(/<(?:input|textarea)[^>]*\sid="([^"]+)"/g)].map((m) => m[1]);
      assert.ok(ids.length > 0);
      for (const id of ids) {
        assert.match(
          html,
          new RegExp(`<label for="${id ?? ''}"`),
          `${page}: #${id ?? ''} has no label`,
        );
      }
    }
  });

  it('answers an unknown console file with 404 ERR_NOT_FOUND, never a file from elsewhere', async (t) => {
    const { app } = await build(t);
    for (const url of [
      '/console/nope.js',
      '/console/..%2Fpackage.json',
      '/console/%2e%2e%2fREADME.md',
      '/console/index.html',
    ]) {
      const response = await app.inject({ method: 'GET', url });
      assert.equal(response.statusCode, 404, url);
      assert.equal(response.json<{ error: string }>().error, 'ERR_NOT_FOUND');
    }
  });
});
