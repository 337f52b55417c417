/**
 * The baseline: the signing endpoint as most Node users write it. node:http and
 * `@aws-sdk/cloudfront-signer`'s getSignedUrl, handed the PEM string on every request (so the
 * key is parsed on every request) and signing synchronously on the event loop.
 *
 * Environment: CLOUDFRONT_URL, CLOUDFRONT_KEY_PAIR_ID, PRIVATE_KEY_PATH, BENCH_TOKEN,
 * BENCH_HASH (sha1 | sha256), HOST, PORT. Started by bench/run.ts.
 */
import { createServer, type ServerResponse } from 'node:http';
import { getSignedUrl } from '@aws-sdk/cloudfront-signer';
import { readReferenceSettings } from './reference-settings.ts';

const settings = readReferenceSettings();
const { distributionUrl, keyPairId, expectedAuthorization } = settings;
const privateKey = settings.privateKeyPem;
const sha256 = settings.hash === 'sha256';

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

const server = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (url.pathname === '/healthz') {
    send(response, 200, { status: 'ok' });
    return;
  }
  if (url.pathname !== '/generate-signed-url' || request.method !== 'GET') {
    send(response, 404, { error: 'not found' });
    return;
  }
  if (request.headers.authorization !== expectedAuthorization) {
    send(response, 401, { error: 'unauthorized' });
    return;
  }
  const objectKey = url.searchParams.get('object_key');
  if (objectKey === null || objectKey === '') {
    send(response, 400, { error: 'object_key is required' });
    return;
  }
  try {
    const signedUrl = getSignedUrl({
      url: `${distributionUrl}/${objectKey}`,
      keyPairId,
      privateKey,
      dateLessThan: new Date(Date.now() + 3600 * 1000).toISOString(),
      ...(sha256 ? { algorithm: 'SHA256' as const } : {}),
    });
    send(response, 200, { signed_url: signedUrl });
  } catch (error) {
    send(response, 500, { error: error instanceof Error ? error.message : 'internal error' });
  }
});

server.listen(Number(process.env['PORT'] ?? 0), process.env['HOST'] ?? '127.0.0.1', () => {
  process.stdout.write('baseline: Server listening at\n');
});

process.once('SIGINT', () => {
  server.close();
  server.closeAllConnections();
});
