// Appending one array to another without spreading it into arguments: `a.push(...b)` passes
// every element of `b` as an argument, and V8 throws "Maximum call stack size exceeded" past
// roughly 100,000 of them. Lists whose length the input decides (diagnostics, list literals,
// a spec's names, a model's layers) must use this instead (issue 12: a 10 MB spec with 250,000
// budget statements ended in an internal error).

/** Appends every element of `items` to `target`, in order; returns `target`. */
export function appendAll<T>(target: T[], items: Iterable<T>): T[] {
  for (const item of items) target.push(item);
  return target;
}

/** The largest of `values` and `floor` (Math.max(...values) overflows the stack on long lists). */
export function maxOf(values: Iterable<number>, floor = -Infinity): number {
  let max = floor;
  for (const v of values) if (v > max) max = v;
  return max;
}
