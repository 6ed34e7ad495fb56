// Sweeps: a flag given as a comma list (`--seq 2048,4096`) or a range (`--gpus 8..64` doubles:
// 8, 16, 32, 64; `--seq 1024..4096:1024` steps: 1024, 2048, 3072, 4096) stands for each of its
// values; several such flags make the grid of every combination, in flag order.

import { CliError } from './io.js';

/** The most combinations one command evaluates. */
export const MAX_GRID = 10_000;

/** The values a flag's text stands for: one value, a comma list, or an integer range. */
export function sweepValues(text: string, flag: string): string[] {
  const out: string[] = [];
  for (const part of text.split(',')) {
    const item = part.trim();
    if (item === '') throw new CliError(`--${flag}: an empty item in '${text}'`);
    const range = /^(\d+)\.\.(\d+)(?::(\d+))?$/.exec(item.replace(/_/g, ''));
    if (!range) {
      out.push(item);
      continue;
    }
    const from = Number(range[1]);
    const to = Number(range[2]);
    const step = range[3] === undefined ? undefined : Number(range[3]);
    if (from < 1 || to < from || (step !== undefined && step < 1)) throw new CliError(`--${flag}: the range '${item}' must go up from a positive integer (FROM..TO doubles, FROM..TO:STEP adds STEP)`);
    for (let v = from; v <= to; v = step === undefined ? v * 2 : v + step) {
      out.push(String(v));
      if (out.length > MAX_GRID) throw new CliError(`--${flag}: '${item}' has more than ${MAX_GRID} values`);
    }
  }
  return out;
}

/**
 * Every combination of the swept flags, each as a flag map with one value per flag; flags not
 * named in `sweepable` pass through unchanged. One combination when nothing is swept.
 */
export function expandGrid(flags: ReadonlyMap<string, string | true>, sweepable: ReadonlySet<string>): Map<string, string | true>[] {
  let grid: Map<string, string | true>[] = [new Map(flags)];
  for (const [name, value] of flags) {
    if (!sweepable.has(name) || typeof value !== 'string') continue;
    const values = sweepValues(value, name);
    if (values.length === 1 && values[0] === value) continue;
    const next: Map<string, string | true>[] = [];
    for (const g of grid) {
      for (const v of values) {
        const copy = new Map(g);
        copy.set(name, v);
        next.push(copy);
      }
    }
    if (next.length > MAX_GRID) throw new CliError(`the sweep has ${next.length} combinations (at most ${MAX_GRID})`);
    grid = next;
  }
  return grid;
}

/** Whether any flag is swept (so the output is a grid even when it has one row). */
export function isSwept(flags: ReadonlyMap<string, string | true>, sweepable: ReadonlySet<string>): boolean {
  for (const [name, value] of flags) if (sweepable.has(name) && typeof value === 'string' && (value.includes(',') || value.includes('..'))) return true;
  return false;
}
