import { randomUUID } from 'node:crypto';
import { realpath, stat } from 'node:fs/promises';
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import fastifyStatic from '@fastify/static';
import replyFrom from '@fastify/reply-from';
import type { DestinationStream, LevelWithSilent } from 'pino';
import { SignerError } from '../errors.ts';
import { verifyCookies, verifyUrl, type KeyLookup, type Verdict } from '../core/verify.ts';
import { QUERY } from '../core/wire-names.ts';
import { cloudFrontErrorBody, NO_SUCH_KEY_BODY, XML_CONTENT_TYPE } from './cloudfront-error.ts';
import { findFileUnderRoot } from './file-under-root.ts';
import { pathOf, viewerUrl } from './viewer-url.ts';

/** What the edge serves: files below a folder (an S3 bucket's stand-in) or an origin server. */
export type EdgeContent = { root: string; origin?: never } | { origin: string; root?: never };

export type BuildEdgeOptions = EdgeContent & {
  /** The public keys of the distribution's trusted key group, by Key-Pair-Id. */
  keys: KeyLookup;
  /** The clock; tests pass a fixed one. */
  now?: () => Date;
  /** Where JSON log lines go (default stdout); tests capture them. */
  logStream?: DestinationStream;
  logLevel?: LevelWithSilent;
};

/** The Fastify instance of an edge. */
export type Edge = FastifyInstance;

/** A distribution's default allowed methods; CloudFront refuses the others with a 403. */
const ALLOWED_METHODS = new Set(['GET', 'HEAD']);

/** `bytes=` and one or more ranges (`0-99`, `100-`, `-500`): the only Range a file answers. */
const BYTE_RANGES = /^bytes=(\d+-\d*|-\d+)(\s*,\s*(\d+-\d*|-\d+))*$/;

/** The longest header value the edge writes; a reason is one sentence. */
const MAX_REASON_LENGTH = 1000;

const CLOUDFRONT_QUERY_NAMES = new Set<string>(Object.values(QUERY));

/** Whether CloudFront would read this URL as a signed URL (and so never look at cookies). */
function carriesSignedUrlParameters(url: string): boolean {
  const queryStart = url.indexOf('?');
  if (queryStart === -1) return false;
  return url
    .slice(queryStart + 1)
    .split('&')
    .some((pair) => CLOUDFRONT_QUERY_NAMES.has(pair.split('=', 1)[0] ?? ''));
}

/** What each request did, for its one log line. */
interface Outcome {
  credential?: 'url' | 'cookies';
  keyPairId?: string;
  failure?: string;
}

/** A header value: printable ASCII only (Node refuses the rest), and bounded. */
function headerValue(text: string): string {
  return text
    .replace(/…/g, '...')
    .replace(/[^\x20-\x7E]/g, '?')
    .slice(0, MAX_REASON_LENGTH);
}

async function resolveRoot(root: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(root);
  } catch {
    throw new SignerError('ERR_USAGE', 'the root folder does not exist');
  }
  if (!(await stat(real)).isDirectory()) {
    throw new SignerError('ERR_USAGE', 'the root is not a folder');
  }
  return real;
}

/** Where accepted requests go, checked once when the edge is built. */
type Source = { kind: 'root'; root: string } | { kind: 'origin'; base: string; originPath: string };

/** The origin as a base (scheme, host, port) and a path every request is prefixed with. */
function parseOrigin(origin: string): { base: string; originPath: string } {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new SignerError('ERR_USAGE', 'the origin must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SignerError('ERR_USAGE', 'the origin must be an http or https URL');
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new SignerError(
      'ERR_USAGE',
      'the origin must be scheme, host, port and an optional path: no query, fragment or credentials',
    );
  }
  return { base: url.origin, originPath: url.pathname.replace(/\/+$/, '') };
}

/**
 * Builds a local stand-in for a CloudFront distribution whose behaviour restricts viewer
 * access, without listening: every GET or HEAD is judged by verifyUrl (when the URL carries
 * CloudFront's parameters) or verifyCookies, against the URL the viewer asked for (`http://`
 * + its Host header + the path and query). A refusal is CloudFront's 403 with its XML body,
 * plus the precise reason in `x-cfsign-reason` and the failure in `x-cfsign-failure`. An
 * accepted request is served, without CloudFront's query parameters, from `root` (ranges,
 * HEAD, ETag, Last-Modified, content types) or proxied to `origin`. Never logs a query string,
 * a cookie, a signature or a policy.
 *
 * @throws {SignerError} `ERR_USAGE` when both or neither of root and origin are given, the root
 *   is not a folder, or the origin is not an http(s) URL
 */
