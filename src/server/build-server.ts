import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { pino, type DestinationStream } from 'pino';
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { SignerError } from '../errors.ts';
import { packageVersion } from '../version.ts';
import { quoteInput } from '../core/quote-input.ts';
import type { ServiceConfig } from '../config/service-config.ts';
import type { Keyring } from '../keys/keyring.ts';
import { createSigningGate } from './signing-gate.ts';
import { createLimiter, limitAddress } from './limits.ts';
import { createLiveKeys, type App, type ServerContext } from './context.ts';
import { createErrorHandler } from './error-handler.ts';
import { createMetrics } from './metrics.ts';
import { parseQueryString, QUERY_PROBLEM, type ParsedQuery } from './query-string.ts';
import { registerConsole } from './routes/console.ts';
import { registerGenerateSignedUrl } from './routes/generate-signed-url.ts';
import { registerInspect } from './routes/inspect.ts';
import { registerOperations } from './routes/operations.ts';
import { registerSignedCookies } from './routes/signed-cookies.ts';
import { registerSignedUrls } from './routes/signed-urls.ts';
import { registerVerify } from './routes/verify.ts';
import { parseStrictJson } from './strict-json.ts';

export interface BuildServerOptions {
  config: ServiceConfig;
  /** Loaded keys by distribution name (see loadKeyrings). */
  keyrings: ReadonlyMap<string, Keyring>;
  /** The clock; tests pass a fixed one. */
  now?: () => Date;
  /** Where JSON log lines go (default stdout); tests capture them. */
  logStream?: DestinationStream;
  /** Adds Node.js process metrics (start.ts turns this on; tests leave it off). */
  processMetrics?: boolean;
}

/**
 * Standard output, written synchronously: one write per line, on the event loop. pino's
 * default writes asynchronously on libuv's pool, 16 KiB at a time, behind every signature
 * queued there: under sustained signing the log fell ever further behind and its backlog grew
 * in memory without bound (and larger writes make each buffered line dearer to append). A
 * line is on its way once logged, and a slow reader slows the service instead of filling it.
 */
function stdoutLog(): DestinationStream {
  return pino.destination({ dest: 1, sync: true });
}

/** Paths redacted from every log line, should any of them ever be logged. */
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

function notFound(request: FastifyRequest): SignerError {
  const path = request.url.split('?')[0] ?? '';
  return new SignerError('ERR_NOT_FOUND', `no route ${request.method} ${quoteInput(path, 100)}`);
}

/**
 * The body as text: UTF-8 only, and invalid UTF-8 is refused rather than turned into U+FFFD
 * (which would sign a different key than the caller sent).
 */
function decodeJsonBody(contentType: string | undefined, body: Buffer): string {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '')?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new SignerError(
      'ERR_MEDIA_TYPE_UNSUPPORTED',
      'send the body as application/json in UTF-8',
    );
  }
  try {
    return STRICT_UTF8.decode(body);
  } catch {
    throw new SignerError('ERR_REQUEST_INVALID', 'the body is not valid UTF-8');
  }
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Errors Fastify raises before routing, such as a URL with invalid percent escapes. */
function answerFrameworkError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const message =
    error.code === 'FST_ERR_BAD_URL' ? 'the URL has invalid percent escapes' : 'bad request';
  void reply
    .code(400)
    .header('content-type', 'application/json; charset=utf-8')
    .send(JSON.stringify({ error: 'ERR_REQUEST_INVALID', message, requestId: request.id }));
}

/** Request line and headers together; the longest legitimate request is well under 8 KiB. */
export const MAX_HEADER_BYTES = 16 * 1024;

/** Errors Node's HTTP parser raises before Fastify sees a request (bad framing, huge headers). */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable) return;
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const body = JSON.stringify({
    error: 'ERR_REQUEST_INVALID',
    message: tooLarge ? 'the request headers are too large' : 'the request is not valid HTTP',
    requestId: randomUUID(),
  });
  const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Builds the service without listening: every route, schema, hook and the error handler, over
 * keyrings that are already loaded. start.ts is the only caller of listen().
 */
