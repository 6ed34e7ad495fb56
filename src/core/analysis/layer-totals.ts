// Totals of one layer instance under the modifiers that reach it: ties, adapters, hashed
// memory, SSN banks, MASA dictionaries, freeze/train. This is the only place that turns a
// layer's weights into stored / effective / active / trainable counts.

import { adaptedMatrix } from '../sharing/adapted-matrix.js';
import { adapterTaskRows } from './tasks.js';
import type { LayerNode } from '../model/module-tree.js';
import { mainWeight } from '../model/main-weight.js';
import type { WeightSpec } from '../layers/layer-kind.js';
import * as Q from '../numbers/rational.js';
import type { AdapterMethod, Modifier } from '../sharing/declarations.js';
import { factorExecution, factorLayout, factorShape, factorStorage } from '../sharing/factorization.js';
import { generatesWeight } from '../sharing/generated-weights.js';
import { sparseMasked } from '../sharing/factorized-weights.js';
import { tiedExecution, type TiedFactorStore } from '../sharing/tied-factors.js';
import { lorettaCost } from '../sharing/tt-adapter.js';
import { tiesWeight } from '../sharing/store-resolver.js';
import type { NodeReport } from './report-types.js';
import { routedSelection } from '../layers/weight-specs.js';
import { weightDtypeOverride } from './weight-dtypes.js';
import type { DType } from './report-types.js';
import { attentionKey, bankKey, EMPTY_TOTALS, NO_STATE, type AttentionEntry, type BankUse, type Tail, type Totals, type WeightBuild } from './totals.js';

const numel = (shape: readonly number[]): bigint => shape.reduce((p, d) => p * BigInt(d), 1n);

/**
 * Whether weights under these modifiers are trainable: the last freeze/train wins. A pooled
 * sparse mask (`train PATHS: sparse(elements: k)`) freezes its weights here; its k trained
 * elements are counted once per model, after the walk (compilation.ts).
 */
export function isTrainable(mods: readonly Modifier[], baseFrozen: boolean): boolean {
  let trainable = !baseFrozen;
  let last = -1;
  for (const m of mods) {
    if ((m.effect.kind === 'freeze' || m.effect.kind === 'train' || m.effect.kind === 'train-sparse') && m.id > last) {
      last = m.id;
      trainable = m.effect.kind === 'train';
    }
  }
  return trainable;
}

/** Prefix of a global store key read by frozen weights only (see `globalTotals`). */
export const FROZEN_GLOBAL = '~frozen:';

/**
 * Sizes of the model-wide stores (hashed memories, SSN banks, MASA atoms, adapter banks), each
 * counted once; one is trainable when any trainable weight reads it.
 */
export function globalTotals(globals: ReadonlyMap<string, bigint>): { stored: bigint; trainable: bigint } {
  const stores = new Map<string, { size: bigint; trainable: boolean }>();
  for (const [key, size] of globals) {
    const frozen = key.startsWith(FROZEN_GLOBAL);
    const id = frozen ? key.slice(FROZEN_GLOBAL.length) : key;
    const prev = stores.get(id);
    stores.set(id, { size, trainable: (prev?.trainable ?? false) || !frozen });
  }
  let stored = 0n;
  let trainable = 0n;
  for (const s of stores.values()) {
    stored += s.size;
    if (s.trainable) trainable += s.size;
  }
  return { stored, trainable };
}

interface AdapterCost {
  /** Numbers this target owns in the checkpoint per task (shared banks are globals, counted once). */
  stored: bigint;
  /** Numbers this target owns that every task shares (a Polytropon inventory); stored and trained once. */
  taskShared?: bigint;
  /** Numbers this target owns that every task shares and none trains (ScaLearn's frozen source adapters); stored once. */
  frozenShared?: bigint;
  /** Numbers the adapted matmul uses once materialised: its A and B (and Tied-LoRA's u, v). */
  used: bigint;
  trainable: bigint;
  flops: bigint;
  /** Weight-gradient FLOPs per token and active copy when they differ from `flops` (a sparse mask's k entries). */
  gradientFlops?: bigint;
  globals: [string, bigint][];
  /** Model-wide stores every task shares (a hypernetwork's generator): not multiplied by the tasks. */
  sharedGlobals?: [string, bigint][];
  /** MACs per training step to generate this target's weights (a hypernetwork's), per copy. */
  generationMacs?: bigint;
  /** Active numbers per token when fewer than `used` (a routed library's top_k LoRAs and its prototypes). */
  active?: bigint;
  /** MACs computed once, before the model serves (Arrow's prototypes), per copy. */
  setupMacs?: bigint;
}

