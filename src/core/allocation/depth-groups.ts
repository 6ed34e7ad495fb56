// depth:K grouping: K contiguous runs of depth units (top-level module instances), chosen by
// dynamic programming so that their demands are as even as possible (least sum of squared
// group demands, which for a fixed total is least variance). Contiguous groups keep neighbouring
// layers together, which is what cross-layer sharing schemes (SEQUENCE, FoldGPT) rely on.

/**
 * Splits `demands` (one per unit, in depth order) into at most k non-empty contiguous runs.
 * Returns the start index of each run. O(k·n²) time, O(k·n) memory; n is the unit count.
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
  // best[j][i]: least cost of splitting units [0, i) into j runs; from[j][i]: where the last run starts.
  let prev = new Float64Array(n + 1).fill(Infinity);
  prev[0] = 0;
  const from: Int32Array[] = [];
  for (let j = 1; j <= groups; j++) {
    const cur = new Float64Array(n + 1).fill(Infinity);
    const arg = new Int32Array(n + 1).fill(-1);
    for (let i = j; i <= n - (groups - j); i++) {
      let best = Infinity;
      let at = -1;
      for (let s = j - 1; s < i; s++) {
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
    }
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
