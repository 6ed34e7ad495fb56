// Constructors for the weight tensors and costs of builtin layers, and exact element counts.
// Shapes are numbers (each entry a safe integer); element counts and FLOPs are bigint because
// products of shapes and copies can pass 2^53. A multiply-add counts as 2 FLOPs.

import type { ArgProblemReporter, LayerCost, RoutedSelection, WeightSpec } from './layer-kind.js';

/**
 * A bank of identical tensors: `copies` stored, `active` used per token (MoE top-k). A routed bank
 * says how tokens pick copies: `draws` independent selections of `topK` (Chain-of-Experts
 * iterations), `active` = draws·topK.
 */
export interface Bank {
  readonly copies: number;
  readonly active: number;
  readonly routing?: RoutedSelection;
}

/**
 * How tokens select copies of a weight: `draws` selections of `topK` of its copies per token, or
 * undefined when every copy it stores runs (not routed).
 */
export function routedSelection(w: WeightSpec): RoutedSelection | undefined {
  if (w.routing) return w.routing;
  return w.activeCopies < w.copies ? { topK: w.activeCopies, draws: 1 } : undefined;
}

const SINGLE: Bank = { copies: 1, active: 1 };

/** A dense projection from `dIn` to `dOut`, stored as [dOut, dIn] like torch.nn.Linear. */
export function matmulWeight(
  name: string,
  dIn: number,
  dOut: number,
  bank: Bank = SINGLE,
  role: 'matmul' | 'router' = 'matmul',
): WeightSpec {
  return { name, shape: [dOut, dIn], role, copies: bank.copies, activeCopies: bank.active, matmul: { dIn, dOut }, ...(bank.routing ? { routing: bank.routing } : {}) };
}

export function biasWeight(name: string, size: number, bank: Bank = SINGLE): WeightSpec {
  return { name, shape: [size], role: 'bias', copies: bank.copies, activeCopies: bank.active, ...(bank.routing ? { routing: bank.routing } : {}) };
}

export function normWeight(name: string, size: number): WeightSpec {
  return { name, shape: [size], role: 'norm', copies: 1, activeCopies: 1 };
}

export function tableWeight(name: string, rows: number, width: number, role: 'embedding' | 'position'): WeightSpec {
  return { name, shape: [rows, width], role, copies: 1, activeCopies: 1 };
}

/** A projection with an optional bias of its output width, named `<name>` and `<name>_bias`. */
export function projection(name: string, dIn: number, dOut: number, bias: boolean, bank: Bank = SINGLE): WeightSpec[] {
  const weight = matmulWeight(name, dIn, dOut, bank);
  return bias ? [weight, biasWeight(`${name}_bias`, dOut, bank)] : [weight];
}

/** Elements of one copy of a tensor. */
export function tensorElements(weight: WeightSpec): bigint {
  return weight.shape.reduce((product, size) => product * BigInt(size), 1n);
}

/** Elements stored for a weight: every copy of a bank. */
export function storedElements(weight: WeightSpec): bigint {
  return tensorElements(weight) * BigInt(weight.copies);
}

/** Elements used per token: the active copies of a bank. */
export function activeElements(weight: WeightSpec): bigint {
  return tensorElements(weight) * BigInt(weight.activeCopies);
}

/** Parameters stored by a layer: the sum over its weights of every copy. */
export function storedParams(cost: LayerCost): bigint {
  return cost.weights.reduce((sum, w) => sum + storedElements(w), 0n);
}

/** Parameters used per token by a layer (MoE experts at top-k). */
export function activeParams(cost: LayerCost): bigint {
  return cost.weights.reduce((sum, w) => sum + activeElements(w), 0n);
}

/** Forward FLOPs per token of a dense projection: one multiply-add (2 FLOPs) per weight. */
export function matmulFlops(dIn: number, dOut: number): bigint {
  return 2n * BigInt(dIn) * BigInt(dOut);
}

/** The cost of a layer without attention, convolution or KV projections. */
export function denseCost(
  weights: readonly WeightSpec[],
  flopsPerToken: bigint,
  activationElementsPerToken: bigint,
): LayerCost {
  return {
    weights,
    flopsPerToken,
    kvProjectionFlopsPerToken: 0n,
    attention: undefined,
    activationElementsPerToken,
    perSample: false,
  };
}

/**
 * Shapes are numbers, so a derived size (heads·head_dim, kv_rank + rope_dim) must stay a safe
 * integer to be exact. Reports the first weight that does not and returns false.
 */
export function checkShapesExact(weights: readonly WeightSpec[], report: ArgProblemReporter): boolean {
  for (const weight of weights) {
    if (!weight.shape.every((size) => Number.isSafeInteger(size))) {
      report(undefined, `weight '${weight.name}' has shape [${weight.shape.join(', ')}], too large to count exactly`);
      return false;
    }
  }
  return true;
}