/** Power iterations per prototype: PEFT's `top_right_singular_vec_from_BA` (src/peft/tuners/lora/arrow.py, iters=15). */
export const ARROW_POWER_ITERATIONS = 15n;

/** Params and FLOPs an adapter adds to one matmul weight (per copy; FLOPs per active copy). */
function adapterCost(method: AdapterMethod, weight: string, dIn: number, dOut: number, statementKey: string): AdapterCost {
  const din = BigInt(dIn);
  const dout = BigInt(dOut);
  switch (method.kind) {
    case 'delta': {
      // TAPS: the target's own full-size ΔW, run beside W (2·d_in·d_out FLOPs) unless merged.
      const full = din * dout;
      return { stored: full, used: full, trainable: full, flops: method.merged ? 0n : 2n * full, globals: [] };
    }
    case 'sparse': {
      // FISH: k new values of W's entries (their positions are a fixed mask, not parameters),
      // merged into W: the model applies the same dense weight, so nothing more is used or run.
      // Training computes the k entries' gradients, Σ over tokens of δ_i·x_j: 2·k per token.
      const k = BigInt(method.elements);
      return { stored: k, used: 0n, trainable: k, flops: 0n, gradientFlops: 2n * k, globals: [] };
    }
    case 'hyper':
      return hyperCost(method, dout, statementKey);
    case 'hyper_lang':
      return languageHyperCost(method, dout, statementKey);
    case 'scalearn':
      return scalearnCost(method, dout, statementKey);
    case 'loretta_rep':
    case 'loretta_adp': {
      // Tensor-train factors (sharing/tt-adapter.ts): the cores (and the bottleneck's biases)
      // stored and trained; each train applied as split factors or materialised once per step,
      // whichever `factorExecution` picks. The statement check refused modes that do not fit.
      const c = lorettaCost(method, dIn, dOut);
      if (!c) return { stored: 0n, used: 0n, trainable: 0n, flops: 0n, globals: [] };
      return { stored: c.stored, used: c.used, trainable: c.stored, flops: c.flops, globals: [], generationMacs: c.generationMacs };
    }
    case 'arrow':
      return arrowCost(method, weight, din, dout);
    case 'bottleneck_adapter': {
      // fairseq/modules/bottleneck_adapter_block.py's BottleneckAdapter: layer_norm (nn.LayerNorm(d),
      // with `norm`), fc1 Linear(d, r), fc2 Linear(r, d); a token runs fc1 and fc2, 4·d·r FLOPs.
      const r = BigInt(method.bottleneck);
      const p = 2n * dout * r + r + dout + (method.norm ? 2n * dout : 0n);
      return { stored: p, used: p, trainable: p, flops: 4n * dout * r, globals: [] };
    }
    case 'psrp': {
      // mingzeG/Moment-Probing models/representation/PSRP.py: down Linear(d, r), up_weight and
      // up_bias Linear(r, d), all bias-free; PSRP.forward computes relu(down(x)) twice, once per
      // up projection, so a token runs 2·(2·d·r) + 2·(2·r·d) FLOPs.
      const p = 3n * BigInt(method.rank) * dout;
      return { stored: p, used: p, trainable: p, flops: 8n * BigInt(method.rank) * dout, globals: [] };
    }
    default:
      return lowRankCost(method, din, dout, statementKey);
  }
}

/**
 * HyperFormer++ (hyperformer/adapters/adapter_modeling.py, AdapterLayersOneHyperNetController):
 * per target, an adapter d → r → d with biases (and a LayerNorm) generated from the task, layer
 * and block embeddings, stored nowhere: the statement's generator holds the L layer and K block
 * embeddings [·, t], the task MLP Linear(3t, h) · ReLU · Linear(h, p) and a LayerNorm(p), the
 * weight generators Linear(p, d·r) twice, the bias generators Linear(p, r) and Linear(p, d), and
 * with `norm` the LayerNorm generators Linear(p, d) twice, every Linear with a bias; the model
 * holds one task embedding table [T, t]. A token runs the generated adapter: 2·d·r + 2·r·d
 * FLOPs. Each step generates every target's weights once, for the step's task.
 */
