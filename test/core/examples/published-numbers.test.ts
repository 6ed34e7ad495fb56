// The example gallery (examples/*.npas) against the seed papers' published numbers.
// Every expected value is derived here from the paper's or checkpoint's configuration with the
// small counting helpers below, independently of the engine; where a paper or model card
// publishes the exact number, the derivation is first checked against that literal.
// Conventions followed (docs/language.md, docs/layers.md): stored counts every tied or shared
// store once; effective counts every layer instance's weights, a tied head included; active is
// effective with top_k of the routed experts; a multiply-add is 2 FLOPs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../../src/core/index.js';
import type { AnalysisOptions, ModelReport } from '../../../src/core/analysis/report-types.js';

// ---------------------------------------------------------------------------------------------
// Counting helpers: parameters of one layer, from its configuration (all bigint).

const B = (x: number): bigint => BigInt(x);

/** q, k, v, o of (grouped-query) attention; biases on all four when `bias`. */
function attention(d: number, heads: number, kvHeads = heads, headDim = d / heads, bias = false): bigint {
  const q = B(heads * headDim);
  const kv = B(kvHeads * headDim);
  const weights = B(d) * q + 2n * B(d) * kv + q * B(d);
  return bias ? weights + q + 2n * kv + B(d) : weights;
}

/** K and V projections alone (what a KV-borrowing layer drops). */
function kvProjections(d: number, kvHeads: number, headDim: number, bias = false): bigint {
  const kv = B(kvHeads * headDim);
  return 2n * (B(d) * kv + (bias ? kv : 0n));
}

/** Two-matrix FFN d → hidden → d. */
const mlp = (d: number, hidden: number, bias = true): bigint => 2n * B(d) * B(hidden) + (bias ? B(hidden) + B(d) : 0n);
/** Gated FFN (SwiGLU/GeGLU): gate, up, down. */
const gatedMlp = (d: number, hidden: number): bigint => 3n * B(d) * B(hidden);
const layerNorm = (d: number): bigint => 2n * B(d);
const rmsNorm = (d: number): bigint => B(d);
const linear = (dIn: number, dOut: number, bias = false): bigint => B(dIn) * B(dOut) + (bias ? B(dOut) : 0n);

/** DeepSeek-V2 MLA as Transformers' DeepseekV2Attention (kv_a_layernorm, q_a_layernorm included). */
function mla(d: number, heads: number, kvRank: number, rope: number, nope: number, v: number, qRank?: number): bigint {
  const qWidth = B(heads * (nope + rope));
  const query = qRank === undefined ? B(d) * qWidth : B(d) * B(qRank) + B(qRank) + B(qRank) * qWidth;
  return query + B(d) * B(kvRank + rope) + B(kvRank) + B(kvRank) * B(heads * (nope + v)) + B(heads * v) * B(d);
}

/** Σ (d_in + d_out) over a layer's matrices: LoRA params per unit rank. */
const loraPerRank = (shapes: readonly (readonly [number, number])[]): bigint =>
  shapes.reduce((sum, [dIn, dOut]) => sum + B(dIn + dOut), 0n);

// ---------------------------------------------------------------------------------------------
// Harness.

interface Expected {
  readonly stored?: bigint;
  readonly effective?: bigint;
  readonly active?: bigint;
  readonly trainable?: bigint;
  /** ModelReport.kvCacheBytes at the case's options. */
  readonly kvBytes?: bigint;
  /** FlopsReport.decode at the case's options. */
  readonly decode?: bigint;
  /** FlopsReport.generationPerStep: training FLOPs per step spent generating weights (6 × MACs). */
  readonly generationPerStep?: bigint;
  /** Forward FLOPs of the whole tree per token (per sample for convolutional models). */
  readonly treeFlops?: bigint;
}

interface Case {
  readonly file: string;
  readonly options: Partial<AnalysisOptions>;
  readonly models: Readonly<Record<string, Expected>>;
}

const EXAMPLES = join(__dirname, '..', '..', '..', 'examples');
const cache = new Map<string, readonly ModelReport[]>();

