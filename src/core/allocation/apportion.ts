// Splits an integer total among groups in proportion to their weights, exactly: floors of the
// quotas, then the remaining units to the largest fractional parts (earliest group on ties), so
// the parts always sum to the total. Products go through bigint because a budget times a demand
// passes 2^53.

/**
 * Parts ∝ weights summing to `total`; with `atLeastOne`, every part is ≥ 1 (the caller
 * guarantees total ≥ the number of parts), taking the missing units from the largest parts.
 */
export function apportion(total: number, weights: readonly number[], atLeastOne: boolean): number[] {
  const n = weights.length;
  if (n === 0) return [];
  const sum = weights.reduce((s, w) => s + BigInt(w), 0n);
  const t = BigInt(total);
  const parts: bigint[] = [];
  const rems: { i: number; r: bigint }[] = [];
  let given = 0n;
  for (let i = 0; i < n; i++) {
    const num = sum === 0n ? t : t * BigInt(weights[i]!);
    const den = sum === 0n ? BigInt(n) : sum;
    parts.push(num / den);
    given += num / den;
    rems.push({ i, r: num % den });
  }
  rems.sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1));
  for (let k = 0; given < t; k++, given++) parts[rems[k % n]!.i]! += 1n;
  const out = parts.map(Number);
  if (atLeastOne) {
    for (let i = 0; i < n; i++) {
      if (out[i]! >= 1) continue;
      let big = 0;
      for (let j = 1; j < n; j++) if (out[j]! > out[big]!) big = j;
      out[big]!--;
      out[i] = 1;
    }
  }
  return out;
}