function hyperCost(method: Extract<AdapterMethod, { readonly kind: 'hyper' }>, d: bigint, statementKey: string): AdapterCost {
  const r = BigInt(method.bottleneck);
  const t = BigInt(method.embedding);
  const h = BigInt(method.hidden);
  const p = BigInt(method.projected);
  const norm = method.norm ? 2n * d : 0n;
  const embeddings = BigInt(method.layers + method.blocks) * t;
  const taskMlp = 3n * t * h + h + h * p + p + 2n * p;
  const weightGenerators = 2n * (p * d * r + d * r);
  const biasGenerators = p * r + r + p * d + d;
  const normGenerators = method.norm ? 2n * (p * d + d) : 0n;
  const generated = 2n * d * r + r + d + norm;
  return {
    stored: 0n,
    used: generated,
    trainable: 0n,
    flops: 4n * d * r,
    globals: [[`hyper:tasks:${method.embedding}`, t]],
    sharedGlobals: [[`${statementKey}:generator`, embeddings + taskMlp + weightGenerators + biasGenerators + normGenerators]],
    generationMacs: 3n * t * h + h * p + 2n * p * d * r + p * (r + d) + (method.norm ? 2n * p * d : 0n),
  };
}

/**
 * Hyper-Adapters (Baziotis et al. 2022; fairseq/modules/hyper_adapter.py, HyperNetwork, as in
 * facebookresearch/fairseq@1ecbb803654fd6641dac8a52de0fb55cf4ede0ba, "added hyperadapters"): per
 * target an adapter LayerNorm · Linear(d, r) · act · Linear(r, d) + residual, generated from the
 * source-language, target-language and layer embeddings, stored nowhere. The statement's
 * hypernetwork holds the language tables [N, e] (one when tied), the layer embeddings [L, e],
 * the encoder — an optional LayerNorm(3e), fc_input Linear(3e, h), n residual blocks of
 * LayerNorm(h), Linear(h, h) and Linear(h, h), an optional LayerNorm(h) — and the heads
 * Linear(h, d·r) twice (down and up weights), Linear(h, r), Linear(h, d) (their biases) and with
 * `norm` Linear(h, d) twice (the adapter's LayerNorm γ and β), every Linear with a bias. A token
 * runs the generated adapter, 4·d·r FLOPs; each step generates every target's adapter once.
 */
function languageHyperCost(method: Extract<AdapterMethod, { readonly kind: 'hyper_lang' }>, d: bigint, statementKey: string): AdapterCost {
  const r = BigInt(method.bottleneck);
  const e = BigInt(method.embedding);
  const h = BigInt(method.hidden);
  const n = BigInt(method.encoderLayers);
  const tables = (method.tied ? 1n : 2n) * BigInt(method.languages) * e + BigInt(method.layers) * e;
  const encoder = (method.inputNorm ? 2n * 3n * e : 0n) + 3n * e * h + h + n * (2n * h + 2n * (h * h + h)) + (method.outputNorm ? 2n * h : 0n);
  const heads = 2n * (h * d * r + d * r) + h * r + r + h * d + d + (method.norm ? 2n * (h * d + d) : 0n);
  return {
    stored: 0n,
    used: 2n * d * r + r + d + (method.norm ? 2n * d : 0n),
    trainable: 0n,
    flops: 4n * d * r,
    globals: [],
    sharedGlobals: [[`${statementKey}:hypernetwork`, tables + encoder + heads]],
    generationMacs: 3n * e * h + n * 2n * h * h + 2n * h * d * r + h * (r + d) + (method.norm ? 2n * h * d : 0n),
  };
}

/**
 * ScaLearn (CPJKU/ScaLearn, adapter-transformers/src/transformers/adapters/modeling.py: ScaLearn,
 * ScaLearnPlusPlus, init_shared_parameters_scalearn; layer.py: scalearn): on a target's output
 * (width d), N frozen source adapters, each Linear(d, r) · ReLU · Linear(r, d) with biases
 * (2·d·r + r + d), every task reads the same ones; a target task learns ω [N, d] (vector) or
 * [N, 1] (scalar, the Uniform variants) and the output is Σ_n ω_n ⊙ up_n + the residual. Without
 * `shared` ω sits at every target (ScaLearn: per layer); with it one ω per statement and width
 * serves every layer (ScaLearn++: the model's shared_parameters). Per token: the N adapters,
 * 4·N·d·r FLOPs, and the scaled sum, 2·N·d; ω's gradient is 2·N·d per token.
 */
function scalearnCost(method: Extract<AdapterMethod, { readonly kind: 'scalearn' }>, d: bigint, statementKey: string): AdapterCost {
  const n = BigInt(method.sources);
  const r = BigInt(method.bottleneck);
  const omega = n * (method.scaling === 'vector' ? d : 1n);
  const sources = n * (2n * d * r + r + d);
  const own = method.shared ? 0n : omega;
  return {
    stored: own,
    frozenShared: sources,
    used: sources + omega,
    trainable: own,
    flops: 4n * n * d * r + 2n * n * d,
    gradientFlops: 2n * n * d,
    globals: method.shared ? [[`${statementKey}:omega:${d}`, omega]] : [],
  };
}

