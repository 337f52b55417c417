import { randomUUID } from 'node:crypto';
import type { DestinationStream } from 'pino';
import Fastify, { LogController, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { SignerError } from '../errors.ts';
import { packageVersion } from '../version.ts';
import { quoteInput } from '../core/quote-input.ts';
import type { ServiceConfig } from '../config/service-config.ts';
import type { Keyring } from '../keys/keyring.ts';
import { createAuthenticator } from './auth.ts';
import type { App, ServerContext } from './context.ts';
import { createErrorHandler } from './error-handler.ts';
import { createMetrics } from './metrics.ts';
import { parseQueryString, QUERY_PROBLEM, type ParsedQuery } from './query-string.ts';
import { registerGenerateSignedUrl } from './routes/generate-signed-url.ts';
import { registerOperations } from './routes/operations.ts';
import { registerSignedCookies } from './routes/signed-cookies.ts';
import { registerSignedUrls } from './routes/signed-urls.ts';
import { registerVerify } from './routes/verify.ts';
import { createSigner } from './signer.ts';
import { parseStrictJson } from './strict-json.ts';

export interface BuildServerOptions {
  config: ServiceConfig;
  keyring: Keyring;
  /** The clock; tests pass a fixed one. */
  now?: () => Date;
  /** Where JSON log lines go (default stdout); tests capture them. */
  logStream?: DestinationStream;
  /** Adds Node.js process metrics (start.ts turns this on; tests leave it off). */
  processMetrics?: boolean;
}

/** Paths redacted from every log line, should any of them ever be logged. */
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  'token',
  'signed_url',
  'url',
  'cookies',
  'policy',
];

/**
 * Builds the service without listening: every route, schema, hook and the error handler, over
 * a keyring that is already loaded. start.ts is the only caller of listen().
 */
export async function buildServer(options: BuildServerOptions): Promise<App> {
  const { config, keyring } = options;
  const now = options.now ?? (() => new Date());
  const metrics = createMetrics({ processMetrics: options.processMetrics ?? false });
  const context: ServerContext = {
    config,
    keyring,
    metrics,
    now,
    signer: createSigner(config, keyring, metrics, now),
    authenticate: createAuthenticator(config.auth),
    state: { draining: false },
  };

  const app: App = Fastify({
    logger: {
      level: config.logLevel,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      ...(options.logStream === undefined ? {} : { stream: options.logStream }),
    },
    // cfsign writes its own single line per request (onResponse below).
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    bodyLimit: config.bodyLimitBytes,
    connectionTimeout: 30_000,
    keepAliveTimeout: 5_000,
    requestTimeout: 30_000,
    return503OnClosing: true,
    routerOptions: { querystringParser: parseQueryString, maxParamLength: 200 },
    ajv: {
      // Security inputs are never coerced, defaulted or silently stripped.
      customOptions: {
        coerceTypes: false,
        removeAdditional: false,
        useDefaults: false,
        allErrors: false,
      },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('cfsign', context);
  app.decorateRequest('caller', undefined);
  app.decorateRequest('keyPairId', undefined);

  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseStrictJson(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  app.setErrorHandler(createErrorHandler(metrics));
  app.setNotFoundHandler((request: FastifyRequest) => {
    const path = request.url.split('?')[0] ?? '';
    throw new SignerError('ERR_NOT_FOUND', `no route ${request.method} ${quoteInput(path, 100)}`);
  });

  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.signing !== true) return;
    // Links and cookies must never be cached by a browser or a proxy, errors included.
    void reply.header('cache-control', 'no-store');
    request.caller = context.authenticate(request);
  });
  app.addHook('preValidation', async (request) => {
    const problem = (request.query as ParsedQuery | undefined)?.[QUERY_PROBLEM];
    if (problem !== undefined) throw new SignerError('ERR_REQUEST_INVALID', problem);
  });
  app.addHook('onSend', async (_request, reply) => {
    // While draining, each finished request also closes its connection, so shutdown need not
    // wait for keep-alive connections to time out.
    if (context.state.draining) void reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { route, method: request.method, status: String(reply.statusCode) };
    metrics.requests.inc(labels);
    metrics.latency.observe(labels, reply.elapsedTime / 1000);
    // The one log line per request: never the token, the link, the policy or a key path.
    request.log.info(
      {
        client: request.caller?.client,
        route,
        method: request.method,
        status: reply.statusCode,
        latencyMs: Math.round(reply.elapsedTime * 10) / 10,
        keyPairId: request.keyPairId,
      },
      'request',
    );
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'cfsign',
        description:
          'CloudFront signed URLs and cookies that CloudFront accepts and that grant exactly what was asked.',
        version: packageVersion(),
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      },
      security: config.auth.mode === 'tokens' ? [{ bearer: [] }] : [],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  registerGenerateSignedUrl(app, context);
  registerSignedUrls(app, context);
  registerSignedCookies(app, context);
  registerVerify(app, context);
  registerOperations(app, context);
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());

  await app.ready();
  return app;
}

declare module 'fastify' {
  interface FastifyInstance {
    cfsign: ServerContext;
  }
}

export type { TypeBoxTypeProvider };
