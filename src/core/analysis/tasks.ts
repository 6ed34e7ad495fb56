// Tasks as a dimension of a model: adapters declared with `tasks: T` (`lora(rank: 8, tasks: 8)`)
// store one adapter per task, so the model's stored numbers are the ones every task shares plus
// T times the ones each task owns alone. Every per-task count (an adapter's own numbers, its
// banks, what a KV borrower drops) is T times one task's, so stored is linear in T: walking the
// model once more with one task per adapter gives the split exactly,
//   per task = (stored(T) − stored(1)) / (T − 1),   shared = stored(1) − per task.
// With per-task subsets (`for_tasks`, TAPS: each task adapts its own layers) tasks own different
// amounts; each task's is what stored loses when that task owns nothing,
//   own(t) = stored − stored(without t),   shared = stored − Σ_t own(t),
// and per task is the most any one task owns (a budget on it bounds every task).

import type { ResolvedSharing } from '../sharing/declarations.js';

/** What one task owns alone and what every task shares (stored = shared + tasks × perTask, or shared + Σ byTask). */
export interface TaskSplit {
  readonly tasks: number;
  /** The most one task owns alone (every task's, without `for_tasks`). */
  readonly perTask: bigint;
  readonly shared: bigint;
  /** With `for_tasks`: what each task 0 … T − 1 owns alone; stored = shared + Σ byTask. */
  readonly byTask?: readonly bigint[];
}

/** The copies of a per-task adapter stored on each of its targets: one per owning task (`for_tasks`), else one per task. */
export function adapterTaskRows(effect: { readonly tasks: number; readonly owners?: readonly number[] }): number {
  return effect.owners?.length ?? effect.tasks;
}

/** Whether task 0 owns the adapter: every task does unless `for_tasks` leaves it out (its row is then the first). */
export function taskZeroOwns(effect: { readonly owners?: readonly number[] }): boolean {
  return effect.owners === undefined || effect.owners[0] === 0;
}

/** The number of tasks of a model's adapters (one number per model, checked when resolved); 1 without. */
export function taskCount(sharing: ResolvedSharing): number {
  let tasks = 1;
  for (const m of sharing.modifiers) if (m.effect.kind === 'adapter' && m.effect.tasks > tasks) tasks = m.effect.tasks;
  return tasks;
}

/** The same sharing with every adapter for one task: what stored would be with a single task. */
export function singleTask(sharing: ResolvedSharing): ResolvedSharing {
  return {
    ...sharing,
    modifiers: sharing.modifiers.map((m) => (m.effect.kind === 'adapter' && m.effect.tasks > 1 ? { ...m, effect: { ...m.effect, tasks: 1 } } : m)),
  };
}

/** Whether some adapter belongs to a subset of the tasks only (`for_tasks`). */
export function hasTaskSubsets(sharing: ResolvedSharing): boolean {
  return sharing.modifiers.some((m) => m.effect.kind === 'adapter' && m.effect.owners !== undefined);
}

/** The same sharing with task t owning no adapter: what stored would be without its own numbers. */
export function withoutTask(sharing: ResolvedSharing, t: number): ResolvedSharing {
  return {
    ...sharing,
    modifiers: sharing.modifiers.map((m) => {
      const e = m.effect;
      if (e.kind !== 'adapter' || e.tasks < 2) return m;
      const owners = (e.owners ?? Array.from({ length: e.tasks }, (_, i) => i)).filter((o) => o !== t);
      return { ...m, effect: { ...e, owners } };
    }),
  };
}

/** The split when tasks own different subsets: stored, and stored without each task's own numbers. */
export function subsetSplit(tasks: number, stored: bigint, storedWithout: (t: number) => bigint): TaskSplit {
  const byTask = Array.from({ length: tasks }, (_, t) => stored - storedWithout(t));
  const perTask = byTask.reduce((a, b) => (b > a ? b : a), 0n);
  return { tasks, perTask, shared: stored - byTask.reduce((a, b) => a + b, 0n), byTask };
}

/** The split from the stored counts at T tasks and at one task. */
export function taskSplit(tasks: number, stored: bigint, storedSingle: bigint): TaskSplit {
  const perTask = tasks > 1 ? (stored - storedSingle) / BigInt(tasks - 1) : 0n;
  return { tasks, perTask, shared: storedSingle - perTask };
}
