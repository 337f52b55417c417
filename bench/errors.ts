/** A message for anything thrown or emitted as an error. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    // undefined for undefined, functions and symbols, whatever the lib types say.
    const text = JSON.stringify(error) as string | undefined;
    return text ?? 'unknown error';
  } catch {
    return 'unknown error';
  }
}
