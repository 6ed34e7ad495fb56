// ONNX export of a `.npas` model: walks the evaluated module tree in member order, emits each
// layer on a [T, width] hidden state, and reads every weight from the initializer of its store
// (tied embeddings, `tie a = b`, `share STACK: strategy` and shared sub-paths all resolve to one
// initializer). Input: token ids [batch, seq]; output: the last token's final hidden state
// (logits when the model ends in an LM head), [batch, width], float32 — small by design.
// The wiring of the members (and an encoder-decoder's two inputs) is kernels/data-flow.ts's Exporter.

import { closeSync, openSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import type { AnalysisOptions, Compilation, ModelReport, SharedPrefix } from '../src/core/index.js';
import { DECODER_IDS, Exporter, isEncoderDecoder, type Item, type TokenInput } from './data-flow.js';
import { ExportError, loadModel } from './engine-bridge.js';
import { GraphBuilder, defaultFill, type GraphParts, type WeightFill } from './graph-builder.js';
import type { EmitContext } from './layers/emit.js';
import type { OpsMode } from './layers/context.js';
import { checkedSharedPrefix, continuationEnds } from './layers/shared-prefix.js';
import { generationTally, type GenerationMode, type GenerationTally } from './generated/state.js';
import { attr, DataType, concat, encodeModel, type EncodeOptions, type ModelSpec } from './onnx-writer.js';
import type { WeightDType } from './weights.js';

export { ExportError } from './engine-bridge.js';

export interface ExportOptions {
  readonly dtype?: WeightDType;
  /** Replaces the synthetic fill (tests copy one model's weights into its twin). */
  readonly fill?: WeightFill;
  /**
   * Build one decode step instead of a prefill: input ids [batch, 1], a KV cache of `past`
   * positions per attention layer held in initializers (counted in kvCacheElements), and the
   * recurrent layers' states as graph inputs and outputs (stateInputs, recurrentStateElements).
   */
  readonly decode?: {
    readonly batch: number;
    readonly past: number;
    /**
     * Token smashing: build a micro step (the token joins the group a macro step opened) instead
     * of the macro step; it reads the macro step's `smashed_state` as an input
     * (layers/token-smashing.ts).
     */
    readonly micro?: boolean;
  };
  /**
   * Settings for the engine report that travels with the export (seq, batch, dtype, device). Its
   * `sharedPrefix` also shapes the graph: a prefill's rows of `input_ids` are the prompt and the k
   * continuations end to end, positions restart per continuation, each attends to the prompt and
   * itself only, and `last_token` is each continuation's last, [batch, k, width]; a decode step's
   * `input_ids` [batch, k] are the continuations' new tokens, each attending the prompt's cache
   * (held once) and its own (layers/shared-prefix.ts).
   */
  readonly analysis?: Partial<AnalysisOptions>;
  /**
   * Generated weights (hash, bank, dict, VB-LoRA, MoS, AS-LoRA's group pick): 'materialised'
   * (default) lets ONNX Runtime fold them once at session creation; 'live' rebuilds them on every
   * forward (the training-time cost of generation). kernels/generated/state.ts.
   */
  readonly generation?: GenerationMode;
  /**
   * 'fused' (default): ORT's com.microsoft contrib ops where the CPU and CUDA providers both
   * implement them (GroupQueryAttention, MultiHeadAttention, SkipSimplifiedLayerNormalization, …;
   * docs/probes.md); 'standard': ai.onnx ops only (attention as MatMul/Softmax with a mask).
   */
  readonly ops?: OpsMode;
}

export interface ExportResult {
  readonly modelName: string;
  readonly spec: ModelSpec;
  readonly dtype: WeightDType;
  /** Σ elements of the weight initializers. */
  readonly initializerElements: bigint;
  /** Σ elements of the KV-cache initializers (decode graphs; 0 for prefill). */
  readonly kvCacheElements: bigint;
  /**
   * Σ elements of the recurrent states a decode graph carries (Mamba, Mamba-2, Gated DeltaNet;
   * layers/recurrent-step.ts); 0 for prefill.
   */
  readonly recurrentStateElements: bigint;
  /**
   * A decode graph's recurrent-state inputs `state.<path>.<part>`, float [batch, …] in the graph's
   * dtype; the step's updates are the outputs `next_state.<path>.<part>` of the same shapes.
   */
  readonly stateInputs: readonly { readonly name: string; readonly dims: readonly number[] }[];
  /** The engine's params.stored. */
  readonly storedParams: bigint;
  /**
   * Stored parameters this graph does not read (an encoder-decoder's encoder in a decode step):
   * initializerElements + skippedParams = storedParams; 0 otherwise.
   */
  readonly skippedParams: bigint;
  readonly initializers: number;
  /** Per initializer: how its synthetic values were drawn (the PyTorch twin redraws them). */
  readonly distributions: ReadonlyMap<string, { readonly scale: number; readonly offset: number }>;
  readonly nodes: number;
  /** Width of the output (vocabulary for an LM head). */
  readonly outputWidth: number;
  /** The prompt shared by continuations the prefill graph packs (ExportOptions.analysis.sharedPrefix), if any. */
  readonly sharedPrefix: SharedPrefix | undefined;
  /** Rows of the token embedding: token ids must stay below it. */
  readonly inputVocab: number;
  /**
   * The token-id inputs, int64 [batch, length] ([batch, 1] in a decode step): `input_ids`, or for
   * an encoder-decoder `input_ids` (the source, length src_seq) and `decoder_input_ids` (the
   * target, length seq); a decode step reads `decoder_input_ids` only.
   */
  readonly inputs: readonly TokenInput[];
  /** Largest sequence a learned position table allows, if the model has one. */
  readonly maxSeq: number | undefined;
  readonly report: ModelReport;
  /** What the graph is built from, by kind (attention on standard ops, fused cross-attention, recursions, parallel streams). */
  readonly parts: Readonly<GraphParts>;
  /** What the graph generates from stored tensors, and whether it runs per forward. */
  readonly generation: GenerationTally;
}

/** Builds the ONNX model of `modelName` in `source` (a spec's text, or its compilation with imports followed); throws ExportError with a readable message. */
export function exportModel(source: string | Compilation, modelName: string | undefined, options: ExportOptions = {}): ExportResult {
  const dtype = options.dtype ?? 'fp32';
  const share = options.analysis?.sharedPrefix && checkedSharedPrefix(options.analysis.sharedPrefix);
  const model = loadModel(source, modelName, { ...options.analysis, dtype: options.analysis?.dtype ?? (dtype === 'fp16' ? 'fp16' : 'fp32') });
  const g = new GraphBuilder(dtype, options.fill ?? defaultFill);
  // An encoder-decoder's decode step reads only the decoder's ids (the encoder does not run).
  const ids = options.decode && isEncoderDecoder(model.members.map((m) => m.node)) ? DECODER_IDS : 'input_ids';
  const idsShape = g.op('Shape', [ids], undefined, { hint: 'ids_shape' });
  const seqLen = g.op('Gather', [idsShape, g.ints([1], true)], { axis: attr.int(0) }, { hint: 'seq' });
  // A shared prompt's decode step at context past = P + C: each continuation needs a token of its own (C ≥ 1), as the engine's P < seq.
  if (share && options.decode && share.tokens >= options.decode.past) throw new ExportError(`a decode step with a prompt of ${share.tokens} tokens shared by continuations needs a context (--decode-past) above the prompt, each continuation having a token of its own; got ${options.decode.past}`);
  const ctx: EmitContext = { g, model, ids, idsShape, seqLen, masks: new Map(), kv: new Map(), decode: options.decode, generation: options.generation ?? 'materialised', ops: options.ops ?? 'fused', ...(share ? { sharedPrefix: share } : {}) };
  const exporter = new Exporter(ctx, options.decode ? (options.analysis?.srcSeq ?? options.decode.past) : undefined);
  const items: Item[] = model.members.map((m) => ({ name: m.name, node: m.node }));
  const h = exporter.run(items);
  const out = exporter.ctx; // the token stream the output is read from (an encoder-decoder's decoder)
  if (h.x === undefined) throw new Error('the model produced no output');
  // A convolutional model's output is one row per sample ([B, w] after GlobalPool/Flatten, layers/conv.ts).
  if (h.spatial !== undefined) throw new ExportError(`the model ends on a feature map [batch, ${h.width}, ${h.spatial.join(', ')}]; a GlobalPool or Flatten (and a head) after it gives the small output the probe reads`);
  // Last token of every sequence: [T, w] → [B, S, w] → index S-1 on axis 1 → [B, w], float32;
  // with a shared prompt, the last token of each continuation: [B, k, w] (a decode step's B·k
  // rows, one per continuation, laid out the same).
  const gathered = h.samples
    ? h.x
    : g.op('Gather', [g.op('Reshape', [h.x, g.op('Concat', [out.idsShape, g.ints([h.width])], { axis: attr.int(0) })]), share && !options.decode ? continuationEnds(ctx, share) : g.op('Sub', [out.seqLen, g.ints([1], true)])], { axis: attr.int(1) }, { hint: 'last' });
  const last = share && options.decode ? g.op('Reshape', [gathered, g.ints([-1, share.continuations, h.width])], undefined, { hint: 'last' }) : gathered;
  g.nodes.push({ op: 'Cast', inputs: [last], outputs: ['last_token'], name: 'output_cast', attributes: { to: attr.int(DataType.FLOAT) } });
  for (const input of exporter.inputs) g.inputs.push({ name: input.name, dataType: DataType.INT64, dims: options.decode ? [options.decode.batch, input.decodeTokens ?? 1] : ['batch', input.length] });
  g.outputs.push({ name: 'last_token', dataType: DataType.FLOAT, dims: share ? ['batch', share.continuations, h.width] : ['batch', h.width] });
  g.inputs.push(...g.stateInputs, ...exporter.smashInputs);
  g.outputs.push(...g.stateOutputs, ...exporter.smashOutputs);
  const spec: ModelSpec = {
    graph: { name: model.name, nodes: g.nodes, initializers: g.initializers, inputs: g.inputs, outputs: g.outputs },
    opsets: new Map([
      ['', 17],
      ['com.microsoft', 1],
    ]),
    producer: 'npas-studio',
    docString: `${model.name}: synthetic weights, one initializer per stored tensor (${model.report.params.stored} parameters)`,
    metadata: { 'npas.model': model.name, 'npas.params.stored': String(model.report.params.stored), 'npas.dtype': dtype },
  };
  return {
    modelName: model.name,
    spec,
    dtype,
    initializerElements: g.initializerElements,
    kvCacheElements: g.cacheElements,
    recurrentStateElements: g.stateElements,
    stateInputs: g.stateInputs.map((i) => ({ name: i.name, dims: i.dims.map(Number) })),
    storedParams: model.report.params.stored,
    skippedParams: exporter.skippedParams(),
    initializers: g.initializers.length,
    distributions: g.distributions,
    nodes: g.nodes.length,
    outputWidth: h.width,
    maxSeq: exporter.maxSeq,
    inputVocab: exporter.inputVocab,
    sharedPrefix: share,
    inputs: exporter.inputs,
    report: model.report,
    generation: generationTally(ctx),
    parts: { ...g.parts },
  };
}

/** The model as one buffer (for in-memory sessions; the weights must fit a protobuf). */
export function onnxBytes(result: ExportResult): Uint8Array {
  return concat(encodeModel(result.spec).model);
}

/**
 * Writes OUT.onnx (and OUT.onnx.data when the weights exceed the protobuf limit or
 * `externalThresholdBytes`), chunk by chunk, never joining the tensors into one buffer.
 */
export function writeOnnx(result: ExportResult, path: string, options: Pick<EncodeOptions, 'externalThresholdBytes' | 'externalMinBytes'> = {}): { bytes: number; externalPath: string | undefined; externalBytes: number } {
  const externalName = `${basename(path)}.data`;
  const encoded = encodeModel(result.spec, { ...options, externalName });
  writeChunks(path, encoded.model.chunks);
  let externalPath: string | undefined;
  if (encoded.external) {
    externalPath = `${path}.data`;
    writeChunks(externalPath, encoded.external.chunks);
  }
  return { bytes: encoded.model.length, externalPath, externalBytes: encoded.external?.length ?? 0 };
}

function writeChunks(path: string, chunks: readonly Uint8Array[]): void {
  const fd = openSync(path, 'w');
  try {
    for (const c of chunks) {
      let off = 0;
      while (off < c.length) off += writeSync(fd, c, off, c.length - off);
    }
  } finally {
    closeSync(fd);
  }
}
