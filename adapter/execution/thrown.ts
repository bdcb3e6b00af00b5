/** What a handler threw, as an Error, wherever it ran (inline or in its thread). */

/** The Error itself; anything else (a string, an object, undefined) wrapped in one that shows it. */
export function thrownError(cause: unknown): Error {
  return cause instanceof Error ? cause : new Error(`non-error thrown: ${shown(cause)}`);
}

function shown(value: unknown): string {
  try {
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    // A cycle, a BigInt, a throwing toJSON: its tag at least.
    return Object.prototype.toString.call(value);
  }
}
