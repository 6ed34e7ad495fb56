// Accumulates an ONNX graph: nodes, one initializer per weight store (deduplicated by store
// key, so a tied or shared tensor is written once and read by every node that uses it), and
// non-parameter constants as Constant nodes — never initializers, so that the file's
// initializer elements are exactly the model's stored parameters.

import { DataType, type DataTypeCode, type NodeSpec, type TensorData, type ValueInfo, type AttributeValue } from './onnx-writer.js';
import { onnxType, synthetic, toHalf, type WeightDType } from './weights.js';

/** Fills a store's bytes; the default draws deterministic synthetic values from its key. */
export type WeightFill = (storeKey: string, shape: readonly number[], dtype: WeightDType, scale: number, offset: number) => Uint8Array;

export const defaultFill: WeightFill = (key, shape, dtype, scale, offset) =>
  synthetic(key, shape.reduce((a, b) => a * b, 1), dtype, scale, offset);

export interface StoredWeight {
  readonly name: string;
  readonly shape: readonly number[];
}

/**
 * What a graph is built from, tallied by the layer builders as they emit it: the probe's notes
 * (probe-host.ts) read these counts, never node names.
 */
export interface GraphParts {
  /** Attention layers on standard ops: one q·kᵀ MatMul each (attention.ts, MoA's, MoEUT's SwitchHead). */
  standardAttention: number;
  /** Cross-attention layers on com.microsoft MultiHeadAttention (cross-attention.ts). */
  fusedCrossAttention: number;
  /** MoR recursions (and halting steps past the first), each on the tokens its router keeps (routing.ts). */
  recursions: number;
  /** Whether a halting unit weighs the steps' updates by its continue probability (halting.ts): per-token halting. */
  halting: boolean;
  /** Whether the batch is ParScale's parallel streams, the ids tiled P times (parallel-streams.ts). */
  parallelStreams: boolean;
}

