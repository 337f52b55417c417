/**
 * The signing floor: the least a Fastify signing route can do and still answer with a working
 * canned-policy link. A bearer-token check, an encoded key, one async `crypto.sign` over a
 * KeyObject parsed once, and nothing else: no logger, no hooks, no validation, no limits, no
 * metrics, no audit. cfsign does all of those per request, so on the same machine it can only
 * approach this figure, never pass it. It shows how much of the raw limit any Fastify server
 * can turn into links once HTTP and the load generator take their share of the cores.
 *
 * Environment: CLOUDFRONT_URL, CLOUDFRONT_KEY_PAIR_ID, PRIVATE_KEY_PATH, BENCH_TOKEN,
 * BENCH_HASH (sha1 | sha256), HOST, PORT. Started by bench/run.ts, which verifies its links.
 */
import { createPrivateKey, sign } from 'node:crypto';
import Fastify from 'fastify';
import { readReferenceSettings } from './reference-settings.ts';

const settings = readReferenceSettings();
const { distributionUrl, keyPairId, expectedAuthorization, hash } = settings;
const privateKey = createPrivateKey(settings.privateKeyPem);
const hashParameter = hash === 'sha256' ? '&Hash-Algorithm=SHA256' : '';
const CLOUDFRONT_ALPHABET: Record<string, string> = { '+': '-', '=': '_', '/': '~' };

const app = Fastify({ logger: false });

app.get('/healthz', () => ({ status: 'ok' }));

app.get('/generate-signed-url', (request, reply) => {
  const objectKey = (request.query as { object_key?: unknown }).object_key;
  if (request.headers.authorization !== expectedAuthorization) {
    void reply.code(401).send({ error: 'unauthorized' });
    return;
  }
  if (typeof objectKey !== 'string' || objectKey === '') {
    void reply.code(400).send({ error: 'object_key is required' });
    return;
  }
  const url = `${distributionUrl}/${encodeURIComponent(objectKey).replace(/%2F/g, '/')}`;
  const expires = Math.floor(Date.now() / 1000) + 3600;
  const policy = `{"Statement":[{"Resource":"${url}","Condition":{"DateLessThan":{"AWS:EpochTime":${expires}}}}]}`;
  sign(hash, Buffer.from(policy), privateKey, (error, signature) => {
    if (error !== null) {
      void reply.code(500).send({ error: 'internal error' });
      return;
    }
    const encoded = signature
      .toString('base64')
      .replace(/[+=/]/g, (c) => CLOUDFRONT_ALPHABET[c] ?? c);
    void reply.send({
      signed_url: `${url}?Expires=${expires}&Signature=${encoded}&Key-Pair-Id=${keyPairId}${hashParameter}`,
    });
  });
});

await app.listen({
  host: process.env['HOST'] ?? '127.0.0.1',
  port: Number(process.env['PORT'] ?? 0),
});
process.stdout.write('floor: Server listening at\n');

process.once('SIGINT', () => {
  void app.close();
});
