/**
 * Caller input shown inside error messages: quoted, cut to a readable length, and with every
 * character outside printable ASCII escaped, so a message stays one line and cannot carry
 * terminal escapes or bidi tricks.
 */
export function quoteInput(value: string, maxLength = 60): string {
  // Code points, not UTF-16 units, so an escape never splits a surrogate pair.
  const characters = Array.from(value);
  const shown = characters.slice(0, maxLength).join('');
  const escaped = shown.replace(/[^\x20-\x7E]|\\|'/gu, (character) =>
    character === '\\' || character === "'" ? `\\${character}` : `\\u{${codePointHex(character)}}`,
  );
  return `'${escaped}${characters.length > maxLength ? '…' : ''}'`;
}

function codePointHex(character: string): string {
  return (character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
}

/** `U+00E9`: a code point as Unicode writes it. */
export function codePointLabel(character: string): string {
  return `U+${codePointHex(character)}`;
}