export class GraphBuilder {
  readonly nodes: NodeSpec[] = [];
  /** What the builders emitted, by kind (GraphParts). */
  readonly parts: GraphParts = { standardAttention: 0, fusedCrossAttention: 0, recursions: 0, halting: false, parallelStreams: false };
  readonly initializers: TensorData[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  private readonly stores = new Map<string, StoredWeight>();
  /** How each initializer's synthetic values were drawn (uniform ±scale around offset). */
  readonly distributions = new Map<string, { readonly scale: number; readonly offset: number }>();
  private readonly constants = new Map<string, string>();
  /** The KV-cache initializers' names (cache()), apart from the weights. */
  private readonly cacheKeys = new Set<string>();
  private counter = 0;
  /** Elements of all weight initializers (the exported stored parameter count). */
  initializerElements = 0n;
  /** Elements of the KV-cache initializers of a decode graph (not parameters). */
  cacheElements = 0n;
  /** Elements of the recurrent-state inputs of a decode graph (not parameters): layers/recurrent-step.ts. */
  stateElements = 0n;
  /**
   * A decode graph's recurrent states: graph inputs (fed like past_key_values, so steps chain) and
   * the step's new states as outputs. export.ts lists them after the token inputs and `last_token`.
   */
  readonly stateInputs: ValueInfo[] = [];
  readonly stateOutputs: ValueInfo[] = [];
  readonly floatType: DataTypeCode;

  constructor(
    readonly dtype: WeightDType,
    private readonly fill: WeightFill = defaultFill,
  ) {
    this.floatType = onnxType(dtype);
  }

  fresh(hint: string): string {
    return `${hint}_${this.counter++}`;
  }

  /** Appends a node and returns its (first) output name. */
  op(op: string, inputs: readonly string[], attributes?: Record<string, AttributeValue>, opts: { domain?: string; hint?: string; outputs?: number } = {}): string {
    const outs = Array.from({ length: opts.outputs ?? 1 }, () => this.fresh(opts.hint ?? op.toLowerCase()));
    this.nodes.push({ op, inputs, outputs: outs, name: this.fresh(`n_${op}`), domain: opts.domain, attributes });
    return outs[0]!;
  }

  /**
   * The initializer of store `key` with `shape`; created on first use (synthetic values,
   * uniform ±scale around offset), reused afterwards. A reader with the same element count but
   * another shape (a transposed tie) gets the first reader's tensor and handles the layout.
   */
  weight(key: string, shape: readonly number[], scale: number, offset = 0, opts: { readonly compose?: (fill: (key: string, shape: readonly number[]) => Uint8Array) => Uint8Array } = {}): StoredWeight {
    const hit = this.stores.get(key);
    if (hit) {
      const a = hit.shape.reduce((x, y) => x * y, 1);
      const b = shape.reduce((x, y) => x * y, 1);
      if (a !== b) throw new Error(`store '${key}' is read as [${shape.join(', ')}] and as [${hit.shape.join(', ')}]`);
      return hit;
    }
    // `compose`: an initializer laid out from other keys' values (kernels/layers/moe-fused.ts
    // stacks an expert bank's copies `<key>[i]`, each drawn as when it is its own initializer),
    // so both layouts of the same stored elements (and any fill keyed by copy) give the same weights.
    const raw = opts.compose ? opts.compose((k, s) => this.fill(k, s, this.dtype, scale, offset)) : this.fill(key, shape, this.dtype, scale, offset);
    if (opts.compose && raw.length > 0 && raw.length !== shape.reduce((x, y) => x * y, 1) * (this.dtype === 'fp16' ? 2 : 4)) throw new Error(`store '${key}': composed ${raw.length} bytes for [${shape.join(', ')}]`);
    this.initializers.push({ name: key, dataType: this.floatType, dims: shape, raw });
    this.distributions.set(key, { scale, offset });
    this.initializerElements += BigInt(shape.reduce((x, y) => x * y, 1));
    const w = { name: key, shape };
    this.stores.set(key, w);
    return w;
  }

  /**
   * A KV-cache tensor of a decode graph: an initializer (so the probe's input stays a few token
   * ids) holding synthetic keys or values, counted apart from the parameters.
   */
  cache(key: string, shape: readonly number[]): string {
    const hit = this.stores.get(key);
    if (hit) return hit.name;
    const raw = this.fill(key, shape, this.dtype, 1, 0);
    this.initializers.push({ name: key, dataType: this.floatType, dims: shape, raw });
    this.distributions.set(key, { scale: 1, offset: 0 });
    this.cacheElements += BigInt(shape.reduce((x, y) => x * y, 1));
    this.stores.set(key, { name: key, shape });
    this.cacheKeys.add(key);
    return key;
  }

  /** Whether initializer `name` is a KV cache (cache()), not a weight. */
  isCache(name: string): boolean {
    return this.cacheKeys.has(name);
  }

  /** A recurrent-state input of a decode graph, `key` [shape], counted apart from the parameters in stateElements. */
  state(key: string, shape: readonly number[]): string {
    if (this.stateInputs.some((i) => i.name === key)) throw new Error(`state '${key}' is read twice`);
    this.stateElements += BigInt(shape.reduce((x, y) => x * y, 1));
    this.stateInputs.push({ name: key, dataType: this.floatType, dims: shape });
    return key;
  }

  /** Makes `value` ([shape]) the graph output `name`: a decode step's new recurrent state. */
  stateOutput(name: string, value: string, shape: readonly number[]): void {
    this.nodes.push({ op: 'Identity', inputs: [value], outputs: [name], name: this.fresh('n_Identity') });
    this.stateOutputs.push({ name, dataType: this.floatType, dims: shape });
  }

  /** An int64 constant (shapes, axes, indices). */
  ints(values: readonly number[], scalar = false): string {
    const k = `i64:${scalar}:${values.join(',')}`;
    const hit = this.constants.get(k);
    if (hit) return hit;
    const raw = new Uint8Array(new BigInt64Array(values.map((v) => BigInt(v))).buffer);
    const name = this.constNode({ name: 'c', dataType: DataType.INT64, dims: scalar ? [] : [values.length], raw });
    this.constants.set(k, name);
    return name;
  }

  /** A float constant of the model's dtype (a scalar, or a vector of `length` equal values). */
  float(value: number, length?: number): string {
    const k = `f:${value}:${length ?? 's'}`;
    const hit = this.constants.get(k);
    if (hit) return hit;
    const n = length ?? 1;
    const raw = this.dtype === 'fp16' ? halfBytes(value, n) : new Uint8Array(new Float32Array(n).fill(value).buffer);
    const name = this.constNode({ name: 'c', dataType: this.floatType, dims: length === undefined ? [] : [length], raw });
    this.constants.set(k, name);
    return name;
  }

  /**
   * A float constant tensor of the model's dtype, element i = value(i) in row-major order over
   * `dims`; `key` names the table (equal keys are one Constant node, so give each table its own).
   */
  floats(key: string, dims: readonly number[], value: (i: number) => number): string {
    const k = `ft:${key}:${dims.join('x')}`;
    const hit = this.constants.get(k);
    if (hit) return hit;
    const n = dims.reduce((a, b) => a * b, 1);
    const raw =
      this.dtype === 'fp16'
        ? new Uint8Array(Uint16Array.from({ length: n }, (_, i) => toHalf(value(i))).buffer)
        : new Uint8Array(Float32Array.from({ length: n }, (_, i) => value(i)).buffer);
    const name = this.constNode({ name: 'c', dataType: this.floatType, dims, raw });
    this.constants.set(k, name);
    return name;
  }

  private constNode(t: TensorData): string {
    return this.op('Constant', [], { value: { kind: 'tensor', value: t } }, { hint: 'const' });
  }
}

function halfBytes(value: number, n: number): Uint8Array {
  const one = synthetic('', 1, 'fp16', 0, value);
  const h = new Uint16Array(n).fill(new Uint16Array(one.buffer)[0]!);
  return new Uint8Array(h.buffer);
}