export async function buildServer(options: BuildServerOptions): Promise<App> {
  const { config, keyrings } = options;
  const now = options.now ?? (() => new Date());
  const gate = createSigningGate(config.maxSigningInFlight);
  const metrics = createMetrics({
    processMetrics: options.processMetrics ?? false,
    signingInFlight: () => gate.inFlight,
  });

  const app: App = Fastify({
    logger: {
      level: config.logLevel,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      stream: options.logStream ?? stdoutLog(),
    },
    // cfsign writes its own single line per request (onResponse below).
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    bodyLimit: config.bodyLimitBytes,
    // Stated rather than inherited: headers beyond this get 431 before any route runs.
    http: { maxHeaderSize: MAX_HEADER_BYTES },
    connectionTimeout: 30_000,
    keepAliveTimeout: 5_000,
    requestTimeout: 30_000,
    // A request that reaches a route after close() began came on a connection the listener had
    // already accepted: it is served (and its response closes the connection, see onSend) rather
    // than answered with Fastify's bare 503, which has no request id, Retry-After or no-store.
    return503OnClosing: false,
    // A HEAD would sign, audit and spend a token for a link nobody receives.
    exposeHeadRoutes: false,
    routerOptions: { querystringParser: parseQueryString, maxParamLength: 200 },
    // Malformed URLs and HTTP framing get the same error shape as everything else.
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
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

  const context: ServerContext = {
    config,
    live: createLiveKeys(config, keyrings, metrics, now),
    metrics,
    gate,
    limiter: await createLimiter(config, app.log),
    now,
    audit: app.log.child({}, { level: 'info' }),
    state: { draining: false },
  };
  app.addHook('onClose', () => context.limiter.close());

  app.decorate('cfsign', context);
  app.decorateRequest('caller', undefined);
  app.decorateRequest('live', undefined);
  app.decorateRequest('keyPairId', undefined);

  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    try {
      done(null, parseStrictJson(decodeJsonBody(request.headers['content-type'], body as Buffer)));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  app.setErrorHandler(createErrorHandler(metrics));
  app.setNotFoundHandler((request: FastifyRequest) => {
    throw notFound(request);
  });

  app.addHook('onRequest', async (request, reply) => {
    // Unknown routes are answered before their body is read.
    if (request.is404) throw notFound(request);
    const problem = (request.query as ParsedQuery | undefined)?.[QUERY_PROBLEM];
    if (request.routeOptions.config.signing !== true) {
      if (problem !== undefined) throw new SignerError('ERR_REQUEST_INVALID', problem);
      return;
    }
    // Links and cookies must never be cached by a browser or a proxy, errors included.
    void reply.header('cache-control', 'no-store');
    await limitAddress(context.limiter, request, config.rateLimit.ip);
    // One snapshot per request: a reload never mixes old and new keys or rules in one request.
    request.live = context.live;
    request.caller = request.live.authenticate(request);
    // A malformed query string is reported once the caller is known to be allowed to ask.
    if (problem !== undefined) throw new SignerError('ERR_REQUEST_INVALID', problem);
  });
  // The two hooks every request runs take Fastify's callback form: an async hook costs a
  // promise and a microtask turn per request, for work that never waits.
  app.addHook('onSend', (_request, reply, payload, done) => {
    // While draining, each finished request also closes its connection, so shutdown need not
    // wait for keep-alive connections to time out.
    if (context.state.draining) void reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { route, method: request.method, status: String(reply.statusCode) };
    metrics.requests.inc(labels);
    metrics.latency.observe(labels, reply.elapsedTime / 1000);
    // The one log line per request: never the token, the link, the policy or a key path.
    request.log.info(
      {
        client: request.caller?.name,
        route,
        method: request.method,
        status: reply.statusCode,
        latencyMs: Math.round(reply.elapsedTime * 10) / 10,
        keyPairId: request.keyPairId,
      },
      'request',
    );
    done();
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
      security: config.auth === 'tokens' ? [{ bearer: [] }] : [],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  registerGenerateSignedUrl(app, context);
  registerSignedUrls(app, context);
  registerSignedCookies(app, context);
  registerVerify(app, context);
  registerInspect(app, context);
  registerOperations(app, context);
  registerConsole(app);
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
