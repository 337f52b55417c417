/** Keys that could reach an object's prototype if anything ever merged the parsed value. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

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

/** What JSON.parse would silently accept but a security input must not. */
export type JsonKeyProblem = { kind: 'duplicate' | 'forbidden'; key: string };

/**
 * Finds the first key repeated in one object (JSON.parse keeps the last) or named like a
 * prototype property. `text` must already be valid JSON. Linear in the text.
 */
export function findJsonKeyProblem(text: string): JsonKeyProblem | undefined {
  const stack: { keys: Set<string> | undefined; expectKey: boolean }[] = [];
  let i = 0;
  while (i < text.length) {
    const character = text[i];
    const top = stack[stack.length - 1];
    if (character === '"') {
      const end = endOfString(text, i);
      if (top?.keys !== undefined && top.expectKey) {
        const key = JSON.parse(text.slice(i, end)) as string;
        if (FORBIDDEN_KEYS.has(key)) return { kind: 'forbidden', key };
        if (top.keys.has(key)) return { kind: 'duplicate', key };
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
  return undefined;
}
