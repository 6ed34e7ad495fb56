// Compares an imported spec with the checkpoint beside its config.json: the tensors' element
// count and bytes (from their safetensors headers) against the spec's stored parameters, the
// index's total_size against the tensors' bytes, and, where the counts differ, which tensors:
// checkpoints name their layers `<prefix>.<index>.…` (model.layers.3, transformer.h.3,
// encoder.block.3), so the elements of each layer are compared with the spec's layer instance
// of the same index, and the tensors of a layer that differs (or that the spec lacks) are named.
// Quantised checkpoints store scales beside their weights (FP8's `*_scale_inv`, MXFP4's
// `*_scales`) and pack two 4-bit values per byte (MXFP4's `*_blocks`); the scales are counted
// apart and the packed blocks as the values they hold. Pure: the caller reads the files.

import type { ModelReport, NodeReport } from '../analysis/report-types.js';
import { appendAll } from '../collections/append-all.js';
import { groupDigits } from '../text/number-format.js';

export interface CheckpointTensor {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Bytes of the tensor's data, from its safetensors offsets. */
  readonly bytes: number;
}

export interface CheckpointComparison {
  /** The model or variant of the spec whose stored count is compared (the one that matches, if any). */
  readonly model: string;
  readonly specStored: bigint;
  /** Parameters held by the checkpoint's tensors (MXFP4 blocks at two values per byte; scales left out). */
  readonly checkpointParams: bigint;
  /** Elements of quantisation scales, which are not parameters. */
  readonly scaleElements: bigint;
  /** Bytes of all tensors' data. */
  readonly checkpointBytes: bigint;
  /** The one dtype of every tensor, and the spec's stored count at its size, when the checkpoint is not mixed or quantised. */
  readonly dtype: string | undefined;
  readonly specBytes: bigint | undefined;
  /** model.safetensors.index.json's metadata.total_size, when there is an index. */
  readonly indexTotalSize: bigint | undefined;
  /** Empty when everything agrees; otherwise one sentence per disagreement, naming tensors. */
  readonly differences: readonly string[];
}

/** Quantisation scales: per-block factors stored beside quantised weights, not parameters. */
function isScale(t: CheckpointTensor): boolean {
  return /(_scale_inv|_scales|\.weight_scale|\.input_scale)$/.test(t.name);
}

/** Parameters a tensor holds: MXFP4 `*_blocks` (U8) pack two 4-bit values per byte. */
function tensorParams(t: CheckpointTensor): bigint {
  const elements = t.shape.reduce((p, d) => p * BigInt(d), 1n);
  return /_blocks$/.test(t.name) && t.dtype === 'U8' ? 2n * elements : elements;
}

const LAYER = /^(.*?)\.(\d+)\./;

/** Bytes per element of the unquantised safetensors dtypes. */
const DTYPE_BYTES: Readonly<Record<string, bigint>> = { F64: 8n, F32: 4n, F16: 2n, BF16: 2n };

/** The checkpoint's layered tensors by `prefix` then index, and the others. */
function groupByLayer(tensors: readonly CheckpointTensor[]): { layered: Map<string, Map<number, CheckpointTensor[]>>; rest: CheckpointTensor[] } {
  const layered = new Map<string, Map<number, CheckpointTensor[]>>();
  const rest: CheckpointTensor[] = [];
  for (const t of tensors) {
    const m = LAYER.exec(t.name);
    if (m === null) {
      rest.push(t);
      continue;
    }
    const byIndex = layered.get(m[1]!) ?? new Map<number, CheckpointTensor[]>();
    layered.set(m[1]!, byIndex);
    const index = Number(m[2]);
    byIndex.set(index, [...(byIndex.get(index) ?? []), t]);
  }
  return { layered, rest };
}

/** Most spec instances without checkpoint tensors named one by one. */
const MAX_MISSING_LISTED = 1000;

/**
 * Stored parameters of each instance of a stack node, by index (undefined past its end), from
 * its runs of identical instances: a binary search over the runs, so a stack of 2⁶⁰ instances
 * costs what its runs cost.
 */
function perInstance(stack: NodeReport): (index: number) => bigint | undefined {
  const runs = stack.children;
  return (index) => {
    const at = BigInt(index);
    let lo = 0;
    let hi = runs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (runs[mid]!.firstIndex <= at) lo = mid;
      else hi = mid - 1;
    }
    const run = runs[lo];
    return run && at >= run.firstIndex && at < run.firstIndex + run.count ? run.params.stored / run.count : undefined;
  };
}

function sum(tensors: readonly CheckpointTensor[]): bigint {
  return tensors.reduce((s, t) => s + tensorParams(t), 0n);
}

/** At most `max` tensor names with their shapes, then how many more. */
function named(tensors: readonly CheckpointTensor[], max = 6): string {
  const shown = tensors.slice(0, max).map((t) => `${t.name} [${t.shape.join(', ')}]`);
  return tensors.length > max ? `${shown.join(', ')} and ${tensors.length - max} more` : shown.join(', ');
}

