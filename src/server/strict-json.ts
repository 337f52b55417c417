import { SignerError } from '../errors.ts';
import { quoteInput } from '../core/quote-input.ts';

/** Keys that could reach an object's prototype if anything ever merged the body. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function invalid(message: string): SignerError {
  return new SignerError('ERR_REQUEST_INVALID', message);
}

/** Index just past the JSON string literal that starts at `start` (a `"`). */
function endOfString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const character = text[i];
    if (character === '\\') i += 2;
    else if (character === '"') return i + 1;
    else i += 1;
  }
  return i;
}

/**
 * Refuses what JSON.parse would silently accept: a key repeated in one object (the last one
 * would win) and prototype-related keys. `text` must already be valid JSON.
 */
function assertNoDuplicateKeys(text: string): void {
  const stack: { keys: Set<string> | undefined; expectKey: boolean }[] = [];
  let i = 0;
  while (i < text.length) {
    const character = text[i];
    const top = stack[stack.length - 1];
    if (character === '"') {
      const end = endOfString(text, i);
      if (top?.keys !== undefined && top.expectKey) {
        const key = JSON.parse(text.slice(i, end)) as string;
        if (FORBIDDEN_KEYS.has(key))
          throw invalid(`the body uses the reserved key ${quoteInput(key)}`);
        if (top.keys.has(key))
          throw invalid(`the body has the key ${quoteInput(key)} twice in one object`);
        top.keys.add(key);
        top.expectKey = false;
      }
      i = end;
      continue;
    }
    if (character === '{') stack.push({ keys: new Set(), expectKey: true });
    else if (character === '[') stack.push({ keys: undefined, expectKey: false });
    else if (character === '}' || character === ']') stack.pop();
    else if (character === ',' && top?.keys !== undefined) top.expectKey = true;
    i += 1;
  }
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
  assertNoDuplicateKeys(text);
  return value;
}
