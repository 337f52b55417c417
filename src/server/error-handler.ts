import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { SignerError, type ErrorCode } from '../errors.ts';
import { quoteInput } from '../core/quote-input.ts';
import { HTTP_STATUS_FOR_ERROR } from './http-status.ts';
import type { ServiceMetrics } from './metrics.ts';

interface ValidationIssue {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/** Messages for fields whose schema keyword alone would not tell a caller what to send. */
const FIELD_HINTS: Readonly<Record<string, string>> = {
  'querystring.ttl':
    'must be a whole number of seconds, 1 or more, without sign, decimals or exponent',
  'querystring.object_key': 'must be one non-empty object key of at most 1,024 characters',
};

function describeValidation(context: string, issue: ValidationIssue): string {
  const where = `${context}${issue.instancePath.replace(/\//g, '.')}`;
  const noun = context === 'querystring' ? 'parameter' : 'field';
  switch (issue.keyword) {
    case 'additionalProperties':
      return `${where}: unknown ${noun} ${quoteInput(String(issue.params['additionalProperty']))}`;
    case 'required':
      return `${where}: missing required ${noun} ${quoteInput(String(issue.params['missingProperty']))}`;
    default: {
      const hint = FIELD_HINTS[where];
      return `${where} ${hint ?? issue.message ?? 'is invalid'}`;
    }
  }
}

interface Described {
  status: number;
  code: ErrorCode;
  message: string;
}

function describe(error: FastifyError | SignerError | Error): Described {
  if (error instanceof SignerError) {
    return { status: HTTP_STATUS_FOR_ERROR[error.code], code: error.code, message: error.message };
  }
  const fastifyError = error as FastifyError & {
    validation?: ValidationIssue[];
    validationContext?: string;
  };
  const [issue] = fastifyError.validation ?? [];
  if (issue !== undefined) {
    return {
      status: 400,
      code: 'ERR_REQUEST_INVALID',
      message: describeValidation(fastifyError.validationContext ?? 'request', issue),
    };
  }
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return {
      status: 413,
      code: 'ERR_BODY_TOO_LARGE',
      message: 'the request body is larger than this service accepts',
    };
  }
  if (fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return {
      status: 415,
      code: 'ERR_MEDIA_TYPE_UNSUPPORTED',
      message: 'send the body as application/json',
    };
  }
  const status = fastifyError.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return { status, code: 'ERR_REQUEST_INVALID', message: fastifyError.message };
  }
  return { status: 500, code: 'ERR_INTERNAL', message: 'internal error' };
}

/**
 * One error handler for every route: typed errors keep their code and status; schema failures
 * become ERR_REQUEST_INVALID naming the field; anything else is a 500 that says only
 * "internal error" and is logged with the request id.
 */
export function createErrorHandler(metrics: ServiceMetrics) {
  return (
    error: FastifyError | SignerError | Error,
    request: FastifyRequest,
    reply: FastifyReply,
  ) => {
    const described = describe(error);
    metrics.errors.inc({ code: described.code });
    // Shedding load is the service working as designed, not a fault worth an error line.
    if (described.status >= 500 && described.code !== 'ERR_OVERLOADED') {
      request.log.error({ err: error, code: described.code }, 'request failed');
    }
    if (described.status === 401) void reply.header('www-authenticate', 'Bearer');
    const retryAfter =
      error instanceof SignerError ? error.details?.['retryAfterSeconds'] : undefined;
    if (typeof retryAfter === 'number') void reply.header('retry-after', String(retryAfter));
    return reply.code(described.status).send({
      error: described.code,
      message: described.status >= 500 ? 'internal error' : described.message,
      requestId: request.id,
    });
  };
}
