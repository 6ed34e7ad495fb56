// Tasks as a dimension of a model: adapters declared with `tasks: T` (`lora(rank: 8, tasks: 8)`)
// store one adapter per task, so the model's stored numbers are the ones every task shares plus
// T times the ones each task owns alone. Every per-task count (an adapter's own numbers, its
// banks, what a KV borrower drops) is T times one task's, so stored is linear in T: walking the
// model once more with one task per adapter gives the split exactly,
//   per task = (stored(T) − stored(1)) / (T − 1),   shared = stored(1) − per task.

import type { ResolvedSharing } from '../sharing/declarations.js';

/** What one task owns alone and what every task shares (stored = shared + tasks × perTask). */
export interface TaskSplit {
  readonly tasks: number;
  readonly perTask: bigint;
  readonly shared: bigint;
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

/** The split from the stored counts at T tasks and at one task. */
export function taskSplit(tasks: number, stored: bigint, storedSingle: bigint): TaskSplit {
  const perTask = tasks > 1 ? (stored - storedSingle) / BigInt(tasks - 1) : 0n;
  return { tasks, perTask, shared: storedSingle - perTask };
}
