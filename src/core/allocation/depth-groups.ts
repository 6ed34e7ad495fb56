// depth:K grouping: K contiguous runs of depth units (top-level module instances), chosen by
// dynamic programming so that their demands are as even as possible (least sum of squared
// group demands, which for a fixed total is least variance). Contiguous groups keep neighbouring
// layers together, which is what cross-layer sharing schemes (SEQUENCE, FoldGPT) rely on.

/**
 * Splits `demands` (one per unit, in depth order) into at most k non-empty contiguous runs.
 * Returns the start index of each run. O(k·n·log n) time, O(k·n) memory; n is the unit count.
 */
export function balancedRuns(demands: readonly number[], k: number): number[] {
  const n = demands.length;
  const groups = Math.max(1, Math.min(k, n));
  if (n === 0) return [];
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i]! + demands[i]!;
  // Costs are scaled by the total so squares stay well inside double precision's range.
  const scale = prefix[n]! > 0 ? prefix[n]! : 1;
  const cost = (a: number, b: number): number => {
    const s = (prefix[b]! - prefix[a]!) / scale;
    return s * s;
  };
  // best[j][i]: least cost of splitting units [0, i) into j runs; from[j][i]: where the last run
  // starts. The squared segment sum is convex, so the best split point is monotone in i and each
  // layer is filled by divide and conquer over i with bounded split ranges: O(k·n·log n).
  let prev = new Float64Array(n + 1).fill(Infinity);
  prev[0] = 0;
  const from: Int32Array[] = [];
  for (let j = 1; j <= groups; j++) {
    const cur = new Float64Array(n + 1).fill(Infinity);
    const arg = new Int32Array(n + 1).fill(-1);
    const lo = j;
    const hi = n - (groups - j);
    const fill = (iLo: number, iHi: number, sLo: number, sHi: number): void => {
      if (iLo > iHi) return;
      const i = (iLo + iHi) >> 1;
      let best = Infinity;
      let at = -1;
      for (let s = Math.max(sLo, j - 1); s <= Math.min(sHi, i - 1); s++) {
        const p = prev[s]!;
        if (p === Infinity) continue;
        const c = p + cost(s, i);
        // Strict comparison: ties keep the earliest split, so the result is deterministic.
        if (c < best) {
          best = c;
          at = s;
        }
      }
      cur[i] = best;
      arg[i] = at;
      const mid = at < 0 ? sLo : at;
      fill(iLo, i - 1, sLo, mid);
      fill(i + 1, iHi, mid, sHi);
    };
    fill(lo, hi, j - 1, hi - 1);
    from.push(arg);
    prev = cur;
  }
  const starts: number[] = [];
  let i = n;
  for (let j = groups; j >= 1; j--) {
    const s = from[j - 1]![i]!;
    starts.push(s);
    i = s;
  }
  return starts.reverse();
}