/**
 * Arrow (Ostapenko et al. 2024; mttl ArrowTransform, PEFT ArrowLoraLinearLayer): E frozen LoRAs
 * A_e [r, d_in], B_e [d_out, r] per target and a prototype p_e [d_in] per expert, the top right
 * singular vector of B_e·A_e, stored beside the library (mttl persists them as library
 * artifacts). A target holds E·r·d_out of B; the target that holds A (an untied one, or the
 * first of `tie`) also holds E·r·d_in of A and E·d_in of prototypes, and scores the token
 * against every prototype (2·E·d_in FLOPs). The token runs the k chosen LoRAs: 2·k·r·d_in for
 * x·A once, 2·k·r·d_out per target for B; |·|, top-k, the softmax over k and the mix's
 * k multiplications are elementwise and not counted (as no adapter's scaling is). Nothing trains.
 * Setup, once: per expert BᵀB (r²·d_out MACs per target) and, at the A holder, 15 power
 * iterations v ← Aᵀ(BᵀB)(A·v) / ‖·‖ of 2·r·d_in + r² + d_in MACs each.
 */
function arrowCost(method: Extract<AdapterMethod, { readonly kind: 'arrow' }>, weight: string, din: bigint, dout: bigint): AdapterCost {
  const e = BigInt(method.experts);
  const k = BigInt(method.topK);
  const r = BigInt(method.rank);
  const holdsA = !method.tie.includes(weight) || method.tie[0] === weight;
  const aPart = holdsA ? e * r * din + e * din : 0n;
  const stored = aPart + e * r * dout;
  return {
    stored,
    used: stored,
    active: (holdsA ? k * r * din + e * din : 0n) + k * r * dout,
    trainable: 0n,
    flops: (holdsA ? 2n * e * din + 2n * k * r * din : 0n) + 2n * k * r * dout,
    gradientFlops: 0n,
    globals: [],
    setupMacs: e * (r * r * dout + (holdsA ? ARROW_POWER_ITERATIONS * (2n * r * din + r * r + din) : 0n)),
  };
}

/** The low-rank methods: each stores or generates factors A [r, d_in] and B [d_out, r]. */
function lowRankCost(method: Exclude<Extract<AdapterMethod, { readonly rank: number }>, { readonly kind: 'loretta_rep' } | { readonly kind: 'arrow' } | { readonly kind: 'psrp' }>, din: bigint, dout: bigint, statementKey: string): AdapterCost {
  const dIn = Number(din);
  const dOut = Number(dout);
  const r = BigInt(method.rank);
  const lowRank = r * (din + dout);
  const flops = method.merged ? 0n : 2n * lowRank;
  switch (method.kind) {
    case 'lora':
      return { stored: lowRank, used: lowRank, trainable: lowRank, flops, globals: [] };
    case 'tied_lora':
      // A and B shared per shape; per target the vectors u (r) and v (d_out).
      return { stored: r + dout, used: lowRank + r + dout, trainable: r + dout, flops, globals: [[`${statementKey}:AB:${dIn}x${dOut}`, lowRank]] };
    case 'aslora':
      return {
        stored: 0n,
        used: lowRank,
        trainable: 0n,
        flops,
        globals: [
          [`${statementKey}:A:${dIn}`, r * din],
          [`${statementKey}:B:${dOut}`, BigInt(method.groups) * r * dout],
        ],
      };
    case 'vblora': {
      // S sub-vectors of length b; stored: k−1 mixing weights and k indices each (top-k saving);
      // trained: h logits each.
      const b = BigInt(method.length);
      const s = (lowRank + b - 1n) / b;
      const k = BigInt(method.topK);
      return { stored: s * (2n * k - 1n), used: lowRank, trainable: s * BigInt(method.vectors), flops, globals: [[`${statementKey}:bank`, BigInt(method.vectors) * b]] };
    }
    case 'poly': {
      // PEFT's PolyLayer: poly_lora_A [h, m, d_in/h, r] and poly_lora_B [h, m, r, d_out/h], the m
      // skills every task shares, and its router's module_logits [T, h·m], h·m numbers per task.
      // A token runs the mixture Σ w_s·A_s, Σ w_s·B_s: one rank-r adapter.
      const logits = BigInt(method.splits) * BigInt(method.skills);
      const inventory = BigInt(method.skills) * lowRank;
      return { stored: logits, taskShared: inventory, used: lowRank, trainable: logits, flops, globals: [] };
    }
    case 'mos': {
      // Shards of length d/l drawn from global pools per side and width; p private shards per target.
      const l = BigInt(method.shards);
      const n = BigInt(method.pool);
      const priv = BigInt(method.privateShards) * ((din + dout) / l);
      return {
        stored: priv,
        used: lowRank,
        trainable: priv,
        flops,
        globals: [
          [`${statementKey}:A:${dIn}`, n * (din / l)],
          [`${statementKey}:B:${dOut}`, n * (dout / l)],
        ],
      };
    }
  }
}