function reports(file: string, options: Partial<AnalysisOptions>): readonly ModelReport[] {
  const key = `${file} ${JSON.stringify(options)}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const text = readFileSync(join(EXAMPLES, file), 'utf8');
  const result = analyze(text, options);
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  assert.deepEqual(
    errors.map((d) => `${d.code}: ${d.message}`),
    [],
    `${file} must analyse without errors`,
  );
  cache.set(key, result.models);
  return result.models;
}

function report(file: string, name: string, options: Partial<AnalysisOptions> = {}): ModelReport {
  const found = reports(file, options).find((m) => m.name === name);
  assert.ok(found, `${file} defines ${name}`);
  return found;
}

function check(r: ModelReport, e: Expected): void {
  const label = (what: string) => `${r.name}: ${what}`;
  if (e.stored !== undefined) assert.equal(r.params.stored, e.stored, label('params.stored'));
  if (e.effective !== undefined) assert.equal(r.params.effective, e.effective, label('params.effective'));
  if (e.active !== undefined) assert.equal(r.params.active, e.active, label('params.active'));
  if (e.trainable !== undefined) assert.equal(r.params.trainable, e.trainable, label('params.trainable'));
  if (e.kvBytes !== undefined) assert.equal(r.kvCacheBytes, e.kvBytes, label('kvCacheBytes'));
  if (e.decode !== undefined) assert.equal(r.flops.decode, e.decode, label('flops.decode'));
  if (e.generationPerStep !== undefined) assert.equal(r.flops.generationPerStep, e.generationPerStep, label('flops.generationPerStep'));
  if (e.treeFlops !== undefined) assert.equal(r.tree.flopsPerToken, e.treeFlops, label('tree.flopsPerToken'));
}

const PER_TOKEN_BF16: Partial<AnalysisOptions> = { seq: 1, batch: 1, dtype: 'bf16' };

// ---------------------------------------------------------------------------------------------
// 1. ALBERT vs BERT (Lan et al., ICLR 2020, Tables 1 and 4), counted as HF BertModel/AlbertModel.

const bertLayer = (h: number): bigint => attention(h, h / 64, h / 64, 64, true) + 2n * layerNorm(h) + mlp(h, 4 * h);
// BERT: token (30,522) + 512 positions + 2 types + LayerNorm, L layers, pooler.
const bert = (h: number, l: number): bigint =>
  B(30_522 * h + 512 * h + 2 * h) + layerNorm(h) + B(l) * bertLayer(h) + linear(h, h, true);
// ALBERT: 30,000 × 128 table, 512 × 128 positions, 2 × 128 types, LayerNorm(128), 128 → H projection.
const albertRest = (h: number): bigint =>
  B(30_000 * 128 + 512 * 128 + 2 * 128) + layerNorm(128) + linear(128, h, true) + linear(h, h, true);
const albert = (h: number): bigint => albertRest(h) + bertLayer(h);
const albertBaseUnrolled = albertRest(768) + 12n * bertLayer(768);

const BERT_BASE = 109_482_240n; // HF bert-base-uncased BertModel (model card "110M"; ALBERT Table 1 "108M")
assert.equal(bert(768, 12), BERT_BASE);
const ALBERT_BASE = 11_683_584n; // HF albert-base-v2 AlbertModel ("11M"; ALBERT Table 1 "12M")
assert.equal(albert(768), ALBERT_BASE);

const albertCase: Case = {
  file: 'albert-vs-bert.npas',
  options: {},
  models: {
    BERTBase: { stored: BERT_BASE, effective: BERT_BASE },
    BERTLarge: { stored: bert(1024, 24) }, // 335,141,888 (Table 1 "334M")
    ALBERTBaseNotShared: { stored: albertBaseUnrolled, effective: albertBaseUnrolled }, // 89,650,176 (Table 4 "89M")
    ALBERTBase: { stored: ALBERT_BASE, effective: albertBaseUnrolled },
    // Table 4: shared-attention 64M, shared-FFN 38M (norms stay per layer).
    ALBERTBaseSharedAttention: {
      stored: albertRest(768) + attention(768, 12, 12, 64, true) + 12n * (2n * layerNorm(768) + mlp(768, 3072)),
    },
    ALBERTBaseSharedFFN: {
      stored: albertRest(768) + mlp(768, 3072) + 12n * (2n * layerNorm(768) + attention(768, 12, 12, 64, true)),
    },
    ALBERTLarge: { stored: albert(1024) }, // 17,683,968 (Table 1 "18M")
    ALBERTXLarge: { stored: albert(2048) }, // 58,724,864 (Table 1 "60M": not reproduced by rounding)
    ALBERTXXLarge: { stored: albert(4096) }, // 222,595,584 (Table 1 "235M": not reproduced by rounding)
  },
};

// ---------------------------------------------------------------------------------------------
// 2. Universal Transformer (t2t universal_transformer_base: d 1024, filter 4096, 16 heads, T 6).

const utEnc = 2n * layerNorm(1024) + attention(1024, 16) + mlp(1024, 4096); // 12,592,128
const utDec = 3n * layerNorm(1024) + 2n * attention(1024, 16) + mlp(1024, 4096); // 16,788,480
const utEmbed = B(32_768 * 1024);
const utRest = 2n * utEmbed + 2n * layerNorm(1024); // source and target tables, two final norms
const utUnrolled = 6n * (utEnc + utDec) + utRest; // 243,396,608

// KV: T decoder self-attention layers cache S tokens, T cross-attention layers the source's
// src_seq tokens, 2 · 1024 elements each; the bidirectional encoder caches nothing.
const utKv = (seq: bigint, srcSeq: bigint): bigint => 6n * 2n * 1024n * (seq + srcSeq) * 2n;

const utCase: Case = {
  file: 'universal-transformer.npas',
  options: { seq: 256, srcSeq: 128, batch: 1, dtype: 'bf16' },
  models: {
    // The softmax is tied to the target table: stored once, still executed (effective).
    TransformerUnrolled: { stored: utUnrolled, effective: utUnrolled + utEmbed, kvBytes: utKv(256n, 128n) },
    // 96,493,568 stored; one KV entry per step all the same.
    UniversalTransformer: { stored: utEnc + utDec + utRest, effective: utUnrolled + utEmbed, kvBytes: utKv(256n, 128n) },
  },
};

// ---------------------------------------------------------------------------------------------
// 3. Takase & Kiyono (fairseq transformer_wmt_en_de, shared embeddings, dictionary 32,768).

const tkEnc = attention(512, 8, 8, 64, true) + 2n * layerNorm(512) + mlp(512, 2048); // 3,152,384
const tkDec = 2n * attention(512, 8, 8, 64, true) + 3n * layerNorm(512) + mlp(512, 2048); // 4,204,032
const tkEmbed = B(32_768 * 512);
const tk = (sets: number): bigint => tkEmbed + B(sets) * (tkEnc + tkDec);
// The decoder's input table and the softmax read the encoder's table: stored once, executed thrice.
const tkEffective = (layers: number): bigint => tk(layers) + 2n * tkEmbed;

const takaseCase: Case = {
  file: 'takase-kiyono.npas',
  options: {},
  models: {
    TransformerWMT: { stored: tk(6), effective: tkEffective(6) }, // 60,915,712
    Sequence3: { stored: tk(3), effective: tkEffective(6) }, // 38,846,464
    Cycle3: { stored: tk(3), effective: tkEffective(6) },
    CycleRev3: { stored: tk(3), effective: tkEffective(6) },
    // The paper's point: 12 layers at exactly the 6-layer model's parameter count.
    CycleRevPaper: { stored: tk(6), effective: tkEffective(12) },
  },
};

// ---------------------------------------------------------------------------------------------
// 4. Relaxed Recursive Gemma (Bae et al., ICLR 2025) on Gemma 2B.

const gemmaLayer = 2n * rmsNorm(2048) + attention(2048, 8, 1, 256) + gatedMlp(2048, 16_384); // 110,104,576
const gemmaEmbed = B(256_000 * 2048);
const GEMMA_2B = 2_506_172_416n; // google/gemma-2b
assert.equal(18n * gemmaLayer + gemmaEmbed + rmsNorm(2048), GEMMA_2B);
const gemmaRecursive = 9n * gemmaLayer + gemmaEmbed + rmsNorm(2048); // non-embedding 0.99B ("Gemma 1B")
const gemmaLora = loraPerRank([
  [2048, 2048], // q
  [2048, 256], // k
  [2048, 256], // v
  [2048, 2048], // o
  [2048, 16_384], // gate
  [2048, 16_384], // up
  [16_384, 2048], // down
]);
assert.equal(gemmaLora, 68_096n); // methods.md: 68,096 per layer per unit rank
const gemmaRelax = 64n * 18n * gemmaLora; // 78,446,592
const gemmaKvPerToken = 18n * 2n * 256n * 2n; // 18 layers, one KV head of 256, bf16

const gemmaCase: Case = {
  file: 'relaxed-recursive-gemma.npas',
  options: { seq: 8192, batch: 1, dtype: 'bf16' },
  models: {
    // The tied head is stored once but executed: effective and active count it again.
    Gemma2B: { stored: GEMMA_2B, effective: GEMMA_2B + gemmaEmbed, kvBytes: 8192n * gemmaKvPerToken },
    RecursiveGemma: { stored: gemmaRecursive, effective: GEMMA_2B + gemmaEmbed, kvBytes: 8192n * gemmaKvPerToken },
    // relax adapters keep the base trainable: everything stored is trained.
    RelaxedRecursiveGemma: {
      stored: gemmaRecursive + gemmaRelax,
      effective: GEMMA_2B + gemmaEmbed + gemmaRelax, // every instance runs its own LoRA
      trainable: gemmaRecursive + gemmaRelax,
      kvBytes: 8192n * gemmaKvPerToken, // 144 MiB: sharing never shrinks the cache
    },
  },
};

// ---------------------------------------------------------------------------------------------
// 5. Mixture-of-Recursions on SmolLM-360M (middle-cycle, N_r = 3, 10 unique middle layers).

const smolLayer = 2n * rmsNorm(960) + attention(960, 15, 5, 64) + gatedMlp(960, 2560); // 9,832,320
const smolEmbed = B(49_152 * 960);
const smolVanilla = 32n * smolLayer + smolEmbed + rmsNorm(960); // 361,821,120 (non-embedding 314,635,200)
const smolRecursive = 12n * smolLayer + smolEmbed + rmsNorm(960); // non-embedding 117,988,800
const morRouters = 3n * 960n; // one Linear(960, 1, bias: false) per recursion
const smolKvPerToken = 2n * 5n * 64n * 2n; // 1,280 B per layer (bf16)
const MOR_SEQ = 3072n; // divisible by 3, so every capacity (1, 2/3, 1/3) is a whole number of tokens
// 20 reader instances (recursions 2 and 3) drop W_K and W_V under recursive KV sharing.
const morKvReaders = 20n * kvProjections(960, 5, 64);
// Active per token: instances of recursion r run on c_r = (3 − r)/3 of the tokens, so the 10
// middle layers count 1 + 2/3 + 1/3 = 2 times; the tables (embedding, tied head) count in full.
// Under KV sharing the readers (recursions 2 and 3, 2/3 + 1/3 of a layer's tokens) skip W_K, W_V.
const morActiveLayers = 2n * smolEmbed + rmsNorm(960) + 2n * smolLayer + 10n * 2n * smolLayer;
const morActiveKvSaved = 10n * kvProjections(960, 5, 64);
// The reference code's router at step r scores the tokens that survived step r − 1
// (MoRLlamaDecoderLayer.forward gathers prev_selected_tokens before calling mor_router):
// capacities 1, 1, 2/3, i.e. 8/3 routers of 960 per token.
const morRoutersActive = (960n * 8n) / 3n;

const morCase: Case = {
  file: 'mixture-of-recursions.npas',
  options: { seq: Number(MOR_SEQ), batch: 1, dtype: 'bf16' },
  models: {
    SmolLM360M: { stored: smolVanilla, effective: smolVanilla + smolEmbed, kvBytes: MOR_SEQ * 32n * smolKvPerToken },
    RecursiveMiddleCycle3: {
      stored: smolRecursive,
      effective: smolVanilla + smolEmbed,
      kvBytes: MOR_SEQ * 32n * smolKvPerToken,
    },
    // Recursion-wise caching: the 10 middle layers cache 1 + 2/3 + 1/3 = 2 sequences' worth.
    MoR3: {
      stored: smolRecursive + morRouters,
      effective: smolVanilla + smolEmbed + morRouters,
      kvBytes: MOR_SEQ * (2n + 10n * 2n) * smolKvPerToken,
    },
    // Recursive KV sharing: only the first recursion (capacity 1) writes KV.
    MoR3KVShare: {
      stored: smolRecursive + morRouters,
      effective: smolVanilla + smolEmbed + morRouters - morKvReaders,
      kvBytes: MOR_SEQ * (2n + 10n) * smolKvPerToken,
    },
  },
};

// ---------------------------------------------------------------------------------------------
// 6. MoEUT_244M (Csordás et al., NeurIPS 2024; moeut.py, profiles.py), vocabulary 8,000.

const [eD, eH, eDh, eNA, eKA, eNE, eS, eK] = [1024, 4, 128, 10, 2, 387, 128, 16];
const moeutLayer =
  2n * B(eD * eH * eDh) + // q, k
  2n * B(eH * eNA) * B(eD * eDh) + // V and O experts
  2n * B(eH * eNA * eD) + // sel_v, sel_o
  2n * B(eNE) * B(eD * eS) + // σ-MoE keys and values
  B(eNE * eD) + // expert_sel
  2n * layerNorm(eD); // ln1, ln2
assert.equal(moeutLayer, 113_466_368n); // methods.md: 113.47M per unique layer
const moeutActive =
  2n * B(eD * eH * eDh) + 2n * B(eH * eKA) * B(eD * eDh) + 2n * B(eH * eNA * eD) + 2n * B(eK) * B(eD * eS) + B(eNE * eD);
assert.equal(moeutActive, 7_818_240n); // methods.md: 7.82M active per layer application
const moeutLm = 2n * B(8000 * eD) + 8000n + layerNorm(eD); // embedding, biased lm_head, out_norm

const moeutCase: Case = {
  file: 'moeut.npas',
  options: PER_TOKEN_BF16,
  models: {
    MoEUT244M: {
      stored: 2n * moeutLayer + moeutLm, // 243,326,784
      effective: 18n * moeutLayer + moeutLm, // 2.04B unrolled + embeddings
      active: 18n * (moeutActive + 2n * layerNorm(eD)) + moeutLm,
      kvBytes: 18n * 2n * B(eH * eDh) * 2n, // 18,432 elements per token
    },
  },
};

// ---------------------------------------------------------------------------------------------
// 7. WideNet (Xue et al., AAAI 2022) and its ViT / ViT-MoE baselines, built as the authors'
// TensorFlow code builds them (XueFuzhao/WideNet_Code: widenet/configs.py, modeling.py,
// model_configs.py, submit_tpu.sh). Table: yuxuan-lou/WideNet, IMG/IMG/cv_performance.png.

// 14×14 patches of 16×16×3 (a Conv2D with kernel = stride = 16, biased) and 197 learned
// positions; the class token prepended by PatchEncoder is zeros, not a weight.
const vitStem = (d: number): bigint => linear(3 * 16 * 16, d, true) + B(197 * d);
// Final LayerNorm, 'gap' pooling (no weights), the representation layer Dense(d) + tanh
// (--use_representation) and the 1000-way Dense.
const vitHead = (d: number): bigint => layerNorm(d) + linear(d, d, true) + linear(d, 1000, true);
const vitAttn = (d: number, heads: number): bigint => attention(d, heads, heads, d / heads, true);
// Keras MultiHeadAttention with key_dim = value_dim = d / heads: q, k, v, o with biases.
const vitBlock = (d: number, heads: number): bigint => 2n * layerNorm(d) + vitAttn(d, heads) + mlp(d, 4 * d);
// The "Switch" layer: a bias-free router Dense(experts) and `experts` two-Dense experts, biased.
const switchRouter = (d: number, experts: number): bigint => B(d * experts);
const switchBlock = (d: number, heads: number, hidden: number, experts: number): bigint =>
  2n * layerNorm(d) + vitAttn(d, heads) + switchRouter(d, experts) + B(experts) * mlp(d, hidden);

interface VitShape {
  readonly d: number;
  readonly layers: number;
  readonly heads: number;
}
const VIT_B: VitShape = { d: 768, layers: 12, heads: 12 }; // configs.py get_b16 / get_moeb16
const VIT_L: VitShape = { d: 1024, layers: 24, heads: 16 }; // get_l16 / get_moel16
const VIT_H: VitShape = { d: 1280, layers: 32, heads: 16 }; // get_moeh14 (16×16 patches)
const EXPERTS = 4; // submit_tpu.sh: --num_experts=4 --top_k=2
const TOP_K = 2;

const vit = (s: VitShape): bigint => vitStem(s.d) + B(s.layers) * vitBlock(s.d, s.heads) + vitHead(s.d);
// timm's vit_base_patch16_224 (86,567,656) has a learned class token and no representation layer:
// the same blocks and stem otherwise, which checks the per-block count against an exact total.
assert.equal(vit(VIT_B) + B(VIT_B.d) - linear(768, 768, true), 86_567_656n);
// ViT-MoE: the last `moeLayers` blocks (the code's switch_deepth) carry the Switch layer instead of the MLP.
const vitMoe = (s: VitShape, hidden: number, moeLayers: number, experts: number): bigint =>
  vitStem(s.d) +
  B(s.layers - moeLayers) * vitBlock(s.d, s.heads) +
  B(moeLayers) * switchBlock(s.d, s.heads, hidden, experts) +
  vitHead(s.d);
// WideNet: one attention and one Switch layer stored; 2 LayerNorms per block.
const wideNet = (s: VitShape, hidden: number): bigint =>
  vitStem(s.d) + B(s.layers) * 2n * layerNorm(s.d) + vitAttn(s.d, s.heads) + switchRouter(s.d, EXPERTS) +
  B(EXPERTS) * mlp(s.d, hidden) + vitHead(s.d);

// The paper's table truncates to whole millions.
const millions = (n: bigint): bigint => n / 1_000_000n;
const PAPER_TABLE: readonly (readonly [string, bigint, bigint])[] = [
  ['ViT-B', vit(VIT_B), 87n],
  ['ViT-L', vit(VIT_L), 305n],
  ['ViT-MoE-B', vitMoe(VIT_B, 4096, 2, EXPERTS), 128n],
  ['ViT-MoE-L', vitMoe(VIT_L, 4096, 4, EXPERTS), 406n],
  ['WideNet-B', wideNet(VIT_B, 4096), 29n],
  ['WideNet-L', wideNet(VIT_L, 4096), 40n],
  ['WideNet-H', wideNet(VIT_H, 5120), 63n],
];
for (const [row, derived, published] of PAPER_TABLE) assert.equal(millions(derived), published, `WideNet table: ${row}`);
// The abstract's ratios, from the table's rounded values: 0.72× (WideNet-H / ViT-B),
// 0.46× (WideNet-L / ViT-B), 0.13× (WideNet-L / ViT-L).
const percent = (a: bigint, b: bigint): bigint => (200n * a + b) / (2n * b); // round(100 · a / b)
assert.deepEqual([percent(63n, 87n), percent(40n, 87n), percent(40n, 305n)], [72n, 46n, 13n]);

// Unrolled, every block runs its own copy of the shared layers; active keeps top_k experts.
const wideUnrolled = (s: VitShape, hidden: number, experts: number): bigint =>
  vitStem(s.d) + B(s.layers) * switchBlock(s.d, s.heads, hidden, experts) + vitHead(s.d);
const wideActive = (s: VitShape, hidden: number): bigint =>
  wideUnrolled(s, hidden, EXPERTS) - B(s.layers) * B(EXPERTS - TOP_K) * mlp(s.d, hidden);

const wideCase: Case = {
  file: 'widenet.npas',
  options: {},
  models: {
    ViTB16: { stored: vit(VIT_B), effective: vit(VIT_B) }, // 87,157,480
    ViTL16: { stored: vit(VIT_L) }, // 305,375,208
    ViTMoEB16: {
      stored: vitMoe(VIT_B, 4096, 2, EXPERTS), // 128,089,320
      active: vitMoe(VIT_B, 4096, 2, EXPERTS) - 2n * B(EXPERTS - TOP_K) * mlp(768, 4096),
    },
    ViTMoEL16: { stored: vitMoe(VIT_L, 4096, 4, EXPERTS) }, // 406,116,328
    WideNetB: {
      stored: wideNet(VIT_B, 4096), // 29,690,600
      effective: wideUnrolled(VIT_B, 4096, EXPERTS), // 332,748,520
      active: wideActive(VIT_B, 4096), // 181,636,840
    },
    WideNetL: { stored: wideNet(VIT_L, 4096), effective: wideUnrolled(VIT_L, 4096, EXPERTS) }, // 40,941,544
    WideNetH: { stored: wideNet(VIT_H, 5120), active: wideActive(VIT_H, 5120) }, // 63,341,800
  },
};

// ---------------------------------------------------------------------------------------------
// 8. CLA on a Llama-3-8B-shaped model; MLKV on Pythia-160M.

const llama3 = (kvHeads: number): bigint =>
  32n * (2n * rmsNorm(4096) + attention(4096, 32, kvHeads, 128) + gatedMlp(4096, 14_336)) +
  2n * B(128_256 * 4096) +
  rmsNorm(4096);
const LLAMA3_8B = 8_030_261_248n; // meta-llama/Meta-Llama-3-8B
assert.equal(llama3(8), LLAMA3_8B);
const llamaKv = (kvHeads: number, producers: number): bigint => B(producers) * 2n * B(kvHeads * 128) * 2n;

const claCase: Case = {
  file: 'cla-mlkv.npas',
  options: PER_TOKEN_BF16,
  models: {
    Llama3_8B: { stored: LLAMA3_8B, kvBytes: llamaKv(8, 32) }, // 128 KiB per token
    // CLA2: 16 of 32 layers borrow KV and drop W_K, W_V from stored and effective.
    Llama3_8B_CLA2: {
      stored: LLAMA3_8B - 16n * kvProjections(4096, 8, 128),
      effective: LLAMA3_8B - 16n * kvProjections(4096, 8, 128),
      kvBytes: llamaKv(8, 16), // 64 KiB
    },
    Llama3_8B_MQA: { stored: llama3(1), kvBytes: llamaKv(1, 32) }, // 16 KiB
    Llama3_8B_MQA_CLA2: { stored: llama3(1) - 16n * kvProjections(4096, 1, 128), kvBytes: llamaKv(1, 16) }, // 8 KiB
  },
};

const pythia = (kvHeads: number, ffn = 3072): bigint =>
  12n * (2n * layerNorm(768) + attention(768, 12, kvHeads, 64, true) + mlp(768, ffn)) +
  2n * B(50_304 * 768) +
  layerNorm(768);
const PYTHIA_160M = 162_322_944n; // Biderman et al. 2023, Table 1 (non-embedding 85,056,000)
assert.equal(pythia(12), PYTHIA_160M);
const pythiaKv = (kvHeadsInModel: number): bigint => B(kvHeadsInModel) * 2n * 64n * 2n; // fp16

// zaydzuhri/pythia-mlkv convert_to_mlkv.py: the K/V heads removed (weights and biases) are given
// back to every MLP. params_lost = heads_lost · (2 · 768 · 64 + 2 · 64); the intermediate size
// grows by round((params_lost // 12) / 768) // 2, Python's round sending a half to the even side.
const kvHeadParams = 2n * (768n * 64n + 64n);
const pyRoundDiv = (n: bigint, m: bigint): bigint => {
  const [q, r] = [n / m, n % m];
  return 2n * r > m || (2n * r === m && q % 2n === 1n) ? q + 1n : q;
};
function mlkvConverted(kvHeads: number, kvLayers: number): { ffn: number; stored: bigint } {
  const headsLost = B(12 * 12 - kvHeads * kvLayers);
  const ffn = 3072 + Number(pyRoundDiv((headsLost * kvHeadParams) / 12n, 768n) / 2n);
  // Layers without KV drop their (already reduced) K and V projections with biases.
  return { ffn, stored: pythia(kvHeads, ffn) - B(12 - kvLayers) * kvProjections(768, kvHeads, 64, true) };
}
// The script's other mode (--use_key_value_mlp) turns each kept K and V into a GELU MLP
// 768 → h → 64·kv_heads with h = round((lost // kv_layers // 2 + 64 · kv_heads · 768) / (768 + 64 · kv_heads));
// experiments.ipynb prints its MLKV-2 (1 head, layers 0 and 6) at 162,339,980: a check of params_lost.
const mlkv2Lost = B(12 * 12 - 2) * kvHeadParams;
const kvMlpHidden = pyRoundDiv(mlkv2Lost / 2n /* kv layers */ / 2n /* K and V */ + 64n * 768n, 768n + 64n); // 4,259 in the notebook's print-out
assert.equal(kvMlpHidden, 4259n);
assert.equal(PYTHIA_160M - 144n * kvHeadParams + 2n * 2n * (768n * kvMlpHidden + kvMlpHidden + kvMlpHidden * 64n + 64n), 162_339_980n);

const mqa = mlkvConverted(1, 12);
const mlkv2 = mlkvConverted(1, 2);
assert.deepEqual([mqa.ffn, mlkv2.ffn], [3777, 3830]);
// The README's table calls every variant "160M".
for (const v of [mqa, mlkv2]) assert.equal((v.stored + 5_000_000n) / 10_000_000n, 16n);

const mlkvCase: Case = {
  file: 'cla-mlkv.npas',
  options: { seq: 1, batch: 1, dtype: 'fp16' },
  models: {
    Pythia160M: { stored: PYTHIA_160M, kvBytes: pythiaKv(12 * 12) }, // 36,864 B
    Pythia160M_MQA: { stored: mqa.stored, kvBytes: pythiaKv(12) }, // 162,332,940; 3,072 B
    // MLKV: 2 KV heads in the model, 6× smaller than MQA; 10 layers drop W_K, W_V (with biases).
    Pythia160M_MLKV2: { stored: mlkv2.stored, kvBytes: pythiaKv(2) }, // 162,326,152; 512 B
  },
};

// ---------------------------------------------------------------------------------------------
// 9. DeepSeek-V2-Lite and DeepSeek-V2 (arXiv:2405.04434; HF configs).

function deepseek(o: {
  d: number;
  heads: number;
  qRank?: number;
  dense: number;
  moeLayers: number;
  hidden: number;
  experts: number;
  vocab: number;
}): { total: bigint; active: bigint } {
  const attn = mla(o.d, o.heads, 512, 64, 128, 128, o.qRank) + 2n * rmsNorm(o.d);
  const expert = gatedMlp(o.d, o.hidden);
  const router = B(o.d * o.experts);
  const shared = 2n * expert;
  const ends = 2n * B(o.vocab * o.d) + rmsNorm(o.d);
  const denseLayer = attn + gatedMlp(o.d, o.dense);
  return {
    total: ends + denseLayer + B(o.moeLayers) * (attn + router + shared + B(o.experts) * expert),
    active: ends + denseLayer + B(o.moeLayers) * (attn + router + shared + 6n * expert),
  };
}
const dsLite = deepseek({ d: 2048, heads: 16, dense: 10_944, moeLayers: 26, hidden: 1408, experts: 64, vocab: 102_400 });
const DS_V2_LITE = 15_706_484_224n; // HF DeepSeek-V2-Lite safetensors ("15.7B")
assert.equal(dsLite.total, DS_V2_LITE);
const dsV2 = deepseek({ d: 5120, heads: 128, qRank: 1536, dense: 12_288, moeLayers: 59, hidden: 1536, experts: 160, vocab: 102_400 });
const MLA_KV_ELEMENTS = 512n + 64n; // d_c + d_h^R per token and layer

const deepseekCase: Case = {
  file: 'deepseek-v2.npas',
  options: PER_TOKEN_BF16,
  models: {
    DeepSeekV2Lite: { stored: DS_V2_LITE, active: dsLite.active, kvBytes: 27n * MLA_KV_ELEMENTS * 2n },
    // 236B total / 21B active; KV 60 · 576 · 2 = 69,120 bytes per token.
    DeepSeekV2: { stored: dsV2.total, active: dsV2.active, kvBytes: 69_120n },
  },
};
assert.equal(60n * MLA_KV_ELEMENTS * 2n, 69_120n);

// ---------------------------------------------------------------------------------------------
// 10. ROAST / STABLE-RPS on BERT-base: the encoder's matmul weights hashed into m parameters.

const bertEncoderMatmuls = 12n * (4n * B(768 * 768) + 2n * B(768 * 3072)); // 84,934,656
const roast = (memory: bigint): bigint => BERT_BASE - bertEncoderMatmuls + memory;
assert.equal(bertEncoderMatmuls / 663_552n, 128n);
assert.equal(bertEncoderMatmuls / 82_944n, 1024n);

const roastCase: Case = {
  file: 'roast-hashed.npas',
  options: PER_TOKEN_BF16,
  models: {
    BERTBase: { stored: BERT_BASE },
    BERTRoast128x: { stored: roast(663_552n), effective: BERT_BASE }, // 25,211,136
    BERTRoast1024x: { stored: roast(82_944n), effective: BERT_BASE }, // 24,630,528
    BERTStableRPS128x: { stored: roast(663_552n), effective: BERT_BASE },
  },
};

// ---------------------------------------------------------------------------------------------
// 11. LoRA vs VB-LoRA on RoBERTa-base q, v (VB-LoRA scripts: r 4, h 90, b 256, k 2).

const ROBERTA_BASE = 124_645_632n; // HF roberta-base RobertaModel
assert.equal(
  B(50_265 * 768 + 514 * 768 + 768) + layerNorm(768) + 12n * bertLayer(768) + linear(768, 768, true),
  ROBERTA_BASE,
);
const qvTargets = 24n; // q and v in 12 layers, 768 × 768 each
const loraR4 = 4n * qvTargets * (768n + 768n); // 147,456
const subVectors = (4n * qvTargets * (768n + 768n)) / 256n; // 576
const vbLora = 90n * 256n + subVectors * (2n - 1n) + subVectors * 2n; // bank + weights + indices
assert.equal(vbLora, 24_768n); // methods.md §6
const vbLoraTrained = 90n * 256n + subVectors * 90n; // the bank and h logits per sub-vector: 74,880
// MoS (language.md): a global pool of n shards of length d/l per matrix side, plus p private
// shards of length (d_in + d_out)/l per target. l = 4, n = 24, p = 1.
const mos = 24n * (768n / 4n) + 24n * (768n / 4n) + qvTargets * 1n * ((768n + 768n) / 4n);
assert.equal(loraR4 / mos, 8n); // MoS abstract: "about 8× parameter savings"

// VB-LoRA "all": q, k, v, o (768 × 768) and up, down (768 ↔ 3072) in 12 layers, rank 4, b = 256.
const allShapes: readonly (readonly [number, number])[] = [
  [768, 768],
  [768, 768],
  [768, 768],
  [768, 768],
  [768, 3072],
  [3072, 768],
];
const allSubVectors = (12n * 4n * loraPerRank(allShapes)) / 256n; // 2,592
const vbLoraAll = 90n * 256n + allSubVectors * 3n; // the engine's count: k − 1 weights + k indices each
// VB-LoRA Table 1 (arXiv:2405.15179v3) counts a uint8 index as 1/4 of a float32 (§3.4): with
// k = 2, 1.5 float32 per sub-vector. "all" then matches the table's 0.027M; "qv" (0.023M) does not
// (23,904 rounds to 0.024M), which examples/README.md reports.
const paperStored = (subs: bigint): bigint => 90n * 256n + (3n * subs) / 2n;
const thousandths = (n: bigint): bigint => (n + 500n) / 1000n; // the table's "0.027M" as 27
assert.equal(paperStored(allSubVectors), 26_928n);
assert.equal(thousandths(paperStored(allSubVectors)), 27n);
assert.equal(thousandths(paperStored(subVectors)), 24n); // the table prints 0.023M
assert.equal(thousandths(2n * loraR4), 295n); // LoRA qv at rank 8: 0.295M

const vbCase: Case = {
  file: 'vblora-mos.npas',
  options: {},
  models: {
    RoBERTaBase: { stored: ROBERTA_BASE },
    RoBERTaLoRA: { stored: ROBERTA_BASE + loraR4, trainable: loraR4 },
    RoBERTaVBLoRA: { stored: ROBERTA_BASE + vbLora, trainable: vbLoraTrained },
    RoBERTaVBLoRAAll: {
      stored: ROBERTA_BASE + vbLoraAll, // 124,676,448
      trainable: 90n * 256n + allSubVectors * 90n, // the bank and 90 logits per sub-vector: 256,320
      effective: ROBERTA_BASE + 4n * 12n * loraPerRank(allShapes), // materialised rank-4 A and B
    },
    RoBERTaMoS: { stored: ROBERTA_BASE + mos, trainable: mos },
  },
};

// ---------------------------------------------------------------------------------------------
// 12. SSN on WRN-28-10 / CIFAR-100 at 10% (Plummer et al., ICLR 2022).

interface Conv {
  readonly weights: bigint;
  readonly outputPositions: bigint;
}
const conv = (cIn: number, cOut: number, k: number, outSide: number): Conv => ({
  weights: B(cIn * cOut * k * k),
  outputPositions: B(outSide * outSide),
});
function wideGroup(cIn: number, cOut: number, side: number): Conv[] {
  // WideDown (3×3, 3×3, 1×1 shortcut) then three Wide blocks of two 3×3, all at the output side.
  return [conv(cIn, cOut, 3, side), conv(cOut, cOut, 3, side), conv(cIn, cOut, 1, side), ...Array<Conv>(6).fill(conv(cOut, cOut, 3, side))];
}
const wrnConvs = [conv(3, 16, 3, 32), ...wideGroup(16, 160, 32), ...wideGroup(160, 320, 16), ...wideGroup(320, 640, 8)];
const wrnLayers = [...wrnConvs.map((c) => c.weights), 640n * 100n]; // + classifier weight
assert.equal(wrnLayers.length, 29);
const wrnWeights = wrnLayers.reduce((a, b) => a + b, 0n);
assert.equal(wrnWeights, 36_518_832n); // methods.md §1(e)
const wrnBatchNorm = 2n * B(16 + 160 + 6 * 160 + (160 + 320 + 6 * 320) + (320 + 640 + 6 * 640) + 640);
const WRN = wrnWeights + wrnBatchNorm + 100n; // 36,536,884 ("36.5M")
const wrnMacs = wrnConvs.reduce((sum, c) => sum + c.weights * c.outputPositions, 0n) + 640n * 100n;
const SSN_BUDGET = 3_651_883n; // 10% of 36,518,832
const templates = wrnLayers.map((w) => {
  const k = SSN_BUDGET / w;
  return k < 1n ? 1n : k > 8n ? 8n : k;
});
const coefficients = templates.reduce((sum, k) => (k >= 2n ? sum + k : sum), 0n);
assert.equal(coefficients, 132n); // methods.md §1(e): "WAvg adds 132 coefficients"
const generationMacs = templates.reduce((sum, k, i) => sum + k * (wrnLayers[i] ?? 0n), 0n);
assert.equal(generationMacs, 65_897_856n); // methods.md §1(e): 65.9M MACs per training step

const ssnCase: Case = {
  file: 'ssn-wrn-28-10.npas',
  options: { batch: 1 },
  models: {
    WRN28_10: { stored: WRN, effective: WRN, treeFlops: 2n * wrnMacs, decode: 2n * wrnMacs }, // 10,486,772,736 per image
    WRN28_10_SSN10: {
      stored: SSN_BUDGET + coefficients + wrnBatchNorm + 100n, // 3,670,067
      effective: WRN,
      generationPerStep: 6n * generationMacs, // 2 FLOPs per MAC forward, twice that backward
    },
  },
};

// ---------------------------------------------------------------------------------------------
// Reference LLMs with exact published totals.

const GPT2 = 124_439_808n; // huggingface/transformers#14960
const gpt2Embed = B(50_257 * 768);
assert.equal(12n * bertLayer(768) + gpt2Embed + B(1024 * 768) + layerNorm(768), GPT2);
const llama2Layer = 2n * rmsNorm(4096) + attention(4096, 32) + gatedMlp(4096, 11_008);
const LLAMA2_7B = 6_738_415_616n; // calflops README
assert.equal(32n * llama2Layer + 2n * B(32_000 * 4096) + rmsNorm(4096), LLAMA2_7B);
const mixtralLayer = (experts: bigint): bigint =>
  2n * rmsNorm(4096) + attention(4096, 32, 8, 128) + B(4096 * 8) + experts * gatedMlp(4096, 14_336);
const MIXTRAL = 46_702_792_704n; // keras-hub preset, HF safetensors
const MIXTRAL_ACTIVE = 12_879_925_248n; // anchors.md (embedding tables and routers in full)
assert.equal(32n * mixtralLayer(8n) + 2n * B(32_000 * 4096) + rmsNorm(4096), MIXTRAL);
assert.equal(32n * mixtralLayer(2n) + 2n * B(32_000 * 4096) + rmsNorm(4096), MIXTRAL_ACTIVE);

// Decode at S = 4096: 2 · (matmul weights per token, lm_head included, the embedding lookup and
// norms not) + per layer 2 · heads · (d_qk + d_v) · S.
const S = 4096n;
const llama2Decode = 2n * (32n * (attention(4096, 32) + gatedMlp(4096, 11_008)) + B(4096 * 32_000)) + 32n * 2n * 32n * 256n * S;
const mixtralDecode =
  2n * (32n * (attention(4096, 32, 8, 128) + B(4096 * 8) + 2n * gatedMlp(4096, 14_336)) + B(4096 * 32_000)) +
  32n * 2n * 32n * 256n * S;

const referenceCase: Case = {
  file: 'reference-llms.npas',
  options: { seq: Number(S), batch: 1, dtype: 'bf16' },
  models: {
    GPT2: { stored: GPT2, effective: GPT2 + gpt2Embed },
    Llama2_7B: { stored: LLAMA2_7B, effective: LLAMA2_7B, active: LLAMA2_7B, decode: llama2Decode },
    Mixtral8x7B: { stored: MIXTRAL, active: MIXTRAL_ACTIVE, decode: mixtralDecode },
  },
};

// ---------------------------------------------------------------------------------------------
// μTransfer (Tensor Programs V, Section 7): a width-256 proxy of GPT-3 6.7B (Brown et al. 2020,
// Table 2.1: 32 layers, d_model 4,096, "6.7B"), GPT-2's architecture with a 2,048-token context.
// A GPT-2 layer is 12d² + 13d parameters (biased q, k, v, o and MLP 4d, two LayerNorms).

const gpt3 = (d: number): bigint => 32n * bertLayer(d) + B(50_257 * d) + B(2048 * d) + layerNorm(d);
const GPT3_6_7B = gpt3(4096);
assert.equal(bertLayer(4096), 12n * 4096n * 4096n + 13n * 4096n);
assert.equal(Number(GPT3_6_7B / 100_000_000n), 66); // 6.66B: "6.7B"
const PROXY = gpt3(256);
assert.equal(Number((PROXY + 500_000n) / 1_000_000n), 39); // 38.7M: the paper's "40M"

// LBDN (Wang & Manchester, ICML 2023; acfr/LBDN model.py): SandwichFc(i, o) is nn.Linear(i + o, o)
// plus psi [o] and alpha [1]; SandwichLin(i, o) the same without psi; SandwichConv(i, o, k) a kernel
// [o, i + o, k, k], bias, psi and alpha; stride 2 is a 1×1 layer on 4·i channels.
const sandwichFc = (i: number, o: number): bigint => linear(i + o, o, true) + B(o) + 1n;
const sandwichLin = (i: number, o: number): bigint => linear(i + o, o, true) + 1n;
const sandwichConv = (i: number, o: number, k: number): bigint => B(o * (i + o) * k * k) + 2n * B(o) + 1n;
const TOY_PLAIN = linear(1, 128, true) + 8n * linear(128, 128, true) + linear(128, 1, true);
const TOY_SANDWICH = sandwichFc(1, 86) + 8n * sandwichFc(86, 86) + sandwichLin(86, 1);
const KWL_SMALL =
  sandwichConv(3, 32, 3) + sandwichConv(4 * 32, 32, 1) + sandwichConv(32, 64, 3) + sandwichConv(4 * 64, 64, 1) +
  sandwichFc(64 * 8 * 8, 512) + sandwichFc(512, 512) + sandwichLin(512, 10);
assert.equal(TOY_PLAIN, 132_481n);
assert.equal(TOY_SANDWICH, 127_464n);
assert.equal(KWL_SMALL, 2_982_229n);

const lbdnCase: Case = {
  file: 'lbdn-sandwich.npas',
  options: {},
  models: {
    ToyPlain: { stored: TOY_PLAIN },
    ToySandwich: { stored: TOY_SANDWICH, effective: TOY_SANDWICH },
    KWLSmallSandwich: { stored: KWL_SMALL },
  },
};

// Tensorizing Neural Networks (Novikov et al., NeurIPS 2015, Table 3): VGG-16 with fc6 (and fc7)
// as TT-layers. VGG-16: thirteen 3×3 convolutions with biases and three FC layers with biases.
const VGG_CONVS: readonly (readonly [number, number])[] = [[3, 64], [64, 64], [64, 128], [128, 128], [128, 256], [256, 256], [256, 256], [256, 512], [512, 512], [512, 512], [512, 512], [512, 512], [512, 512]];
const VGG16 = VGG_CONVS.reduce((s, [i, o]) => s + B(9 * i * o + o), 0n) + linear(25088, 4096, true) + linear(4096, 4096, true) + linear(4096, 1000, true);
assert.equal(VGG16, 138_357_544n); // Simonyan & Zisserman's 138M, as torchvision's vgg16
/** Σ_k r_{k−1}·m_k·n_k·r_k with r₀ = r_d = 1 and every inner rank r. */
function ttCores(modesOut: readonly number[], modesIn: readonly number[], r: number): bigint {
  const ranks = modesOut.map((_, k) => (k === 0 ? 1 : r));
  return modesOut.reduce((s, m, k) => s + B(ranks[k]! * m * modesIn[k]! * (k === modesOut.length - 1 ? 1 : r)), 0n);
}
const FC6_OUT = [4, 4, 4, 4, 4, 4];
const FC6_IN = [2, 7, 8, 8, 7, 4];
const FC6 = B(25088 * 4096);
const FC7 = B(4096 * 4096);
const tt6 = (r: number): bigint => ttCores(FC6_OUT, FC6_IN, r);
const tt7 = ttCores(FC6_OUT, FC6_OUT, 4);
// The published compression factors of the FC matrices.
assert.equal(FC6 / tt6(4), 50_972n);
assert.equal(FC6 / tt6(2), 194_622n);
assert.equal(FC6 / tt6(1), 713_614n);
assert.equal((FC6 + FC7) / (tt6(4) + tt7), 37_732n);
const VGG16_TT4_TT4 = VGG16 - FC6 - FC7 + tt6(4) + tt7;
assert.equal(VGG16 / VGG16_TT4_TT4, 7n); // "the whole network up to 7 times"

const ttVggCase: Case = {
  file: 'tt-vgg16.npas',
  options: {},
  models: {
    VGG16: { stored: VGG16, effective: VGG16 },
    VGG16_TT4: { stored: VGG16 - FC6 + tt6(4), effective: VGG16 },
    VGG16_TT2: { stored: VGG16 - FC6 + tt6(2), effective: VGG16 },
    VGG16_TT1: { stored: VGG16 - FC6 + tt6(1), effective: VGG16 },
    VGG16_TT4_TT4: { stored: VGG16_TT4_TT4, effective: VGG16 },
  },
};

// FedPara (Hyeon-Woo et al., ICLR 2022; the Flower baseline's models.py): VGG-16 with GroupNorm(2)
// on CIFAR, every 3×3 convolution as (T₁ ×₁ X₁ ×₂ Y₁) ⊙ (T₂ ×₁ X₂ ×₂ Y₂): 2(9R² + R(O + I)) plus
// its bias, R from the ratio γ as `_calc_from_ratio` computes it (exact integers here).
const FEDPARA_CONVS: readonly (readonly [number, number])[] = [[3, 64], [64, 64], [64, 128], [128, 128], [128, 256], [256, 256], [256, 256], [256, 512], [512, 512], [512, 512], [512, 512], [512, 512], [512, 512]];
const isqrtCeil = (n: number): number => {
  let r = 0;
  while (r * r < n) r++;
  return r;
};
/** R for γ = num/den: ⌈(1 − γ)·r_min + γ·r_max⌉ with r_max the largest R, 9R² + (O + I)R ≤ 9·O·I/2. */
function fedparaConvRank(i: number, o: number, num: number, den: number): number {
  const rMin = Math.min(isqrtCeil(o), isqrtCeil(i));
  let rMax = 0;
  while (2 * 9 * (rMax + 1) ** 2 + 2 * (o + i) * (rMax + 1) <= 9 * o * i) rMax++;
  return Math.ceil(((den - num) * rMin + num * rMax) / den);
}
const vggGn = (classes: number): bigint =>
  FEDPARA_CONVS.reduce((s, [i, o]) => s + B(9 * i * o + o) + 2n * B(o), 0n) + linear(512, 512, true) * 2n + linear(512, classes, true);
const vggGnFedPara = (classes: number, num: number, den: number): bigint =>
  FEDPARA_CONVS.reduce((s, [i, o]) => {
    const r = fedparaConvRank(i, o, num, den);
    return s + 2n * B(9 * r * r + r * (o + i)) + B(o) + 2n * B(o);
  }, 0n) + linear(512, 512, true) * 2n + linear(512, classes, true);
const millions2 = (n: bigint): string => (Number(n) / 1e6).toFixed(2);
assert.equal(millions2(vggGn(10)), '15.25');
assert.equal(millions2(vggGn(100)), '15.30');
assert.equal(millions2(vggGnFedPara(10, 1, 10)), '1.55');
assert.equal(millions2(vggGnFedPara(100, 2, 5)), '4.53');

const fedparaCase: Case = {
  file: 'fedpara-vgg16.npas',
  options: {},
  models: {
    VGG16GN: { stored: vggGn(10), effective: vggGn(10) },
    VGG16GN_FedPara10: { stored: vggGnFedPara(10, 1, 10), effective: vggGn(10) },
    VGG16GN_C100: { stored: vggGn(100) },
    VGG16GN_C100_FedPara40: { stored: vggGnFedPara(100, 2, 5), effective: vggGn(100) },
  },
};

const mutransferCase: Case = {
  file: 'mutransfer-gpt3.npas',
  options: {},
  models: {
    GPT3_6_7B: { stored: GPT3_6_7B, effective: GPT3_6_7B + B(50_257 * 4096) },
    Proxy40M: { stored: PROXY },
  },
};

test('μTransfer to GPT-3 6.7B: hidden LR × 256/4096, hidden init std × √(256/4096), readout × 256/4096 (μP, Adam)', () => {
  const t = report('mutransfer-gpt3.npas', 'GPT3_6_7B').parameterization;
  assert.ok(t);
  const row = (path: string) => t.rows.find((r) => r.path === path)!;
  assert.equal(row('h.attn.q').lr.value, 256 / 4096);
  assert.equal(row('h.mlp.down').initStd?.value, Math.sqrt(256 / 4096));
  assert.equal(row('lm_head.weight').output.value, 256 / 4096);
  assert.equal(row('wte.weight').lr.value, 1);
  const proxy = report('mutransfer-gpt3.npas', 'Proxy40M').parameterization;
  assert.ok(proxy && proxy.rows.every((r) => r.lr.value === 1 && r.output.value === 1), 'the proxy is the base: every factor 1');
});

const CASES: readonly Case[] = [
  albertCase,
  utCase,
  takaseCase,
  gemmaCase,
  morCase,
  moeutCase,
  wideCase,
  claCase,
  mlkvCase,
  deepseekCase,
  roastCase,
  vbCase,
  ssnCase,
  referenceCase,
  mutransferCase,
  lbdnCase,
  ttVggCase,
  fedparaCase,
];

for (const c of CASES) {
  test(`${c.file} ${JSON.stringify(c.options)}`, async (t) => {
    for (const [name, expected] of Object.entries(c.models)) {
      await t.test(name, () => check(report(c.file, name, c.options), expected));
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Relations that hold whatever the attention-FLOP and KV conventions are.

test('relaxation adds 2·r·(d_in + d_out) FLOPs per matrix per instance (Relaxed Recursive Gemma)', () => {
  const opts = { seq: 1024, batch: 1, dtype: 'bf16' } as const;
  const plain = report('relaxed-recursive-gemma.npas', 'RecursiveGemma', opts);
  const relaxed = report('relaxed-recursive-gemma.npas', 'RelaxedRecursiveGemma', opts);
  assert.equal(relaxed.flops.decode - plain.flops.decode, 2n * gemmaRelax); // 156,893,184
});

test('CLA2 removes the K/V projections of 16 layers from every decode step', () => {
  const opts = { seq: 1024, batch: 1, dtype: 'bf16' } as const;
  const base = report('cla-mlkv.npas', 'Llama3_8B', opts);
  const cla = report('cla-mlkv.npas', 'Llama3_8B_CLA2', opts);
  assert.equal(base.flops.decode - cla.flops.decode, 2n * 16n * kvProjections(4096, 8, 128)); // 268,435,456
});

test('MLKV with 2 KV heads is 6× smaller than MQA; MQA-CLA2 is 2× smaller than MQA', () => {
  const fp16 = { seq: 2048, batch: 1, dtype: 'fp16' } as const;
  const mqa = report('cla-mlkv.npas', 'Pythia160M_MQA', fp16);
  const mlkv = report('cla-mlkv.npas', 'Pythia160M_MLKV2', fp16);
  assert.equal(mqa.kvCacheBytes, 6n * mlkv.kvCacheBytes);
  const bf16 = { seq: 2048, batch: 1, dtype: 'bf16' } as const;
  const llamaMqa = report('cla-mlkv.npas', 'Llama3_8B_MQA', bf16);
  const llamaMqaCla = report('cla-mlkv.npas', 'Llama3_8B_MQA_CLA2', bf16);
  assert.equal(llamaMqa.kvCacheBytes, 2n * llamaMqaCla.kvCacheBytes);
});

test('sharing weights never shrinks the KV cache or the FLOPs (Universal Transformer, Takase & Kiyono)', () => {
  const opts = { seq: 256, srcSeq: 256, batch: 1, dtype: 'bf16' } as const;
  const pairs: readonly (readonly [string, string, string])[] = [
    ['universal-transformer.npas', 'TransformerUnrolled', 'UniversalTransformer'],
    ['takase-kiyono.npas', 'TransformerWMT', 'Sequence3'],
    ['takase-kiyono.npas', 'TransformerWMT', 'Cycle3'],
    ['takase-kiyono.npas', 'TransformerWMT', 'CycleRev3'],
  ];
  for (const [file, unshared, shared] of pairs) {
    const a = report(file, unshared, opts);
    const b = report(file, shared, opts);
    assert.equal(b.kvCacheBytes, a.kvCacheBytes, `${file}: ${shared} KV`);
    assert.equal(b.flops.decode, a.flops.decode, `${file}: ${shared} decode FLOPs`);
  }
});

test('the examples meet their own budgets', () => {
  const files = [
    'albert-vs-bert.npas',
    'universal-transformer.npas',
    'takase-kiyono.npas',
    'relaxed-recursive-gemma.npas',
    'mixture-of-recursions.npas',
    'moeut.npas',
    'widenet.npas',
    'cla-mlkv.npas',
    'deepseek-v2.npas',
    'roast-hashed.npas',
    'vblora-mos.npas',
    'ssn-wrn-28-10.npas',
    'reference-llms.npas',
  ];
  for (const file of files) {
    for (const m of reports(file, {})) {
      for (const b of m.budgets) assert.ok(b.ok, `${file}: ${m.name}: ${b.constraint} (value ${b.value})`);
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Two rules the gallery found wrong in the engine, now fixed: kept as regression tests.

test(
  'MoR routers count at the capacity of the tokens they score (reference code: 1, 1, 2/3)',
  () => {
    const opts = { seq: Number(MOR_SEQ), batch: 1, dtype: 'bf16' } as const;
    const mor = report('mixture-of-recursions.npas', 'MoR3', opts);
    assert.equal(mor.params.active, morActiveLayers + morRoutersActive); // 310,686,400
    const shared = report('mixture-of-recursions.npas', 'MoR3KVShare', opts);
    assert.equal(shared.params.active, morActiveLayers - morActiveKvSaved + morRoutersActive); // 304,542,400
  },
);

test(
  'adapters built from a shared bank count their materialised A and B in effective params',
  () => {
    // Effective is the unrolled dense equivalent (as for ROAST and SSN, whose generated weights
    // count in full): every adapted matrix uses a rank-4 A and B, 4 · (768 + 768) numbers.
    for (const name of ['RoBERTaVBLoRA', 'RoBERTaMoS']) {
      const r = report('vblora-mos.npas', name);
      assert.ok(r.params.effective >= r.params.stored, `${name}: effective ${r.params.effective} < stored ${r.params.stored}`);
      assert.equal(r.params.effective, ROBERTA_BASE + loraR4, `${name}: effective`);
    }
  },
);
