/**
 * The empty-route ceiling: a bare Fastify server (the framework cfsign is built on, no logger,
 * no hooks) whose one route answers a constant. Whatever cfsign does per request can only go
 * slower than this on the same machine. Environment: HOST, PORT. Started by bench/run.ts.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });

app.get('/empty', () => ({ signed_url: '' }));

await app.listen({
  host: process.env['HOST'] ?? '127.0.0.1',
  port: Number(process.env['PORT'] ?? 0),
});
process.stdout.write('empty: Server listening at\n');

process.once('SIGINT', () => {
  void app.close();
});
