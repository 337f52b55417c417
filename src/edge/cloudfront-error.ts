import type { CloudFrontErrorCode } from '../core/verify.ts';

/**
 * The message CloudFront writes beside each code in the XML body of its 403, word for word as
 * its edges answer (the 403 itself says no more than this; the edge adds `x-cfsign-reason`).
 */
export const CLOUDFRONT_ERROR_MESSAGE = {
  MissingKey: 'Missing Key-Pair-Id query parameter or cookie value',
  InvalidKey: 'Unknown Key',
  MalformedSignature: 'Could not unencode Signature',
  MalformedPolicy: 'Malformed Policy',
  AccessDenied: 'Access denied',
} as const satisfies Record<CloudFrontErrorCode, string>;

/** CloudFront's error bodies are `text/xml`, one line, no trailing newline. */
export const XML_CONTENT_TYPE = 'text/xml';

function errorXml(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

/** The body CloudFront sends with a 403 for a refused signed URL or signed cookies. */
export function cloudFrontErrorBody(code: CloudFrontErrorCode): string {
  return errorXml(code, CLOUDFRONT_ERROR_MESSAGE[code]);
}

/** What an S3 origin answers, through CloudFront, for a key it does not hold. */
export const NO_SUCH_KEY_BODY = errorXml('NoSuchKey', 'The specified key does not exist.');
