import { SignerError } from '../errors.ts';
import { findJsonKeyProblem } from '../core/json-keys.ts';
import { quoteInput } from '../core/quote-input.ts';

function invalid(message: string): SignerError {
  return new SignerError('ERR_REQUEST_INVALID', message);
}

/**
 * JSON.parse, strictly: a syntax error, a duplicated key or a prototype key is a 400
 * `ERR_REQUEST_INVALID`, never a silently merged or last-one-wins object.
 */
export function parseStrictJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid('the body is not valid JSON');
  }
  const problem = findJsonKeyProblem(text);
  if (problem?.kind === 'forbidden') {
    throw invalid(`the body uses the reserved key ${quoteInput(problem.key)}`);
  }
  if (problem?.kind === 'duplicate') {
    throw invalid(`the body has the key ${quoteInput(problem.key)} twice in one object`);
  }
  return value;
}