function fmt(n: bigint): string {
  return n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * The tensors of a differing layer that a matching layer of the same spec structure does not
 * have with the same name and shape (the name after the layer index), or all of them when no
 * layer matched.
 */
function differingTensors(tensors: readonly CheckpointTensor[], reference: readonly CheckpointTensor[] | undefined, strip: (name: string) => string): CheckpointTensor[] {
  if (reference === undefined) return [...tensors];
  const shapes = new Map(reference.map((t) => [strip(t.name), t.shape.join('×')]));
  return tensors.filter((t) => shapes.get(strip(t.name)) !== t.shape.join('×'));
}

/** Per-layer disagreements between the checkpoint's one layered prefix and the spec's one stack. */
function layerDifferences(model: ModelReport, params: readonly CheckpointTensor[]): string[] {
  const { layered, rest } = groupByLayer(params);
  const stacks = model.tree.children.filter((c) => c.kind === 'stack');
  // Only a checkpoint with one layered prefix and a spec with one stack line up index by index.
  const [prefix] = [...layered.keys()];
  const [stack] = stacks;
  if (layered.size !== 1 || stacks.length !== 1 || prefix === undefined || stack === undefined) return [];
  const spec = perInstance(stack);
  const layers = layered.get(prefix)!;
  const out: string[] = [];
  const strip = (name: string) => name.replace(/^.*?\.\d+\./, '');
  const matching = (expected: bigint) => [...layers.entries()].find(([i, t]) => spec(i) === expected && sum(t) === expected)?.[1];
  for (const [index, tensors] of [...layers.entries()].sort((a, b) => a[0] - b[0])) {
    const expected = spec(index);
    const have = sum(tensors);
    if (expected === undefined) out.push(`${prefix}.${index} has no counterpart in the spec (${stack.name} has ${stack.count} layers): ${fmt(have)} parameters in ${named(tensors)}`);
    else if (expected !== have) {
      out.push(`${prefix}.${index} holds ${fmt(have)} parameters but the spec's ${stack.name}[${index}] stores ${fmt(expected)}: ${named(differingTensors(tensors, matching(expected), strip))}`);
    }
  }
  // Each spec instance without tensors is named, up to a bound: a stack may hold 2⁶⁰ of them.
  const listed = stack.count < BigInt(MAX_MISSING_LISTED) ? Number(stack.count) : MAX_MISSING_LISTED;
  for (let i = 0; i < listed; i++) {
    if (!layers.has(i)) out.push(`the spec's ${stack.name}[${i}] (${fmt(spec(i)!)} parameters) has no tensors ${prefix}.${i}.* in the checkpoint`);
  }
  const present = [...layers.keys()].filter((i) => i >= listed && BigInt(i) < stack.count).length;
  const unlisted = stack.count - BigInt(listed) - BigInt(present);
  if (unlisted > 0n) out.push(`and ${groupDigits(unlisted)} more of the spec's ${stack.name} instances past [${listed - 1}] have no tensors ${prefix}.* in the checkpoint`);
  const outside = model.params.stored - stack.params.stored;
  const restParams = sum(rest);
  if (outside !== restParams) out.push(`outside the layers the checkpoint holds ${fmt(restParams)} parameters but the spec stores ${fmt(outside)}: ${named(rest)}`);
  return out;
}

/**
 * Compares the spec's models (the import's model first, then its variants) with the
 * checkpoint's tensors. The model whose stored count equals the checkpoint's parameters is the
 * one compared; when none does, the first, with the layers that differ named.
 */
export function compareWithCheckpoint(models: readonly ModelReport[], tensors: readonly CheckpointTensor[], indexTotalSize?: bigint): CheckpointComparison {
  const scales = tensors.filter(isScale);
  const params = tensors.filter((t) => !isScale(t));
  const checkpointParams = sum(params);
  const scaleElements = scales.reduce((s, t) => s + t.shape.reduce((p, d) => p * BigInt(d), 1n), 0n);
  const checkpointBytes = tensors.reduce((s, t) => s + BigInt(t.bytes), 0n);
  const model = models.find((m) => m.params.stored === checkpointParams) ?? models[0];
  const differences: string[] = [];
  if (indexTotalSize !== undefined && indexTotalSize !== checkpointBytes) {
    differences.push(`model.safetensors.index.json gives total_size ${fmt(indexTotalSize)} bytes but the shards' tensors hold ${fmt(checkpointBytes)}`);
  }
  if (model === undefined) {
    return { model: '', specStored: 0n, checkpointParams, scaleElements, checkpointBytes, dtype: undefined, specBytes: undefined, indexTotalSize, differences: [...differences, 'the spec has no model to compare'] };
  }
  if (model.params.stored !== checkpointParams) {
    differences.push(`the checkpoint holds ${fmt(checkpointParams)} parameters but ${model.name} stores ${fmt(model.params.stored)} (${checkpointParams > model.params.stored ? '+' : '−'}${fmt(checkpointParams > model.params.stored ? checkpointParams - model.params.stored : model.params.stored - checkpointParams)})`);
    appendAll(differences, layerDifferences(model, params));
  }
  // One unquantised dtype throughout: the spec's stored count at that size must be the bytes.
  const dtypes = [...new Set(tensors.map((t) => t.dtype))];
  const size = dtypes.length === 1 ? DTYPE_BYTES[dtypes[0]!] : undefined;
  const dtype = size === undefined ? undefined : dtypes[0];
  const specBytes = size === undefined ? undefined : model.params.stored * size;
  if (specBytes !== undefined && specBytes !== checkpointBytes && model.params.stored === checkpointParams) {
    differences.push(`${model.name} at ${dtype} is ${fmt(specBytes)} bytes but the tensors hold ${fmt(checkpointBytes)}`);
  }
  return { model: model.name, specStored: model.params.stored, checkpointParams, scaleElements, checkpointBytes, dtype, specBytes, indexTotalSize, differences };
}
