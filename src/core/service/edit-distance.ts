// "Did you mean …?": edit distance (with adjacent swaps) and the closest candidates to a misspelt name.

/**
 * The edit distance between two strings: insertions, deletions, substitutions and swaps of two
 * adjacent characters (`cycel` is one edit from `cycle`), each costing 1.
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  // Rows i−2, i−1 and i of the optimal-string-alignment table.
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a.charCodeAt(i - 1) === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === b.charCodeAt(j - 1)) d = Math.min(d, before[j - 2]! + 1);
      cur.push(d);
    }
    before = prev;
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The candidates close enough to `name` to be what was meant, best first: within a third of
 * the name's length (at least 1, at most 3), a case-only difference counting as the closest.
 */
export function suggestions(name: string, candidates: Iterable<string>, limit = 3): string[] {
  const max = Math.min(3, Math.max(1, Math.floor(name.length / 3)));
  const scored: { candidate: string; score: number }[] = [];
  const seen = new Set<string>();
  for (const c of candidates) {
    if (c === name || c === '' || seen.has(c)) continue;
    seen.add(c);
    const score = c.toLowerCase() === name.toLowerCase() ? 0.5 : editDistance(name, c);
    if (score <= max) scored.push({ candidate: c, score });
  }
  scored.sort((x, y) => x.score - y.score || x.candidate.localeCompare(y.candidate));
  return scored.slice(0, limit).map((s) => s.candidate);
}
