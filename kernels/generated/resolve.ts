// Which generator, if any, makes a weight: the `hash`, `bank`, `dict` and `factorize` modifiers that reach it,
// matched as the engine's walk matches them, filtered by the core's rule of which weights each
// generates (generatesWeight, the one the counting reads). A generated weight is built once per
// store key (a shared layer reads one generated W) and read like an initializer. GENERATORS is
// the exporter's table of generating modifier kinds: a new kind is one entry there and its builder.

import { factorLayout, factorShape, generatesWeight, sparseMasked, targetExecution, type GeneratingEffect, type Modifier } from '../../src/core/index.js';
import { ExportError, modifiersFor, pathText, type LayerNode, type LoadedModel, type PathStep, type WeightSpec } from '../engine-bridge.js';
import type { StoredWeight } from '../graph-builder.js';
import type { EmitContext } from '../layers/context.js';
import { dictionaryWeight } from './dictionary.js';
import { factorChain, factorizedWeight, type FactorizeStatement } from './factorized.js';
import { hashedWeight } from './hash.js';
import { cached, remember } from './state.js';
import { templateWeight } from './template-bank.js';

/** The generator modifiers that apply to `w` of the layer at `steps` (as the engine applies them). */
export function generatorsFor(model: LoadedModel, steps: readonly PathStep[], w: WeightSpec): Modifier[] {
  return modifiersFor(model, steps, w.name).filter((m) => generatesWeight(m.effect, w));
}

/** Where a generator builds: the weight (`where` names it in errors), the store key it is built under, the expert bank's key for a copy. */
interface GeneratedSite {
  readonly where: string;
  readonly w: WeightSpec;
  readonly key: string;
  readonly bank: string | undefined;
}

/** A generator: builds the weight from the modifier's stored tensors and returns the tensor's name. */
type Generator<E extends GeneratingEffect> = (ctx: EmitContext, modifier: Modifier, effect: E, site: GeneratedSite) => string;

/** The builder of each generating modifier kind (a kind without one does not type-check). */
const GENERATORS: { readonly [K in GeneratingEffect['kind']]: Generator<Extract<GeneratingEffect, { kind: K }>> } = {
  hash: (ctx, m, e, s) => hashedWeight(ctx, s.where, s.w, s.key, { statement: m.range.start, memory: Number(e.memory), scales: e.scales, method: e.method }),
  bank: (ctx, _m, e, s) => templateWeight(ctx, s.w, s.key, { label: e.label, params: Number(e.params), templates: e.templates, fixed: e.fixed }),
  dict: (ctx, m, e, s) => dictionaryWeight(ctx, s.w, s.key, { statement: m.range.start, atoms: e.atoms }),
  factorize: (ctx, _m, e, s) => factorizedWeight(ctx, s.where, s.w, s.key, { method: e.method, label: e.label }, s.bank),
};

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

/**
 * The `factorize` statement that generates `w` (of the layer `node` at `steps`) when the engine
 * counts its factors applied (`targetExecution`: a matrix its layer applies as it is, under no
 * sparse mask, whose factor chain is the cheaper); undefined otherwise — W is then read as a tensor (materialised by its
 * generator, if any).
 */
export function countedFactorChain(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], w: WeightSpec): FactorizeStatement | undefined {
  const m = generatorOf(ctx, steps, w, undefined);
  if (m?.effect.kind !== 'factorize') return undefined;
  const e = m.effect;
  const shape = factorShape(e.method, w);
  const result = shape ? factorLayout(e.method, shape.dOut, shape.dIn, shape.kernel) : undefined;
  if (!shape || !result?.ok) return undefined; // factorizedWeight reports it when W is read
  const target = { kernel: shape.kernel, generatesOwn: node.cost.generationMacsPerStep !== undefined, dOut: shape.dOut, dIn: shape.dIn };
  const masked = sparseMasked(modifiersFor(ctx.model, steps, w.name), w.name);
  return targetExecution(target, result.layout, masked) === 'factors' ? { method: e.method, label: e.label } : undefined;
}

/**
 * y = x·Wᵀ [T, d_out] through the factors of `w` read through store `key` when the engine counts
 * that execution (countedFactorChain), else undefined. `bank`: the expert bank's store key when
 * `key` is one copy of it (copyKey), as for generatedCopy.
 */
export function factorChainFor(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], w: WeightSpec, key: string, x: string, bank?: string): string | undefined {
  const f = countedFactorChain(ctx, node, steps, w);
  return f ? factorChain(ctx, `${pathText(steps)}.${w.name}`, w, key, f, x, bank) : undefined;
}

/** The one generator modifier of `w`, undefined when none; combinations the exporter cannot build are refused by name. */
function generatorOf(ctx: EmitContext, steps: readonly PathStep[], w: WeightSpec, reader: { readonly steps: readonly PathStep[]; readonly w: WeightSpec } | undefined): Modifier | undefined {
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
  return gens[0];
}

function generate(ctx: EmitContext, steps: readonly PathStep[], w: WeightSpec, key: string, reader: { readonly steps: readonly PathStep[]; readonly w: WeightSpec } | undefined, bank: string | undefined): StoredWeight | undefined {
  const where = `${pathText(steps)}.${w.name}`;
  const m = generatorOf(ctx, steps, w, reader);
  if (!m) return undefined;
  const hit = cached(ctx, key);
  if (hit) return hit;
  const e = m.effect as GeneratingEffect;
  // The table's entry for e's kind takes e (each entry is typed by its kind).
  const build = GENERATORS[e.kind] as Generator<GeneratingEffect>;
  return remember(ctx, key, { name: build(ctx, m, e, { where, w, key, bank }), shape: w.shape });
}