export async function buildEdge(options: BuildEdgeOptions): Promise<Edge> {
  const { keys } = options;
  const now = options.now ?? (() => new Date());
  if ((options.root === undefined) === (options.origin === undefined)) {
    throw new SignerError('ERR_USAGE', 'give the edge either a root folder or an origin URL');
  }
  const source: Source =
    options.root === undefined
      ? { kind: 'origin', ...parseOrigin(options.origin) }
      : { kind: 'root', root: await resolveRoot(options.root) };

  const app = Fastify({
    logger: {
      level: options.logLevel ?? 'info',
      name: 'cfsign-edge',
      // Should Fastify itself log a request, only its method and path: never the query.
      serializers: {
        req: (request) => ({ method: request.method, url: pathOf(request.url) }),
      },
      redact: { paths: ['req.headers', 'res.headers'], censor: '[redacted]' },
      ...(options.logStream === undefined ? {} : { stream: options.logStream }),
    },
    // The edge writes its own single line per request (onResponse below).
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    // A person's Ctrl-C ends a video stream in progress too, rather than waiting for it.
    forceCloseConnections: true,
    // A signed URL can be 8 KiB long; the wildcard route must take it whole.
    routerOptions: { maxParamLength: 16 * 1024 },
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      // Fastify's message would quote the URL; the reason is said without it.
      const reason =
        error.code === 'FST_ERR_BAD_URL' ? 'the path has an invalid percent escape' : 'bad request';
      void reply
        .code(400)
        .header('x-cfsign-reason', reason)
        .type('text/plain; charset=utf-8')
        .send('bad request\n');
      request.log.debug({ code: error.code }, 'framework error');
    },
  });

  const outcomes = new WeakMap<FastifyRequest, Outcome>();

  if (source.kind === 'root') {
    // serve: false: only the handler below, after a valid signature, sends a file.
    await app.register(fastifyStatic, {
      root: source.root,
      serve: false,
      index: false,
      list: false,
      redirect: false,
      dotfiles: 'ignore',
    });
  } else {
    await app.register(replyFrom, { base: source.base, disableRequestLogging: true });
  }

  function refuse(reply: FastifyReply, verdict: Verdict): FastifyReply {
    const code = verdict.cloudFrontError ?? 'AccessDenied';
    return (
      reply
        .code(403)
        .header('content-type', XML_CONTENT_TYPE)
        .header('x-cfsign-reason', headerValue(verdict.reason))
        .header('x-cfsign-failure', verdict.failure ?? 'MALFORMED_URL')
        // A fixed cookie will be sent to this same URL: a cached refusal would hide it.
        .header('cache-control', 'no-store')
        .send(cloudFrontErrorBody(code))
    );
  }

  function notFound(reply: FastifyReply, reason: string): FastifyReply {
    return reply
      .code(404)
      .header('content-type', XML_CONTENT_TYPE)
      .header('x-cfsign-reason', headerValue(reason))
      .header('cache-control', 'no-store')
      .send(NO_SUCH_KEY_BODY);
  }

  function judge(request: FastifyRequest, url: string, outcome: Outcome): Verdict {
    const viewer = request.socket.remoteAddress;
    const verifyOptions = {
      keys,
      now: now(),
      // CloudFront compares the bytes it received, not the form a browser would have sent.
      asReceived: true,
      ...(viewer === undefined ? {} : { ipAddress: viewer }),
    };
    const cookie = request.headers.cookie;
    // URL parameters win: CloudFront judges such a URL as a signed URL and ignores cookies.
    if (cookie === undefined || carriesSignedUrlParameters(url)) {
      outcome.credential = 'url';
      return verifyUrl(url, verifyOptions);
    }
    outcome.credential = 'cookies';
    return verifyCookies(url, cookie, verifyOptions);
  }

  async function serve(
    request: FastifyRequest,
    reply: FastifyReply,
    granted: URL,
  ): Promise<FastifyReply> {
    if (source.kind === 'root') {
      const file = await findFileUnderRoot(source.root, granted.pathname);
      if (!file.found) return notFound(reply, file.reason);
      // A Range that does not parse is ignored (RFC 9110, 14.2), not answered with a 416.
      const range = request.raw.headers.range;
      if (range !== undefined && !BYTE_RANGES.test(range)) delete request.raw.headers.range;
      return reply.sendFile(file.path);
    }
    const viewer = request.socket.remoteAddress ?? '';
    return reply.from(`${source.originPath}${granted.pathname}`, {
      // CloudFront removes its own parameters and forwards the rest of the query.
      queryString: () => granted.search.slice(1),
      // Like a behavior's default origin request policy: the viewer's cookies (the signed
      // ones among them) and credentials stay at the edge, and so do forwarding headers a
      // viewer could forge; the origin learns the viewer's address from the edge alone.
      rewriteRequestHeaders: (_request, headers) => {
        const {
          cookie: _cookie,
          authorization: _authorization,
          forwarded: _forwardedStandard,
          'x-forwarded-for': _forwarded,
          'x-forwarded-host': _forwardedHost,
          'x-forwarded-proto': _forwardedProto,
          ...rest
        } = headers;
        return { ...rest, 'x-forwarded-for': viewer };
      },
      onError: (failed, { error }) => {
        const { statusCode, code, cause } = error as {
          statusCode?: number;
          code?: string;
          cause?: { code?: string };
        };
        // As CloudFront: 504 when the origin was too slow, 502 for any other failure.
        const status = statusCode === 504 ? 504 : 502;
        const why = cause?.code ?? code ?? 'error';
        request.log.warn({ code: why, status }, 'the origin did not answer');
        void failed
          .code(status)
          .header('x-cfsign-reason', headerValue(`the origin did not answer (${why})`))
          .header('cache-control', 'no-store')
          .type('text/plain; charset=utf-8')
          .send(`bad gateway (request ${request.id})\n`);
      },
    });
  }

  /** As a distribution with the default allowed methods answers anything but GET and HEAD. */
  function refuseMethod(
    request: FastifyRequest,
    reply: FastifyReply,
    outcome: Outcome,
  ): FastifyReply {
    outcome.failure = 'METHOD_NOT_ALLOWED';
    return reply
      .code(403)
      .header('x-cfsign-reason', `the edge allows only GET and HEAD, not ${request.method}`)
      .header('cache-control', 'no-store')
      .type('text/plain; charset=utf-8')
      .send(
        'This distribution is not configured to allow the HTTP request method that was used for this request. The distribution supports only cachable requests.\n',
      );
  }

  // Every method reaches the handler, which refuses all but GET and HEAD as CloudFront does.
  app.all('/*', async (request, reply) => {
    const outcome: Outcome = {};
    outcomes.set(request, outcome);
    if (!ALLOWED_METHODS.has(request.method)) return refuseMethod(request, reply, outcome);
    // Node keeps the first of two Host headers; which one a proxy honours is anyone's guess.
    const hosts = request.raw.rawHeaders.filter(
      (_value, index, raw) => index % 2 === 0 && raw[index]?.toLowerCase() === 'host',
    );
    const url =
      hosts.length === 1
        ? viewerUrl('http', request.headers.host, request.raw.url ?? '')
        : undefined;
    if (url === undefined) {
      outcome.failure = 'BAD_REQUEST';
      return reply
        .code(400)
        .header('x-cfsign-reason', 'the request needs one valid Host header and a path')
        .type('text/plain; charset=utf-8')
        .send('bad request\n');
    }
    const verdict = judge(request, url, outcome);
    if (verdict.keyPairId !== undefined) outcome.keyPairId = verdict.keyPairId;
    if (!verdict.valid || verdict.requestUrl === undefined) {
      outcome.failure = verdict.failure ?? 'MALFORMED_URL';
      return refuse(reply, verdict);
    }
    return serve(request, reply, new URL(verdict.requestUrl));
  });

  // Reached for methods the router does not route (PROPFIND, MKCOL, …), and when a file
  // vanished between the check and the send.
  app.setNotFoundHandler((request, reply) => {
    if (!ALLOWED_METHODS.has(request.method)) {
      const outcome: Outcome = {};
      outcomes.set(request, outcome);
      return refuseMethod(request, reply, outcome);
    }
    return notFound(reply, 'no such file under the root');
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) request.log.error({ code: error.code }, 'edge error');
    // A 416 from the file sender carries `Content-Range: bytes */size`, which players read.
    const { headers } = error as { headers?: Record<string, string> };
    if (status < 500 && headers !== undefined) void reply.headers(headers);
    void reply
      .code(status)
      .header('cache-control', 'no-store')
      .type('text/plain; charset=utf-8')
      .send(status >= 500 ? `internal error (request ${request.id})\n` : `${error.message}\n`);
  });

  app.addHook('onResponse', async (request, reply) => {
    const outcome = outcomes.get(request) ?? {};
    // The one line per request: the path only, never the query, a cookie or a signature.
    request.log.info(
      {
        method: request.method,
        path: pathOf(request.raw.url ?? ''),
        status: reply.statusCode,
        ...outcome,
        latencyMs: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request',
    );
  });

  await app.ready();
  return app;
}
