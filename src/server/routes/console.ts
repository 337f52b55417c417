import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyReply } from 'fastify';
import type { App } from '../context.ts';

/** The console's files, beside src/ and dist/ alike (both are three levels below the root). */
const CONSOLE_DIRECTORY = fileURLToPath(new URL('../../../console/', import.meta.url));

const MEDIA_TYPES = {
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
} as const;

/**
 * Only this origin's scripts, styles and API; no inline script, no framing, no form posts
 * elsewhere. The console handles tokens and signed links, so nothing else may run beside it.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  body: Buffer;
  type: string;
}

function asset(path: string, type: string): Asset {
  return { body: readFileSync(path), type };
}

/** Every file the console serves, read once when the server is built: none is read per request. */
function loadAssets(): ReadonlyMap<string, Asset> {
  const qrcodeModule = join(
    dirname(createRequire(import.meta.url).resolve('qrcode-generator')),
    'qrcode.mjs',
  );
  return new Map([
    ['', asset(join(CONSOLE_DIRECTORY, 'index.html'), MEDIA_TYPES.html)],
    ['inspect', asset(join(CONSOLE_DIRECTORY, 'inspect.html'), MEDIA_TYPES.html)],
    ['console.css', asset(join(CONSOLE_DIRECTORY, 'console.css'), MEDIA_TYPES.css)],
    ['api.js', asset(join(CONSOLE_DIRECTORY, 'api.js'), MEDIA_TYPES.js)],
    ['sign.js', asset(join(CONSOLE_DIRECTORY, 'sign.js'), MEDIA_TYPES.js)],
    ['inspect.js', asset(join(CONSOLE_DIRECTORY, 'inspect.js'), MEDIA_TYPES.js)],
    ['qrcode.mjs', asset(qrcodeModule, MEDIA_TYPES.js)],
  ]);
}

/**
 * `GET /console/`: a web page to sign links and cookies and to inspect a link, over the same API
 * and the same authentication as every other client. It serves static files only.
 */
export function registerConsole(app: App): void {
  const assets = loadAssets();
  app.get('/console', { schema: { hide: true } }, async (_request, reply) =>
    reply.redirect('/console/', 308),
  );
  const serve = async (file: string, reply: FastifyReply) => {
    const found = assets.get(file);
    if (found === undefined) {
      reply.callNotFound();
      return reply;
    }
    return reply
      .header('content-type', found.type)
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache')
      .send(found.body);
  };
  app.get('/console/', { schema: { hide: true } }, async (_request, reply) => serve('', reply));
  app.get<{ Params: { file: string } }>(
    '/console/:file',
    { schema: { hide: true } },
    async (request, reply) => serve(request.params.file, reply),
  );
}