/** Computes a layer's totals and its report (weights as children). */
export function layerTotals(
  node: LayerNode,
  name: string,
  active: readonly Modifier[],
  weightMods: ReadonlyMap<string, readonly Modifier[]>,
  baseFrozen: boolean,
  view?: DType,
  /** The factorised store a tied weight reads, if any (walk.ts asks tied-factors.ts). */
  tiedStore?: (w: WeightSpec, modifiers: readonly Modifier[]) => TiedFactorStore | undefined,
): { totals: Totals; report: NodeReport } {
  const cost = node.cost;
  const main = mainWeight(node);
  let stored = 0n;
  let routedStored = 0n;
  let effective = 0n;
  let trainable = 0n;
  let activeCount = 0n;
  let flops = cost.flopsPerToken;
  // A layer that rebuilds its weights every step (LBDN's Cayley transform) says how much it costs.
  let generation = cost.generationMacsPerStep ?? 0n;
  // Forming a factorised store's W (or its chain's setup): per store, not per instance (Totals).
  let storeGeneration = 0n;
  // MACs computed once before serving (Arrow's prototypes).
  let setup = 0n;
  let embedding = 0n;
  let perInstanceStored = 0n;
  let perInstanceTrainable = 0n;
  const globals = new Map<string, bigint>();
  let builds: Map<string, WeightBuild> | undefined;
  const children: NodeReport[] = [];
  // The self-attention K/V projections and their adapters: what a KV borrower does not compute.
  const att = cost.attention;
  const kvWeights = att && !att.cross ? att.kvProducerWeights : [];
  const crossKvWeights = att?.cross ? att.kvProducerWeights : [];
  let crossKvActive = 0n;
  let kvStored = 0n;
  let kvPerInstanceStored = 0n;
  let kvPerInstanceTrainable = 0n;
  let kvEffective = 0n;
  let kvActive = 0n;
  let kvAdapterFlops = 0n;
  let kvAdapterGradientFlops = 0n;
  // Weights that carry FLOPs (matmuls, convolutions, routers), as applied per token, and the
  // trainable part of them: the layer's weight FLOPs are proportional to these (2 per weight
  // per token for a matmul; per output position for a convolution), so the trainable share of
  // its FLOPs is exact.
  let flopWeights = 0n;
  let trainableFlopWeights = 0n;
  let kvFlopWeights = 0n;
  let kvTrainableFlopWeights = 0n;
  let adapterFlops = 0n;
  // FLOPs per token the factor chains of factorised weights save over their dense matmuls (all,
  // trainable, and of the self-attention K/V projections).
  let chainSaved = 0n;
  let trainableChainSaved = 0n;
  let kvChainSaved = 0n;
  let kvTrainableChainSaved = 0n;
  let crossKvChainSaved = 0n;
  const banks = new Map<string, BankUse>();
  /**
   * Weight `w`'s active copies apply a factor chain of `chain` MACs per token instead of the
   * dense matmul of `dense`: the FLOPs they save (all, trainable, and the K/V projections').
   */
  const applyChain = (w: WeightSpec, dense: bigint, chain: bigint, trainableBase: boolean): void => {
    const saved = 2n * (dense - chain) * BigInt(w.activeCopies);
    chainSaved += saved;
    if (trainableBase) trainableChainSaved += saved;
    if (kvWeights.includes(w.name)) {
      kvChainSaved += saved;
      if (trainableBase) kvTrainableChainSaved += saved;
    }
    if (crossKvWeights.includes(w.name)) crossKvChainSaved += saved;
  };

  for (const w of cost.weights) {
    const mods = weightMods.get(w.name);
    const all = mods ? [...active, ...mods] : active;
    // A dtype view (weight-dtypes.ts) counts only the weights a `precision weights` override puts
    // in its dtype, and of them only their own numbers (adapters and model-wide stores stay in
    // the weights' class): every other weight counts as if it held nothing.
    const inView = view === undefined || weightDtypeOverride(all) === view;
    const n = inView ? numel(w.shape) : 0n;
    const setGlobal = (key: string, size: bigint): void => {
      if (view === undefined) globals.set(key, size);
    };
    const total = n * BigInt(w.copies);
    const used = n * BigInt(w.activeCopies);
    let wStored = total;
    let wEffective = total;
    let wActive = used;
    let wTrainable = 0n;
    const trainableBase = isTrainable(all, baseFrozen);
    const isMatrix = w.role === 'matmul' || w.role === 'conv';
    // A hashed memory, bank or dictionary holds base weights: frozen with them.
    const baseKey = trainableBase ? '' : FROZEN_GLOBAL;
    // A tied weight reads another module's store, whatever would have generated its own.
    const tied = all.some((m) => tiesWeight(m.effect, w, main));
    // A tied weight reading a factorised store runs as the store runs (tied-factors.ts): its
    // chain, or the W its owner materialises (generated there, once per step), or — when the
    // owner applies the factors and this user needs W itself — W built for the readers that need
    // it: once per step per store, however many readers (the walk folds one W per instance where
    // the owner is inside each instance of a run). A reader's own sparse mask scatters its entries
    // into the built W, no MACs.
    const store = tied && inView ? tiedStore?.(w, all) : undefined;
    if (store) {
      const how = tiedExecution(store, w, cost.generationMacsPerStep !== undefined, sparseMasked(all, w.name));
      if (how === 'factors') applyChain(w, BigInt(store.owner.matmul!.dOut) * BigInt(store.owner.matmul!.dIn), store.layout.chainMacsPerToken!, isTrainable(all, baseFrozen));
      else if (how === 'materialise') (builds ??= new Map()).set(store.key, { macs: store.layout.reconstructMacs * BigInt(store.owner.copies), owner: store.steps });
    }
    for (const m of all) {
      const e = m.effect;
      if (tiesWeight(e, w, main)) wStored = 0n;
      else if (e.kind === 'factorize' && generatesWeight(e, w) && !tied) {
        // Stored as factors (an MPO's central tensor possibly once model-wide), materialised
        // from them every training step: effective and active stay the dense weight's.
        const shape = factorShape(e.method, w)!;
        const result = factorLayout(e.method, shape.dOut, shape.dIn, shape.kernel);
        if (result.ok) {
          const storage = factorStorage(e.method, result.layout, w.copies);
          wStored = storage.perInstance;
          if (storage.global > 0n) setGlobal(`${baseKey}${e.label}:${w.name}:${w.shape.join('x')}`, storage.global);
          // The roofline counts the cheaper execution (factorization.ts, `factorExecution`): a
          // layer that rebuilds its own weights (LBDN) applies what it builds, not W, and a
          // sparse mask (FISH) replaces entries of W — both need W formed: dense.
          const dense = BigInt(shape.dOut) * BigInt(shape.dIn);
          if (cost.generationMacsPerStep === undefined && !sparseMasked(all, w.name) && factorExecution(result.layout, dense) === 'factors') {
            // Each of the copies a token reads applies the chain instead of the dense matmul
            // (2 FLOPs per weight per token); the chain's setup replaces materialising W.
            applyChain(w, dense, result.layout.chainMacsPerToken!, trainableBase);
            storeGeneration += result.layout.chainSetupMacs * BigInt(w.copies);
          } else storeGeneration += result.layout.reconstructMacs * BigInt(w.copies);
        }
      }
      else if (e.kind === 'hash' && generatesWeight(e, w)) {
        wStored = e.scales ? BigInt(w.copies) : 0n;
        setGlobal(`${baseKey}hash@${m.range.start}`, e.memory);
      } else if (e.kind === 'bank' && generatesWeight(e, w)) {
        const p = e.params;
        let k = n === 0n ? 1n : p / n;
        if (k < 1n) k = 1n;
        if (k > BigInt(e.templates)) k = BigInt(e.templates);
        // A fixed bank states each weight's template count outright (an allocator's plan), so
        // that a plan's stored count does not hinge on ⌊P/|W|⌋ landing where it was computed.
        if (e.fixed) k = BigInt(e.templates);
        // SSN: layers with a single template own no coefficients.
        wStored = k >= 2n ? k * BigInt(w.copies) : 0n;
        generation += k * total;
        setGlobal(`${baseKey}bank:${e.label}`, p);
      } else if (e.kind === 'dict' && generatesWeight(e, w)) {
        const s = BigInt(e.atoms);
        wStored = s * BigInt(w.copies);
        generation += s * total;
        setGlobal(`${baseKey}dict@${m.range.start}:${w.name}:${w.shape.join('x')}`, s * n);
      }
    }
    // Generated weights' own numbers (coefficients, scales, factors) belong to the weight's view alone.
    if (!inView) wStored = 0n;
    if (trainableBase) wTrainable = wStored;
    // A routed bank's weight matrices (not their biases, not adapters on them) are stored in the
    // experts' dtype, as GPT-OSS ships MXFP4 expert matrices with bf16 biases.
    const routedMatrix = w.activeCopies < w.copies && isMatrix;
    if (routedMatrix) routedStored += wStored;
    // Before adapters join it: the bank's own stored matrix (a prefill reads the chosen experts').
    const routedMatrixStored = routedMatrix ? wStored : 0n;
    const isKv = kvWeights.includes(w.name);
    if (isMatrix || w.role === 'router') {
      flopWeights += used;
      if (trainableBase) trainableFlopWeights += used;
      if (isKv) {
        kvFlopWeights += used;
        if (trainableBase) kvTrainableFlopWeights += used;
      }
    }
    if (isKv) kvStored += wStored;
    for (const m of all) {
      const e = m.effect;
      if (e.kind !== 'adapter' || (e.weights && !e.weights.includes(w.name)) || view !== undefined) continue;
      // A projection's matrix, or a convolution kernel under a merged delta (TAPS on ResNet).
      const matrix = adaptedMatrix(w, e.method);
      if (!matrix) continue;
      const a = adapterCost(e.method, w.name, matrix.dIn, matrix.dOut, `${e.method.kind}@${m.range.start}`);
      const copies = BigInt(w.copies);
      const activeCopies = BigInt(w.activeCopies);
      // Per-task adapters: every task's adapter is stored and trained; a token runs its task's
      // one, so effective, active and FLOPs are one adapter's. With `for_tasks` only the named
      // tasks own one here (TAPS: the others run the base weight).
      const tasks = BigInt(adapterTaskRows(e));
      const shared = (a.taskShared ?? 0n) * copies;
      const own = a.stored * copies * tasks + shared + (a.frozenShared ?? 0n) * copies;
      const ownTrainable = a.trainable * copies * tasks + shared;
      wStored += own;
      wTrainable += ownTrainable;
      perInstanceStored += own;
      perInstanceTrainable += ownTrainable;
      // Effective and active count the materialised adapter each instance applies, whatever
      // part of it lives in a shared bank (as hashed and generated weights count in full).
      wEffective += a.used * copies;
      wActive += (a.active ?? a.used) * activeCopies;
      flops += a.flops * activeCopies;
      const gradientFlops = (a.gradientFlops ?? a.flops) * activeCopies;
      adapterFlops += gradientFlops;
      for (const [k, v] of a.globals) globals.set(k, v * tasks);
      for (const [k, v] of a.sharedGlobals ?? []) globals.set(k, v);
      generation += (a.generationMacs ?? 0n) * copies;
      setup += (a.setupMacs ?? 0n) * copies;
      if (isKv) {
        kvPerInstanceStored += own;
        kvPerInstanceTrainable += ownTrainable;
        kvAdapterFlops += a.flops * activeCopies;
        kvAdapterGradientFlops += gradientFlops;
      }
    }
    if (isKv) {
      kvEffective += wEffective;
      kvActive += wActive;
    }
    if (crossKvWeights.includes(w.name)) crossKvActive += wActive;
    const selection = routedSelection(w);
    if (selection) {
      // A routed bank: which copies a batch reads depends on the batch (model-metrics.ts).
      const key = bankKey(w.copies, selection.topK, selection.draws, selection.load);
      const perCopy = Q.rational(wEffective, BigInt(w.copies));
      const matrixPerCopy = routedMatrix ? Q.fromBigInt(n) : Q.ZERO;
      const prev = banks.get(key);
      banks.set(key, {
        copies: w.copies,
        active: selection.topK,
        draws: selection.draws,
        ...(selection.load ? { load: selection.load } : {}),
        paramsPerCopy: prev ? Q.add(prev.paramsPerCopy, perCopy) : perCopy,
        matrixParamsPerCopy: prev ? Q.add(prev.matrixParamsPerCopy, matrixPerCopy) : matrixPerCopy,
        storedMatrix: (prev?.storedMatrix ?? 0n) + routedMatrixStored,
      });
    }
    if (w.role === 'embedding') embedding += total;
    stored += wStored;
    effective += wEffective;
    activeCount += wActive;
    trainable += wTrainable;
    children.push(weightReport(w, node, wStored, wEffective, wActive, wTrainable));
  }

  const attention = new Map<string, AttentionEntry>();
  let crossKvFlops = 0n;
  let selfKvFlops = 0n;
  if (att) {
    attention.set(attentionKey(att), { info: att, instances: Q.ONE, producers: att.cross || att.causal ? Q.ONE : Q.ZERO });
    if (att.cross) crossKvFlops = cost.kvProjectionFlopsPerToken - crossKvChainSaved;
    else selfKvFlops = cost.kvProjectionFlopsPerToken + kvAdapterFlops - kvChainSaved;
  }
  flops -= chainSaved;
  const share = (part: bigint, whole: bigint): Q.Rational => (whole === 0n ? Q.ZERO : Q.rational(part, whole));
  // Adapters always train (that is what they are for); a base weight's FLOPs train with it.
  const trainableFlops = Q.sub(Q.add(Q.mul(Q.fromBigInt(cost.flopsPerToken), share(trainableFlopWeights, flopWeights)), Q.fromBigInt(adapterFlops)), Q.fromBigInt(trainableChainSaved));
  const kvTrainableFlops = Q.sub(Q.add(Q.mul(Q.fromBigInt(att && !att.cross ? cost.kvProjectionFlopsPerToken : 0n), share(kvTrainableFlopWeights, kvFlopWeights)), Q.fromBigInt(kvAdapterGradientFlops)), Q.fromBigInt(kvTrainableChainSaved));
  const totals: Totals = {
    stored,
    routedStored,
    effective,
    trainable,
    perInstanceStored,
    perInstanceTrainable,
    active: Q.fromBigInt(activeCount),
    flops: Q.fromBigInt(flops),
    trainableFlops,
    banks,
    pools: [],
    maskElements: Q.fromBigInt(cost.maskElementsPerToken ?? 0n),
    tail: tailOf(cost.weights, att !== undefined),
    positionLimit: cost.positionLimit,
    crossKvFlops: Q.fromBigInt(crossKvFlops),
    crossKvActive: Q.fromBigInt(crossKvActive),
    selfKv: {
      stored: kvStored,
      perInstanceStored: kvPerInstanceStored,
      perInstanceTrainable: kvPerInstanceTrainable,
      effective: kvEffective,
      active: Q.fromBigInt(kvActive),
      flops: Q.fromBigInt(selfKvFlops),
      trainableFlops: kvTrainableFlops,
    },
    activation: Q.fromBigInt(cost.activationElementsPerToken),
    embeddingParams: embedding,
    generationMacs: generation + storeGeneration,
    storeGenerationMacs: storeGeneration,
    builds: builds ?? EMPTY_TOTALS.builds,
    setupMacs: setup,
    perSample: cost.perSample,
    attention,
    state: cost.recurrentState === undefined ? NO_STATE : cost.recurrentState.bits === undefined ? { elements: cost.recurrentState.elements, fixedBits: 0n } : { elements: 0n, fixedBits: cost.recurrentState.elements * BigInt(cost.recurrentState.bits) },
    globals,
  };
  const report: NodeReport = {
    name,
    kind: 'layer',
    type: node.layerKind,
    count: 1n,
    firstIndex: 0n,
    params: { stored, effective, active: activeCount, trainable },
    flopsPerToken: flops,
    kvCacheBytes: 0n,
    activationPerToken: cost.activationElementsPerToken,
    embeddingParams: embedding,
    range: node.range,
    children,
  };
  return { totals, report };
}

/** A layer ends a model in a projection when it applies exactly one plain matmul (Linear). */
function tailOf(weights: readonly WeightSpec[], attention: boolean): Tail {
  const bearing = weights.filter((w) => w.role === 'matmul' || w.role === 'conv' || w.role === 'router');
  if (bearing.length === 0) return undefined;
  const only = bearing[0]!;
  return !attention && bearing.length === 1 && only.role === 'matmul' && only.copies === 1 && only.matmul ? only.matmul.dOut : null;
}

function weightReport(w: WeightSpec, node: LayerNode, stored: bigint, effective: bigint, active: bigint, trainable: bigint): NodeReport {
  return {
    name: w.name,
    kind: 'weight',
    type: `${w.shape.join('×')}${w.copies > 1 ? ` ×${w.copies}` : ''}`,
    count: BigInt(w.copies),
    firstIndex: 0n,
    params: { stored, effective, active, trainable },
    flopsPerToken: 0n,
    kvCacheBytes: 0n,
    activationPerToken: 0n,
    embeddingParams: w.role === 'embedding' ? effective : 0n,
    weight: { role: w.role, shape: w.shape },
    range: node.range,
    children: [],
  };
}
