import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildEdge, type Edge } from '../../src/edge/build-edge.ts';
import { RSA } from '../helpers/fixtures.ts';
import {
  assertAccepted,
  build,
  PRODUCTION_ENV,
  TOKENS,
  type TestServer,
} from '../helpers/server.ts';

// Debian's chromium, driven by playwright-core: no browser download (machines are offline).
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-gpu',
  '--disable-sync',
  '--no-first-run',
];

const VIDEO_BYTES = Buffer.from('not really a video, but every byte must arrive as it is\n');

/** A page on the edge that fetches files with whatever cookies the browser holds. */
const COOKIE_PAGE = `<!doctype html><html lang="en"><title>cookies</title><body><pre id="results"></pre>
<script>
(async () => {
  const lines = [];
  for (const path of ['/videos/a.txt', '/videos/b.txt', '/videos/sub/c.txt', '/private/secret.txt']) {
    const response = await fetch(path, { credentials: 'same-origin', cache: 'no-store' });
    lines.push(path + ' ' + response.status);
  }
  document.getElementById('results').textContent = lines.join('\\n');
})();
</script></body></html>`;

function writeRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'cfsign-console-'));
  mkdirSync(join(root, 'videos', 'sub'), { recursive: true });
  mkdirSync(join(root, 'private'));
  writeFileSync(join(root, 'videos', 'intro.txt'), VIDEO_BYTES);
  writeFileSync(join(root, 'videos', 'a.txt'), 'a\n');
  writeFileSync(join(root, 'videos', 'b.txt'), 'b\n');
  writeFileSync(join(root, 'videos', 'sub', 'c.txt'), 'c\n');
  writeFileSync(join(root, 'videos', 'page.html'), COOKIE_PAGE);
  writeFileSync(join(root, 'private', 'secret.txt'), 'secret\n');
  return root;
}

describe('the web console in a real browser, against a local edge', () => {
  let browser: Browser;
  let edge: Edge;
  let edgeOrigin: string;
  let root: string;

  before(async () => {
    root = writeRoot();
    edge = await buildEdge({
      root,
      keys: new Map([[RSA.keyPairId, RSA.publicKey]]),
      logLevel: 'silent',
    });
    await edge.listen({ host: '127.0.0.1', port: 0 });
    // Browsers treat loopback as a secure context, so the service's Secure cookies work over http.
    edgeOrigin = `http://localhost:${(edge.server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
    });
  });

  after(async () => {
    await browser.close();
    await edge.close();
    rmSync(root, { recursive: true, force: true });
  });

  /** The service, signing for the edge, listening on a real port; and a fresh browser tab. */
  async function open(
    t: Parameters<typeof build>[0],
  ): Promise<{ page: Page; origin: string; server: TestServer }> {
    const server = await build(t, { ...PRODUCTION_ENV, CLOUDFRONT_URL: edgeOrigin }, new Date());
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    const origin = `http://localhost:${(server.app.server.address() as AddressInfo).port}`;
    const context = await browser.newContext();
    t.after(() => context.close());
    const page = await context.newPage();
    await page.goto(`${origin}/console/`);
    await page.getByLabel('Bearer token').fill(TOKENS.web);
    return { page, origin, server };
  }

  it('signs a link the edge serves byte for byte, and explains the 403 of a tampered copy', async (t) => {
    const { page, origin } = await open(t);
    await page.getByLabel('Object key').fill('videos/intro.txt');
    await page.getByLabel('Lifetime in seconds').first().fill('600');
    await page.getByRole('button', { name: 'Sign URL' }).click();
    const output = page.getByRole('textbox', { name: 'Signed URL', exact: true });
    await output.waitFor();
    const link = await output.inputValue();
    assert.ok(link.startsWith(`${edgeOrigin}/videos/intro.txt?Expires=`), link);
    assertAccepted(link, new Date());
    const qr = await page
      .locator('#url-qr')
      .evaluate((canvas) => (canvas as unknown as { width: number }).width);
    assert.ok(qr > 0, 'no QR code was drawn');

    const opened = await page.context().request.get(link);
    assert.equal(opened.status(), 200);
    assert.deepEqual(await opened.body(), VIDEO_BYTES);

    const signature = /Signature=([^&]+)/.exec(link)?.[1] ?? '';
    const flipped = signature.startsWith('A') ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
    const tampered = link.replace(signature, flipped);
    const refused = await page.context().request.get(tampered);
    assert.equal(refused.status(), 403);
    assert.match(await refused.text(), /<Code>AccessDenied<\/Code>/);

    await page.getByRole('link', { name: 'Inspect' }).click();
    await page.waitForURL(`${origin}/console/inspect`);
    await page.getByLabel('Signed URL (or, with cookies, the URL requested)').fill(tampered);
    await page.getByRole('button', { name: 'Inspect' }).click();
    const verdict = page.locator('#verdict');
    await verdict.waitFor();
    assert.match(await verdict.innerText(), /^Refused: .*signature/i);
    assert.match(await page.locator('#countdown').innerText(), /^Expires in (9|10) min/);
    assert.match(await page.locator('#policy').innerText(), /"AWS:EpochTime"/);
  });

  it('sets signed cookies for videos/* that open every file below it on the edge, and nothing else', async (t) => {
    const { page } = await open(t);
    await page.getByLabel('Key pattern').fill('videos/*');
    await page.getByRole('button', { name: 'Sign cookies' }).click();
    await page.locator('#cookies-result').waitFor();
    assert.match(await page.locator('#cookies-table').innerText(), /CloudFront-Policy/);

    await page.goto(`${edgeOrigin}/videos/page.html`);
    const results = page.locator('#results');
    await page.waitForFunction("document.getElementById('results').textContent !== ''");
    assert.deepEqual((await results.innerText()).split('\n'), [
      '/videos/a.txt 200',
      '/videos/b.txt 200',
      '/videos/sub/c.txt 200',
      '/private/secret.txt 403',
    ]);
  });

  it('shows the service error when the token is wrong, and no link', async (t) => {
    const { page } = await open(t);
    await page.getByLabel('Bearer token').fill('not-the-token-0123456789');
    await page.getByLabel('Object key').fill('videos/intro.txt');
    await page.getByRole('button', { name: 'Sign URL' }).click();
    const alert = page.locator('#url-error');
    await alert.waitFor();
    assert.match(await alert.innerText(), /^ERR_AUTH_REQUIRED: a valid API token is required/);
    assert.equal(await page.locator('#url-result').isHidden(), true);
  });

  it('signs with the keyboard alone: every control is reachable and labelled', async (t) => {
    const { page } = await open(t);
    await page.getByLabel('Object key').focus();
    await page.keyboard.type('videos/a.txt');
    await page.keyboard.press('Enter');
    const output = page.getByRole('textbox', { name: 'Signed URL', exact: true });
    await output.waitFor();
    assertAccepted(await output.inputValue(), new Date());
    // The result takes focus, so a screen reader announces it.
    assert.equal(await page.evaluate('document.activeElement.id'), 'url-output');
  });
});
