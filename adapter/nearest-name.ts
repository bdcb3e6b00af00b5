/** A misspelt name's nearest known one, to say in an error (a variable's, say). */

/** ", did you mean X?" for a known name at most two edits away, else nothing. */
export function didYouMean(name: string, known: readonly string[]): string {
  const near = known.find((candidate) => distance(name, candidate) <= 2);
  return near === undefined ? '' : `, did you mean ${near}?`;
}

/** Levenshtein distance, for names of a few dozen characters. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1)
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    previous = current;
  }
  return previous[b.length] ?? 0;
}
