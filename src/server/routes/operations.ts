import { Type } from 'typebox';
import type { App, ServerContext } from '../context.ts';

const StatusSchema = Type.Object({ status: Type.String() }, { additionalProperties: false });

/** Liveness, readiness and metrics: unauthenticated, cheap, and free of secrets. */
export function registerOperations(app: App, context: ServerContext): void {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness: the process is up',
        tags: ['operations'],
        security: [],
        response: { 200: StatusSchema },
      },
    },
    () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: configuration valid, keys loaded, not shutting down',
        tags: ['operations'],
        security: [],
        response: { 200: StatusSchema, 503: StatusSchema },
      },
    },
    async (_request, reply) => {
      if (context.state.draining) return reply.code(503).send({ status: 'draining' });
      return { status: 'ready' };
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics',
        tags: ['operations'],
        security: [],
        produces: ['text/plain'],
        response: { 200: Type.String() },
      },
    },
    async (_request, reply) => {
      const text = await context.metrics.registry.metrics();
      return reply.type(context.metrics.registry.contentType).send(text);
    },
  );
}
