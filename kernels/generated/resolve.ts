// Which generator, if any, makes a weight: the `hash`, `bank`, `dict` and `factorize` modifiers that reach it,
// matched as the engine's walk matches them, filtered by the roles the engine applies them to
// (src/core/analysis/layer-totals.ts). A generated weight is built once per store key (a shared
// layer reads one generated W) and read like an initializer.

import { factorShape, type Modifier } from '../../src/core/index.js';
import { ExportError, modifiersFor, pathText, type LoadedModel, type PathStep, type WeightSpec } from '../engine-bridge.js';
import type { StoredWeight } from '../graph-builder.js';
import type { EmitContext } from '../layers/context.js';
import { dictionaryWeight } from './dictionary.js';
import { factorizedWeight } from './factorized.js';
import { hashedWeight } from './hash.js';
import { cached, remember } from './state.js';
import { templateWeight } from './template-bank.js';

/** The generator modifiers that apply to `w` of the layer at `steps` (as the engine applies them). */
export function generatorsFor(model: LoadedModel, steps: readonly PathStep[], w: WeightSpec): Modifier[] {
  const matrix = w.role === 'matmul' || w.role === 'conv';
  return modifiersFor(model, steps, w.name).filter((m) => {
    const e = m.effect;
    if (e.kind === 'hash') return matrix;
    if (e.kind === 'bank') return matrix || (e.fixed && (w.role === 'embedding' || w.role === 'position'));
    if (e.kind === 'dict') return w.role === 'matmul';
    if (e.kind === 'factorize') return factorShape(e.method, w) !== undefined;
    return false;
  });
}

/**
 * The generated tensor for weight `w` (of the layer at `steps`, the store's owner) read through
 * store `key`, or undefined when no generator covers it. `reader` is the layer reading it when it
 * reads another layer's store (a `tied` weight): a reader that is itself generated is refused.
 */
export function generatedWeight(ctx: EmitContext, steps: readonly PathStep[], w: WeightSpec, key: string, reader?: { readonly steps: readonly PathStep[]; readonly w: WeightSpec }): StoredWeight | undefined {
  return generate(ctx, steps, w, key, reader, undefined);
}

/** The key of copy `index` of an expert bank stored under `bank` (`<store>.expert_up[3]`). */
export function copyKey(bank: string, index: number): string {
  return `${bank}[${index}]`;
}

/**
 * The generated tensor for copy `index` of the expert bank `w` stored under `bank` (its key is
 * copyKey(bank, index)), or undefined when no generator covers it. The bank's key is passed
 * as such: a factorisation whose central tensor is shared by the experts keys it by the bank.
 */
export function generatedCopy(ctx: EmitContext, steps: readonly PathStep[], w: WeightSpec, bank: string, index: number): StoredWeight | undefined {
  return generate(ctx, steps, w, copyKey(bank, index), undefined, bank);
}

function generate(ctx: EmitContext, steps: readonly PathStep[], w: WeightSpec, key: string, reader: { readonly steps: readonly PathStep[]; readonly w: WeightSpec } | undefined, bank: string | undefined): StoredWeight | undefined {
  const where = `${pathText(steps)}.${w.name}`;
  if (reader && generatorsFor(ctx.model, reader.steps, reader.w).length > 0) {
    throw new ExportError(`${pathText(reader.steps)}.${reader.w.name}: a tied weight under hash/bank/dict/factorize is not supported by the ONNX exporter (the engine counts the tie and the generator on one weight)`);
  }
  const gens = generatorsFor(ctx.model, steps, w);
  if (gens.length === 0) return undefined;
  if (modifiersFor(ctx.model, steps, w.name).some((m) => m.effect.kind === 'tie-all')) {
    throw new ExportError(`${where}: a weight both tied (tie a = b) and generated (hash/bank/dict/factorize) is not supported by the ONNX exporter`);
  }
  if (gens.length > 1) throw new ExportError(`${where}: ${gens.map((m) => m.effect.kind).join(' and ')} both generate this weight; the ONNX exporter builds one generator per weight`);
  const hit = cached(ctx, key);
  if (hit) return hit;
  const m = gens[0]!;
  const e = m.effect;
  let name: string;
  switch (e.kind) {
    case 'hash':
      name = hashedWeight(ctx, where, w, key, { statement: m.range.start, memory: Number(e.memory), scales: e.scales, method: e.method });
      break;
    case 'bank':
      name = templateWeight(ctx, w, key, { label: e.label, params: Number(e.params), templates: e.templates, fixed: e.fixed });
      break;
    case 'dict':
      name = dictionaryWeight(ctx, w, key, { statement: m.range.start, atoms: e.atoms });
      break;
    case 'factorize':
      name = factorizedWeight(ctx, where, w, key, { method: e.method, label: e.label }, bank);
      break;
    default:
      throw new Error(`not a generator: ${e.kind}`);
  }
  return remember(ctx, key, { name, shape: w.shape });
}
