// Per-task adapter stores in the exported graph. A statement with `tasks: T` stores one row per
// task ([T, …], or one per owning task with `for_tasks`: adapterTaskRows), so initializer
// elements equal params.stored; the graph runs one task, task 0, whose row is the first.

import { adapterTaskRows } from '../engine-bridge.js';
import { attr } from '../onnx-writer.js';
import type { GraphBuilder } from '../graph-builder.js';

/** Row 0 of a per-task store [rows, …], reshaped to `shape` (task 0's tensor). */
export function taskZeroRow(g: GraphBuilder, stacked: string, shape: readonly number[], hint: string): string {
  return g.op('Reshape', [g.op('Gather', [stacked, g.ints([0])], { axis: attr.int(0) }), g.ints(shape)], undefined, { hint });
}

type TaskEffect = { readonly tasks: number; readonly owners?: readonly number[] };

/** Declares the store `key` of a statement's tensor of `shape`: [rows, …shape] with tasks, else `shape`. */
export function declareTaskStore(g: GraphBuilder, effect: TaskEffect, key: string, shape: readonly number[], scale: number, offset = 0): string {
  return g.weight(key, effect.tasks === 1 ? shape : [adapterTaskRows(effect), ...shape], scale, offset).name;
}

/** Task 0's tensor of a store declareTaskStore made: the store itself when every task shares it. */
export function taskZeroOf(g: GraphBuilder, effect: TaskEffect, stored: string, shape: readonly number[], hint: string): string {
  return effect.tasks === 1 ? stored : taskZeroRow(g, stored, shape, hint);
}

/** Declares the store and returns task 0's tensor of it. */
export function taskStore(g: GraphBuilder, effect: TaskEffect, key: string, shape: readonly number[], scale: number, hint: string, offset = 0): string {
  return taskZeroOf(g, effect, declareTaskStore(g, effect, key, shape, scale, offset), shape, hint);
}
