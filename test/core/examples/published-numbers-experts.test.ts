// The cross-layer-experts gallery against its papers' published numbers (the companion of
// published-numbers.test.ts, same conventions): every expected value is derived here from the
// configuration, independently of the engine.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../../src/core/index.js';
import type { AnalysisOptions, ModelReport } from '../../../src/core/analysis/report-types.js';

const EXAMPLES = join(__dirname, '..', '..', '..', 'examples');
const B = (x: number): bigint => BigInt(x);

function reports(file: string, options: Partial<AnalysisOptions> = {}, replace: readonly [string, string][] = []): readonly ModelReport[] {
  let text = readFileSync(join(EXAMPLES, file), 'utf8');
  for (const [from, to] of replace) {
    assert.ok(text.includes(from), `${file} contains ${from}`);
    text = text.replace(from, to);
  }
  const result = analyze(text, options);
  assert.deepEqual(result.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code}: ${d.message}`), [], `${file} analyses without errors`);
  return result.models;
}

const named = (models: readonly ModelReport[], name: string): ModelReport => {
  const m = models.find((x) => x.name === name);
  assert.ok(m, name);
  return m;
};

// ---------------------------------------------------------------------------------------------
// Megrez2-3x7B-A3B (model card; sglang's MegrezMoe): d 2048, 31 layers of which 1 dense, 16 heads
// of 128 (GQA), 64 experts of 1408 with top-6, a shared SwiGLU of 4·1408, experts shared by
// groups of 3 adjacent MoE layers, vocabulary 128,880, untied head. Unknown to the card: the key/
// value heads and the dense FFN width (the example: 4 and 10,944).

interface MegrezShape {
  readonly kvHeads: number;
  readonly denseHidden: number;
  readonly tied: boolean;
}

function megrez(s: MegrezShape): { stored: bigint; unpooled: bigint; active: bigint; activeNoEmbeddings: bigint; expert: bigint } {
  const d = 2048;
  const attention = B(d) * B(d) * 2n + 2n * B(d) * B(s.kvHeads * 128); // q, o; k, v
  const norms = 2n * B(d);
  const expert = 3n * B(d) * 1408n; // gate, up, down
  const sharedMlp = 3n * B(d) * B(4 * 1408);
  const router = 64n * B(d);
  const denseLayer = attention + norms + 3n * B(d) * B(s.denseHidden);
  const moeOwn = attention + norms + router + sharedMlp; // per MoE layer, the pool aside
  const table = 128_880n * B(d);
  const tables = s.tied ? table : 2n * table;
  const outside = denseLayer + 30n * moeOwn + B(d) + tables;
  const stored = outside + 10n * 64n * expert; // 30 MoE layers / 3 = 10 pools
  const unpooled = outside + 30n * 64n * expert;
  // Per token: the 6 routed experts of each of the 30 layers, everything else once; both tables.
  const active = denseLayer + 30n * (moeOwn + 6n * expert) + B(d) + 2n * table;
  return { stored, unpooled, active, activeNoEmbeddings: active - 2n * table, expert };
}

/** x in units of 10^8, rounded half up: 7.5B is 75. */
const tenthsOfBillion = (x: bigint): bigint => (x + 50_000_000n) / 100_000_000n;

test('Megrez2: 7.5B stored and 3.0B activated, the routed experts one pool per 3 adjacent layers', () => {
  const models = reports('megrez2.npas', { seq: 1, batch: 1 });
  const expected = megrez({ kvHeads: 4, denseHidden: 10_944, tied: false });
  assert.equal(expected.expert, 8_650_752n);
  const pooled = named(models, 'Megrez2');
  const arch = named(models, 'Megrez2Arch');
  assert.equal(pooled.params.stored, expected.stored); // 7,498,823,680
  assert.equal(arch.params.stored, expected.unpooled); // 18,571,786,240
  assert.equal(pooled.params.effective, expected.unpooled, 'effective counts every layer applying its pool');
  assert.equal(pooled.params.active, expected.active); // 3,519,477,760 with both tables
  // The card's numbers, rounded to tenths of a billion: 7.5B stored, 3.0B activated (no tables).
  assert.equal(tenthsOfBillion(pooled.params.stored), 75n);
  assert.equal(tenthsOfBillion(pooled.params.active - 2n * 128_880n * 2048n), 30n);
  // Pooling saves 20 of the 30 layers' experts.
  assert.equal(arch.params.stored - pooled.params.stored, 20n * 64n * expected.expert);
  for (const b of pooled.budgets) assert.ok(b.ok, `${b.constraint} (value ${b.value})`);
});

test('Megrez2: the rounded 7.5B and 3.0B bound the unknown heads and dense width and pin the head untied', () => {
  // Over nearby values of what the card does not give, the rounded totals still hold …
  for (const kvHeads of [2, 4]) {
    for (const denseHidden of [10_944, 11_264]) {
      const m = megrez({ kvHeads, denseHidden, tied: false });
      assert.equal(tenthsOfBillion(m.stored), 75n, `kv ${kvHeads}, dense ${denseHidden}: stored`);
      assert.equal(tenthsOfBillion(m.activeNoEmbeddings), 30n, `kv ${kvHeads}, dense ${denseHidden}: activated`);
    }
  }
  // … but not all: 8 key/value heads would store 7.6B, 2 with a dense width of 8,192 7.4B, and a
  // tied head 7.2B.
  assert.equal(tenthsOfBillion(megrez({ kvHeads: 8, denseHidden: 10_944, tied: false }).stored), 76n);
  assert.equal(tenthsOfBillion(megrez({ kvHeads: 2, denseHidden: 8_192, tied: false }).stored), 74n);
  assert.equal(tenthsOfBillion(megrez({ kvHeads: 4, denseHidden: 10_944, tied: true }).stored), 72n);
  // And the engine follows the parameters: kv_heads 2 and a dense width of 11,264.
  const other = named(reports('megrez2.npas', {}, [['kv_heads = 4, dense_hidden = 10_944', 'kv_heads = 2, dense_hidden = 11_264']]), 'Megrez2');
  assert.equal(other.params.stored, megrez({ kvHeads: 2, denseHidden: 11_264, tied: false }).stored);
});

test('Megrez2: a decode step touches the union of each pool\'s three routers\' selections', () => {
  const E = 64n;
  const k = 6n;
  for (const batch of [1n, 8n]) {
    const p = named(reports('megrez2.npas', { seq: 1, batch: Number(batch) }), 'Megrez2').pools[0]!;
    assert.deepEqual([p.stack, p.experts, p.topK, p.pools, p.layers], ['body', 64, 6, 10, 30]);
    assert.equal(p.storedExperts, 640n);
    assert.equal(p.activeExperts, 180n);
    // 10 pools × 64·(1 − (58/64)^(3B)) experts of 8,650,752 params each, rounded up.
    const den = E ** (3n * batch);
    const touched = 10n * E * (den - (E - k) ** (3n * batch));
    assert.equal(p.touchedParams, (touched * 8_650_752n + den - 1n) / den, `batch ${batch}`);
  }
});

// ---------------------------------------------------------------------------------------------
// RMoE (qiuzh20/RMoE, LlamaMoeRNNConfig's defaults): d 4096, 32 MoE layers, 32 heads (MHA, no
// bias), 8 SwiGLU experts of 11,008, top-2, vocabulary 32,000, untied head; the router is
// weight1 [256, 4096], the model's one CustomGRUCell (weight_ir/hr/iz/hz/in/hn [256, 256] and
// their six biases), weight2 [8, 256].

test('RMoE: one GRU cell for the model, a projection in and a scorer out per layer (the code defaults)', () => {
  const d = 4096n;
  const p = 256n;
  const E = 8n;
  const L = 32n;
  const attention = 4n * d * d;
  const norms = 2n * d;
  const expert = 3n * d * 11_008n;
  const recurrentRouter = p * d + E * p; // weight1 + weight2
  const cell = 6n * p * p + 6n * p; // three gates, each a matrix and a bias on the input and on the state
  assert.equal(cell, 394_752n);
  const tables = 2n * 32_000n * d;
  const stored = tables + L * (attention + norms + E * expert + recurrentRouter) + d + cell;
  assert.equal(stored, 37_072_082_432n);
  const models = reports('rmoe.npas');
  const rmoe = named(models, 'RMoE');
  assert.equal(rmoe.params.stored, stored);
  assert.equal(named(models, 'RMoEArch').params.stored, stored + (L - 1n) * cell, 'one cell per layer without the share');
  // Each layer applies the cell: effective and active count it 32 times.
  assert.equal(rmoe.params.effective, stored + (L - 1n) * cell);
  assert.equal(rmoe.params.active, tables + L * (attention + norms + 2n * expert + recurrentRouter + cell) + d);
  // Against Mixtral's linear router [8, 4096] with no cell: 32·(p·d + E·p − E·d) + cell more stored,
  // and per token and layer 4·3·p² (the cell's two products) + 2·(p·d + p·E) − 2·E·d more FLOPs.
  const plainText: [string, string][] = [['    cell      = RecurrentRouter(p)\n', ''], [', router_rnn: p)', ')'], ['  share body.cell: all\n', '']];
  const plain = named(reports('rmoe.npas', {}, plainText), 'RMoEArch');
  assert.equal(rmoe.params.stored - plain.params.stored, 32_966_144n);
  assert.equal(rmoe.params.stored - plain.params.stored, L * (recurrentRouter - E * d) + cell);
  assert.equal(rmoe.flops.decode - plain.flops.decode, L * (12n * p * p + 2n * (p * d + p * E) - 2n * E * d));
  // The router changes which experts run, not how many: the same KV cache and expert reads.
  assert.equal(rmoe.kvCacheBytes, plain.kvCacheBytes);
});

// ---------------------------------------------------------------------------------------------
// Chain-of-Experts (examples/chain-of-experts.npas): the released CoE-DeepSeek-V2-Tiny config —
// hidden 1024, 4 layers, MLA with 8 heads and no query compression (q [8·192, 1024], kv_a
// [512 + 64, 1024], kv_a_norm 512, kv_b [8·(128 + 128), 512], o [1024, 8·128]), routed experts of
// 704 (gate, up, down: 3·1024·704 each) and one shared of 704, one router [E, 1024] per iteration,
// two RMSNorms per layer and a final one, vocabulary 102,400 untied. runs/run.sh counts the shared
// expert in N and K (N_SHARED_EXPERTS=1): "64ept-8tpk" is 63 routed, 7 per token.

function coe(routed: number, perToken: number, iterations: number): { stored: bigint; nonEmbedding: bigint; active: bigint } {
  const d = 1024n;
  const mla = d * (8n * 192n) + d * (512n + 64n) + 512n + 512n * (8n * 256n) + 8n * 128n * d;
  const expert = 3n * d * 704n;
  const routers = B(iterations) * B(routed) * d;
  const layer = 2n * d + mla + routers + B(routed) * expert + expert;
  const nonEmbedding = 4n * layer + d;
  const tables = 2n * 102_400n * d;
  // Active: every router, and per iteration K routed experts and the shared one.
  const activeLayer = 2n * d + mla + routers + B(iterations) * (B(perToken) + 1n) * expert;
  return { stored: nonEmbedding + tables, nonEmbedding, active: 4n * activeLayer + d + tables };
}

test('Chain-of-Experts: "544MB total parameters (excluding Embedding)" of the released configuration', () => {
  const models = reports('chain-of-experts.npas');
  const moe = named(models, 'MoE_8_64');
  const expected = coe(63, 7, 1);
  assert.equal(expected.nonEmbedding, 570_956_800n);
  // The README's "MB" are 2^20 parameters: 570,956,800 / 2^20 = 544.5.
  assert.equal(expected.nonEmbedding >> 20n, 544n);
  assert.equal(moe.params.stored, expected.stored);
  assert.equal(moe.params.active, expected.active);
});

test('Chain-of-Experts: CoE-2(4/64) and CoE-2(8/64) at MoE(8/64)\'s and MoE(16/64)\'s memory and compute; CoE-2(4/48) 17.7% smaller', () => {
  const models = reports('chain-of-experts.npas');
  for (const [name, routed, perToken, iterations] of [['CoE_2_4_64', 63, 3, 2], ['CoE_2_4_48', 47, 3, 2], ['CoE_2_8_64', 63, 7, 2], ['MoE_16_64', 63, 15, 1]] as const) {
    const m = named(models, name);
    const expected = coe(routed, perToken, iterations);
    assert.equal(m.params.stored, expected.stored, name);
    assert.equal(m.params.active, expected.active, name);
  }
  // "similar compute and memory budget": the same stored experts and 8 expert runs per token;
  // the second router per layer is all CoE-2(4/64) adds.
  const moe = named(models, 'MoE_8_64');
  assert.equal(named(models, 'CoE_2_4_64').params.stored - moe.params.stored, 4n * 63n * 1024n);
  assert.equal(named(models, 'CoE_2_4_64').params.active - moe.params.active, 4n * 63n * 1024n);
  // "Memory and Compute requirements are consistent": 2·(7 + 1) = 15 + 1 expert runs.
  assert.equal(named(models, 'CoE_2_8_64').params.active - named(models, 'MoE_16_64').params.active, 4n * 63n * 1024n);
  // "memory requirements reduced by 18%" (README; the headline's 17.6% is measured GPU memory):
  // the stored parameters fall by 17.7% (1,771 ten-thousandths, rounded down).
  const small = named(models, 'CoE_2_4_48').params.stored;
  const reduction = ((moe.params.stored - small) * 10_000n) / moe.params.stored;
  assert.equal(reduction, 1_771n);
});

// ---------------------------------------------------------------------------------------------
// FISH Mask (Sung, Nair and Raffel, NeurIPS 2021, arXiv:2111.09839): BERT-large on GLUE "while
// updating only 0.5% of the model's parameters per task". The released code
// (varunnair18/FISH, run_glue_sparse_update.py, create_mask_gradient; keep_ratio 0.005 in
// scripts/run_table_1.sh) keeps int(all_params_size · keep_ratio) − classifier_size of the
// non-classifier parameters by one top-k over their concatenated Fisher scores, and trains the
// classifier in full: int(0.005 · N) parameters in all. BertForSequenceClassification (2 labels):
// embeddings V·H + 512·H + 2·H + LayerNorm 2·H; per layer Q, K, V, O with biases, two
// LayerNorms, the FFN H → 4H → H with biases; the pooler H·H + H; the classifier H·2 + 2.

function bertLargeGlue(): { encoder: bigint; classifier: bigint; total: bigint } {
  const h = 1_024n;
  const embeddings = 30_522n * h + 512n * h + 2n * h + 2n * h;
  const layer = 4n * (h * h + h) + 2n * (2n * h) + (h * 4n * h + 4n * h) + (4n * h * h + h);
  const encoder = embeddings + 24n * layer + (h * h + h);
  const classifier = h * 2n + 2n;
  return { encoder, classifier, total: encoder + classifier };
}

test('FISH: BERT-large trains int(0.5% · N) parameters, one mask over every weight, stored unchanged', () => {
  const models = reports('fish-mask.npas');
  const bert = bertLargeGlue();
  assert.equal(bert.encoder, 335_141_888n); // bert-large-uncased BertModel (Hugging Face's count)
  const base = named(models, 'BertLargeGlue');
  const fish = named(models, 'FishMask');
  assert.equal(base.params.stored, bert.total);
  // int(all_params_size · 0.005), as the released code computes it (N is below 2^53: exact in a double).
  const keep = BigInt(Math.trunc(Number(bert.total) * 0.005));
  assert.equal(keep, bert.total / 200n);
  assert.equal(fish.params.trainable, keep, 'the mask\'s keep_num plus the classifier trained in full');
  assert.equal(keep - bert.classifier, 1_673_669n, 'the elements the example\'s mask names');
  // "0.5% of the model's parameters": 1,675,719 / 335,143,938 = 0.49999…%, 0.50% to two places.
  assert.equal((fish.params.trainable * 10_000n + bert.total / 2n) / bert.total, 50n);
  // In place: stored, effective and inference FLOPs are BERT-large's.
  assert.equal(fish.params.stored, base.params.stored);
  assert.equal(fish.params.effective, base.params.effective);
  assert.equal(fish.flops.decode, base.flops.decode);
  // The pool is the encoder's 335,141,888 elements: one element more than it holds is refused.
  const over = analyze(readFileSync(join(EXAMPLES, 'fish-mask.npas'), 'utf8').replace('sparse(elements: 1_673_669)', `sparse(elements: ${bert.encoder + 1n})`));
  assert.deepEqual(over.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code), ['npas-train-sparse']);
});

// ---------------------------------------------------------------------------------------------
// Polytropon and Multi-Head Routing (Ponti et al., arXiv:2202.13914; Caccia et al.,
// arXiv:2211.03831) as PEFT implements and demonstrates them: huggingface/peft's
// examples/poly/peft_poly_seq2seq_with_generate.ipynb trains google/flan-t5-xl with
// PolyConfig(r=8, n_tasks=4, n_skills=2, n_splits=4) on the default T5 targets q and v, and prints
// "trainable params: 9,441,792 || all params: 2,859,198,976". Flan-T5-XL (T5 v1.1 XL): d_model
// 2048, d_ff 5120 gated (wi_0, wi_1, wo), 32 heads of 64 (inner 2048), 24 + 24 blocks, 32 relative
// buckets in the first block of each stack, T5LayerNorm a weight only, vocabulary 32,128, untied
// lm_head. Each Poly target (src/peft/tuners/poly/layer.py, router.py): poly_lora_A
// [h, m, d_in/h, r] and poly_lora_B [h, m, r, d_out/h], m·r·(d_in + d_out) in all, and its own
// router's module_logits [n_tasks, h·m].

function flanT5Xl(): bigint {
  const d = 2_048n, ff = 5_120n, vocab = 32_128n, heads = 32n;
  const attention = 4n * d * d; // q, k, v, o without biases, inner = 32 · 64 = d
  const gated = 3n * d * ff;
  const encoderBlock = attention + gated + 2n * d;
  const decoderBlock = 2n * attention + gated + 3n * d;
  return 2n * vocab * d + 24n * encoderBlock + 24n * decoderBlock + 2n * (32n * heads) + 2n * d;
}

test('Multi-Head Routing on Flan-T5-XL: PEFT\'s notebook counts, 9,441,792 trainable of 2,859,198,976; Polytropon with one head', () => {
  const models = reports('polytropon.npas');
  const base = flanT5Xl();
  assert.equal(base, 2_849_757_184n);
  // The targets: q and v of the encoder's self-attention (2 per block), and of the decoder's
  // self- and cross-attention (4 per block): 6 · 24 = 144 matrices of 2048 × 2048.
  const targets = 6n * 24n, dIn = 2_048n, dOut = 2_048n;
  const r = 8n, skills = 2n, tasks = 4n;
  const inventory = skills * r * (dIn + dOut); // A and B over the h heads: 65,536 per target
  const poly = (splits: bigint): bigint => targets * (inventory + tasks * splits * skills);
  assert.equal(named(models, 'FlanT5XL').params.stored, base);
  const mhr = named(models, 'MultiHeadRouting');
  assert.equal(poly(4n), 9_441_792n); // the notebook's "trainable params: 9,441,792"
  assert.equal(mhr.params.trainable, poly(4n));
  assert.equal(mhr.params.stored, base + poly(4n));
  assert.equal(mhr.params.stored, 2_859_198_976n); // the notebook's "all params: 2,859,198,976"
  // "trainable%: 0.3302": 9,441,792 / 2,859,198,976, to four decimals of a percent.
  assert.equal((mhr.params.trainable * 1_000_000n + mhr.params.stored / 2n) / mhr.params.stored, 3_302n);
  // A token runs one rank-8 adapter mixed from its task's skills: effective and active add one
  // LoRA per target, r · (d_in + d_out).
  assert.equal(mhr.params.effective, base + targets * r * (dIn + dOut));
  assert.equal(mhr.params.active, mhr.params.effective);
  // Each task owns its routing logits alone (h · m per target); the inventory serves every task.
  assert.deepEqual(mhr.tasks, { tasks: 4, perTask: targets * 4n * skills, shared: base + targets * inventory });
  // Polytropon: one routing vector per task over whole skills (n_splits = 1).
  const polytropon = named(models, 'Polytropon');
  assert.equal(polytropon.params.trainable, poly(1n));
  assert.equal(polytropon.params.trainable, 9_438_336n);
  assert.equal(polytropon.params.stored, base + poly(1n));
});

// Arrow (Ostapenko et al., arXiv:2405.11157) on Phi-2, configured as the paper's code trains its
// private library (microsoft/mttl projects/modular_llm: train_private_library.sh with
// configs/models/phi-2_hf.json — rank 4 on q, k, v and the attention output, q/k/v sharing one A
// by tie_params; 256 FLAN tasks in task_sets/flan_tasks.json; topk=4 in the README's Arrow run).
// Derived here from the shapes, not from the engine: Phi-2's 2,779,683,840 (microsoft/phi-2,
// test/fixtures/hf/SOURCES.md); per layer and expert two A's [4, 2560] (q/k/v's and o's), four
// B's [2560, 4] and, stored beside the library, two prototypes [2560].
test('Arrow library on Phi-2 (mttl\'s private library: 256 rank-4 experts, top-4): stored, active, FLOPs and setup derived by hand', () => {
  const models = reports('arrow-library.npas');
  const d = 2_560n, layers = 32n, e = 256n, r = 4n, k = 4n, iterations = 15n;
  const base = named(models, 'Phi2');
  assert.equal(base.params.stored, 2_779_683_840n);
  const arrow = named(models, 'Phi2ArrowLibrary');
  const loras = layers * e * (2n * r * d + 4n * r * d);
  const prototypes = layers * 2n * e * d;
  assert.equal(loras, 503_316_480n); // 1,966,080 per expert
  assert.equal(arrow.params.stored, base.params.stored + loras + prototypes);
  assert.equal(arrow.params.stored, 3_324_943_360n);
  assert.equal(arrow.params.trainable, 0n); // the library is frozen and the routing has no parameters
  // A token reads every prototype and the 4 chosen experts' A's and B's.
  assert.equal(arrow.params.active, base.params.active + layers * (2n * e * d + 2n * k * r * d + 4n * k * r * d));
  // Per token: |x·Pᵀ| for each of the two prototype groups (2·E·d), x·A for the k chosen once per
  // group (2·k·r·d), and each target's k B's (2·k·r·d).
  const perToken = layers * (2n * 2n * e * d + 2n * 2n * k * r * d + 4n * 2n * k * r * d);
  assert.equal(arrow.flops.decode - base.flops.decode, perToken);
  // Setup, once: per expert BᵀB for each of the 4 B's (r²·d MACs) and 15 power iterations per
  // prototype group, each 2·r·d + r² + d MACs; 2 FLOPs per MAC.
  const setupMacs = layers * e * (4n * r * r * d + 2n * iterations * (2n * r * d + r * r + d));
  assert.equal(arrow.flops.setup, 2n * setupMacs);
  assert.equal(arrow.flops.setup, 14_016_839_680n);
  assert.equal(base.flops.setup, undefined);
});

// ---------------------------------------------------------------------------------------------
// Parameter-efficient Conformers (Bai et al., Interspeech 2022; arXiv:2209.08326): only the
// abstract was readable — blocks in groups share their parameters, routers and norms stay per
// block, "1/3 of the parameters of the encoder, compared with the full-parameter model". The
// Conformer is WeNet v2.0.0's AISHELL-1 encoder (d 256, 4 heads, FFN 2048, 12 blocks, kernel 15,
// macaron, rel_pos, conv2d subsampling of 80 mel bins), the experts WeNet's MoEFFNLayer defaults
// (8 experts with biases, top-2, bias-free gate) on both feed-forwards; groups of 3 blocks.

function conformer(s: { experts: number; topK: number; groups: number }) {
  const d = 256n;
  const hidden = 2048n;
  const ffn = d * hidden + hidden + hidden * d + d; // w_1, w_2 with biases
  const attention = 4n * (d * d + d) + d * d + 2n * d; // q, k, v, out with biases; linear_pos; pos_bias_u, v
  const conv = (d * 2n * d + 2n * d) + (d * 15n + d) + (d * d + d); // pointwise_conv1, depthwise, pointwise_conv2
  const norms = 5n * 2n * d + 2n * d; // five LayerNorms and the BatchNorm's weight and bias
  const frontEnd = (d * 9n + d) + (d * d * 9n + d) + (d * d * 19n + d); // 19 = ((80 − 1)//2 − 1)//2
  const outside = frontEnd + 2n * d; // after_norm
  const L = 12n;
  const E = B(s.experts);
  const router = E * d;
  const dense = outside + L * (2n * ffn + attention + conv + norms);
  const sharedPart = attention + conv + 2n * E * ffn; // one group's store
  const ownPart = norms + 2n * router; // per block
  const unshared = outside + L * (sharedPart + ownPart);
  const stored = outside + B(s.groups) * sharedPart + L * ownPart;
  const active = outside + L * (attention + conv + norms + 2n * router + 2n * B(s.topK) * ffn);
  // Forward FLOPs per frame, a multiply-add 2: the weights' (biases and norms aside) and, per
  // attended key, q·k, (q + v)·p_j and the value sum, 4 heads of 64 each.
  const matmuls = (d * 9n + d * d * 9n + d * d * 19n) + L * (4n * d * d + d * d + 2n * d * d + 15n * d + d * d);
  const experts = (k: bigint) => L * 2n * k * 2n * d * hidden;
  const perKey = L * 2n * 4n * (64n + 64n + 64n);
  const flops = (seq: bigint, k: bigint, routers: boolean) => seq * 2n * (matmuls + experts(k) + (routers ? L * 2n * E * d : 0n)) + seq * seq * perKey;
  return { dense, unshared, stored, active, ffn, router, flops };
}

test('Parameter-efficient Conformer: experts and blocks shared by groups of 3, routers and norms per block, 1/3 of the unshared encoder', () => {
  const models = reports('conformer-shared-experts.npas', { seq: 1000, batch: 1 });
  const x = conformer({ experts: 8, topK: 2, groups: 4 });
  assert.equal(x.ffn, 1_050_880n);
  assert.equal(named(models, 'Conformer').params.stored, x.dense); // 33,464,832
  const moe = named(models, 'ConformerMoE');
  assert.equal(moe.params.stored, x.unshared); // 210,061,824
  const shared = named(models, 'ConformerSharedMoE');
  assert.equal(shared.params.stored, x.stored); // 71,303,680
  assert.equal(shared.params.effective, x.unshared, 'every block still applies its group\'s store');
  assert.equal(shared.params.active, x.active);
  assert.equal(moe.params.active, x.active);
  // The abstract's 1/3: the shared encoder against the full-parameter (unshared) one, to 2 places.
  assert.equal((shared.params.stored * 100n + x.unshared / 2n) / x.unshared, 34n);
  // Sharing keeps per block what the paper keeps individual: 24 routers [8, 256], 5 LayerNorms and
  // a BatchNorm; against sharing whole blocks (routers and norms too) that is 8 more copies of them.
  const wholeBlocks = named(reports('conformer-shared-experts.npas', {}, [
    ['  share experts body.ff1: sequence(4)\n  share experts body.ff2: sequence(4)\n', ''],
    ['share body.attn, body.conv_in, body.conv_dw, body.conv_out: sequence(4)', 'share body: sequence(4)'],
  ]), 'ConformerSharedMoE');
  assert.equal(x.stored - wholeBlocks.params.stored, 8n * (512n * 5n + 512n + 2n * x.router));
  // Top-1: each frame runs one expert per feed-forward, the dense Conformer's weights plus the routers.
  const top1 = named(models, 'ConformerSharedMoETop1');
  assert.equal(top1.params.active, x.dense + 24n * x.router);
  assert.equal(top1.params.active, conformer({ experts: 8, topK: 1, groups: 4 }).active);
  // A prefill of 1,000 frames (40 s of speech after the 4× subsampling): sharing changes no
  // FLOP; the bidirectional attention reads every frame, with the position term per key.
  assert.equal(named(models, 'Conformer').flops.prefill, x.flops(1000n, 1n, false)); // a dense FFN computes as one expert
  assert.equal(shared.flops.prefill, x.flops(1000n, 2n, true));
  assert.equal(moe.flops.prefill, x.flops(1000n, 2n, true));
  assert.equal(top1.flops.prefill, x.flops(1000n, 1n, true));
  for (const b of shared.budgets) assert.ok(b.ok, `${b.constraint} (value ${b.value})`);
});

test('Parameter-efficient Conformer: a decode step touches the union of each group\'s three routers\' selections', () => {
  const E = 8n;
  const k = 2n;
  for (const batch of [1n, 4n]) {
    const pools = named(reports('conformer-shared-experts.npas', { seq: 1, batch: Number(batch) }), 'ConformerSharedMoE').pools;
    assert.equal(pools.length, 2); // ff1's pools and ff2's
    for (const p of pools) {
      assert.deepEqual([p.stack, p.experts, p.topK, p.pools, p.layers], ['body', 8, 2, 4, 12]);
      assert.equal(p.storedExperts, 32n);
      assert.equal(p.activeExperts, 24n);
      // 4 pools × 8·(1 − (6/8)^(3B)) experts of 1,050,880 params, rounded up.
      const den = E ** (3n * batch);
      const touched = 4n * E * (den - (E - k) ** (3n * batch));
      assert.equal(p.touchedParams, (touched * 1_050_880n + den - 1n) / den, `batch ${batch}`);
    }
  }
});
