// Factorised weights (`factorize PATHS: fedpara | tensor_train | mpo`): stored counts against the
// published compression factors of Novikov et al. 2015 ("Tensorizing Neural Networks", Table 3:
// VGG-16's fc6 as a TT-layer) and against derivations written out here for FedPara (Hyeon-Woo et
// al., ICLR 2022: 2R(m + n) per matrix) and MPO with a shared central tensor (MPOBERT across
// layers, MPOE across experts); the weight-generation MACs per step written out per formula; and
// a diagnostic for every bad argument.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, completionsAt, hoverAt, type Diagnostic, type ModelReport } from '../../../src/core/index.js';

function model(text: string, name?: string): ModelReport {
  const r = analyze(text);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code}: ${d.message}`), []);
  const m = name ? r.models.find((x) => x.name === name) : r.models[0];
  assert.ok(m);
  return m;
}

const codes = (text: string): string[] => analyze(text).diagnostics.map((d: Diagnostic) => d.code);

// VGG-16's fc6 (25088 → 4096) as Novikov et al. reshape it: 25088 = 2·7·8·8·7·4 columns,
// 4096 = 4⁶ rows; fc7 (4096 → 4096) as 4⁶ × 4⁶.
const VGG_FC = (statements: string): string => `model VggFc {
  fc6 = Linear(25088, 4096)
  fc7 = Linear(4096, 4096)
  ${statements}
}
`;
const FC6_MODES = 'modes_out: [4, 4, 4, 4, 4, 4], modes_in: [2, 7, 8, 8, 7, 4]';
const FC7_MODES = 'modes_out: [4, 4, 4, 4, 4, 4], modes_in: [4, 4, 4, 4, 4, 4]';
const DENSE_FC6 = 25088n * 4096n;
const DENSE_FC7 = 4096n * 4096n;

test('tensor train: VGG-16 fc6 compression factors of Novikov et al. 2015, Table 3 (TT4 50 972, TT2 194 622, TT1 713 614)', () => {
  // Cores r_{k−1}·m_k·n_k·r_k with r₀ = r₆ = 1; at uniform inner rank r:
  //   1·4·2·r + r·4·7·r + r·4·8·r + r·4·8·r + r·4·7·r + r·4·4·1 = 24r + 120r².
  for (const [rank, published] of [[4, 50972n], [2, 194622n], [1, 713614n]] as const) {
    const r = BigInt(rank);
    const cores = 24n * r + 120n * r * r;
    const m = model(VGG_FC(`factorize fc6: tensor_train(rank: ${rank}, ${FC6_MODES})`));
    assert.equal(m.params.stored, cores + DENSE_FC7, `TT${rank}`);
    assert.equal(m.params.effective, DENSE_FC6 + DENSE_FC7, 'effective is the dense equivalent');
    assert.equal(DENSE_FC6 / cores, published, `TT${rank}: the published compression factor of fc6`);
  }
});

test('tensor train: both VGG-16 FC layers at rank 4 give the published 37 732× (TT4 TT4 FC)', () => {
  // fc7 at 4⁶ × 4⁶, rank 4: 1·16·4 + 4 · (4·16·4) + 4·16·1 = 64 + 1024 + 64.
  const fc7Cores = 64n + 1024n + 64n;
  const fc6Cores = 24n * 4n + 120n * 16n;
  const m = model(VGG_FC(`factorize fc6: tensor_train(rank: 4, ${FC6_MODES})\n  factorize fc7: tensor_train(rank: 4, ${FC7_MODES})`));
  assert.equal(m.params.stored, fc6Cores + fc7Cores);
  assert.equal((DENSE_FC6 + DENSE_FC7) / m.params.stored, 37732n);
});

test('tensor train: generation MACs per step are the cheaper sweep of merging the cores', () => {
  // 64×64 as 4·4·4 × 4·4·4, rank 4: cores G₁ [1,4,4,4], G₂ [4,4,4,4], G₃ [4,4,4,1].
  // Left to right: merge G₂ into G₁ (16 × 4 by 4 × 64): 16·4·16·4 = 4096; then G₃ into the
  // (256 × 4) product: 256·4·16·1 = 16384. Right to left mirrors it: 20480 either way.
  const m = model(`model T {
  lin = Linear(64, 64)
  factorize lin: tensor_train(rank: 4, cores: 3)
}
`);
  assert.equal(m.params.stored, 64n + 256n + 64n);
  assert.equal(m.flops.generationPerStep, 6n * 20480n);
  // Applying the cores costs 6144 MACs per token (below), more than the dense 64·64: inference
  // applies the materialised dense matrix, 2·64·64 FLOPs per token.
  assert.equal(m.flops.prefillPerToken, String(2n * 64n * 64n));
});

test('tensor train: uneven ranks and an asymmetric weight pick the cheaper merge order', () => {
  // 32 rows × 8 columns as [8, 4] × [2, 4], ranks [1, 3, 1]: G₁ [1,8,2,3] (48), G₂ [3,4,4,1] (48).
  // Left to right: (8·2)·3·(4·4)·1 = 768; right to left: (4·4)·3·(8·2)·1 = 768.
  const m = model(`model T {
  lin = Linear(8, 32)
  factorize lin: tensor_train(ranks: [3], modes_out: [8, 4], modes_in: [2, 4])
}
`);
  assert.equal(m.params.stored, 96n);
  assert.equal(m.flops.generationPerStep, 6n * 768n);
});

test('FedPara: 2R(m + n) stored per matrix, m·n·(2R + 1) MACs to materialise it', () => {
  // Linear(512 → 256), R = 8: X₁, X₂ ∈ ℝ^{256×8}, Y₁, Y₂ ∈ ℝ^{512×8}: 2·8·(256 + 512) = 12 288
  // (the low-rank product reaching rank R² = 64 would need 64·(256 + 512) = 49 152).
  // Materialising: X₁Y₁ᵀ and X₂Y₂ᵀ, 256·512·8 MACs each, and the Hadamard product 256·512.
  const m = model(`model F {
  lin = Linear(512, 256, bias: true)
  factorize lin: fedpara(rank: 8)
}
`);
  assert.equal(m.params.stored, 12288n + 256n, 'the bias stays dense');
  assert.equal(m.params.effective, 512n * 256n + 256n);
  assert.equal(m.params.trainable, m.params.stored);
  assert.equal(m.factorized![0]!.reconstructMacs, 2n * 256n * 512n * 8n + 256n * 512n);
  // Applying the factors, (X₁ • X₂)(Y₁ • Y₂)ᵀ, costs R²·(m + n) = 64·768 = 49 152 MACs per token
  // (and as many once per step to form the face-splitting products): below the dense
  // 256·512 = 131 072 per token and the 1 179 648 of materialising W, so that is what is counted.
  assert.equal(m.factorized![0]!.execution, 'factors');
  assert.equal(m.flops.generationPerStep, 6n * 49152n);
});

test('FedPara over a transformer block: every matmul weight factorised per instance, norms dense', () => {
  // d = 64, heads 4: q, k, v, o are 64×64 (2·4·128 = 1024 each); MLP up 256×64 and down 64×256
  // (2·4·320 = 2560 each). Per layer: 4·1024 + 2·2560 = 9216, plus the two norms (64 each).
  const m = model(`model B {
  d = 64
  block L { n1 = RMSNorm(d); attn = Attention(d, heads: 4); n2 = RMSNorm(d); mlp = MLP(d, 4 * d, bias: false) }
  body = L * 3
  factorize body: fedpara(rank: 4)
}
`);
  assert.equal(m.params.stored, 3n * (9216n + 128n));
  assert.equal(m.params.effective, 3n * (4n * 64n * 64n + 2n * 64n * 256n + 128n));
});

test('MPO: the central tensor shared across layers (MPOBERT), auxiliary tensors per layer', () => {
  // 64×64 as 4·4·4 × 4·4·4 at rank 4: G₁ 64, central G₂ 256, G₃ 64. Four layers share G₂.
  const text = (central: string): string => `model M {
  block L { lin = Linear(64, 64) }
  body = L * 4
  factorize body: mpo(rank: 4, cores: 3${central})
}
`;
  assert.equal(model(text('')).params.stored, 4n * (64n + 64n) + 256n);
  assert.equal(model(text(', central: layers')).params.stored, 4n * 128n + 256n);
  assert.equal(model(text(', central: own')).params.stored, 4n * (128n + 256n));
  assert.equal(model(text('')).params.effective, 4n * 64n * 64n);
});

test('MPO: the central tensor shared across the experts of each MoE layer (MPOE)', () => {
  // MoE(32, 64, experts: 4, top_k: 1, gated: false): per expert up 64×32 and down 32×64, each as
  // 2 cores at rank 2 with modes [8, 8]×[8, 4] (up) and [8, 4]×[8, 8] (down):
  //   up:   G₁ [1,8,8,2] = 128, central G₂ [2,8,4,1] = 64
  //   down: G₁ [1,8,8,2] = 128, central G₂ [2,4,8,1] = 64
  // central: experts → per layer: 4·(128 + 128) + 64 + 64; the router (32·4) stays dense.
  const moe = (central: string): string => `model E {
  block L { moe = MoE(32, 64, 4, 1, gated: false) }
  body = L * 2
  factorize body.moe: mpo(rank: 2, cores: 2, central: ${central})
}
`;
  const router = 32n * 4n;
  assert.equal(model(moe('experts')).params.stored, 2n * (4n * 256n + 128n + router));
  // central: layers → one central per weight name and shape for both layers and all experts.
  assert.equal(model(moe('layers')).params.stored, 2n * (4n * 256n + router) + 128n);
  assert.equal(model(moe('own')).params.stored, 2n * (4n * 384n + router));
});

test('factorize: a path naming one weight factorises only it; a tied weight keeps reading its source', () => {
  const one = model(`model P {
  block L { mlp = MLP(64, 256, bias: false) }
  body = L * 2
  factorize body.mlp.up: fedpara(rank: 2)
}
`);
  // up is 256×64 → 2·2·320 = 1280; down stays 64·256 dense.
  assert.equal(one.params.stored, 2n * (1280n + 64n * 256n));
  const tied = model(`model T {
  embed = Embedding(1000, 64)
  head = Linear(64, 1000) tied embed
  factorize head: fedpara(rank: 2)
}
`);
  assert.equal(tied.params.stored, 64000n);
});

test('factorize: frozen factors are stored but not trainable', () => {
  const m = model(`model Z {
  lin = Linear(64, 64)
  factorize lin: fedpara(rank: 2)
  freeze lin
}
`);
  assert.equal(m.params.stored, 512n);
  assert.equal(m.params.trainable, 0n);
});

test('factorize: every bad argument is a located diagnostic', () => {
  const base = (s: string): string => `model M {\n  lin = Linear(64, 48)\n  n = RMSNorm(48)\n  ${s}\n}\n`;
  assert.ok(codes(base('factorize lin: svd(rank: 4)')).includes('npas-factorize'));
  assert.ok(codes(base('factorize lin: fedpara()')).includes('npas-factorize'));
  assert.ok(codes(base('factorize lin: fedpara(rank: 0)')).includes('npas-factorize'));
  assert.ok(codes(base('factorize lin: tensor_train(cores: 3)')).includes('npas-factorize'), 'no rank');
  assert.ok(codes(base('factorize lin: tensor_train(rank: 2)')).includes('npas-factorize'), 'no cores or modes');
  assert.ok(codes(base('factorize lin: tensor_train(rank: 2, ranks: [2], cores: 2)')).includes('npas-factorize'), 'rank and ranks');
  assert.ok(codes(base('factorize lin: tensor_train(ranks: [2, 2], cores: 2)')).includes('npas-factorize'), 'wrong number of ranks');
  assert.ok(codes(base('factorize lin: tensor_train(rank: 2, modes_out: [8, 6])')).includes('npas-factorize'), 'modes_in missing');
  assert.ok(codes(base('factorize lin: tensor_train(rank: 2, modes_out: [8, 6], modes_in: [64])')).includes('npas-factorize'), 'mode lists of different lengths');
  assert.ok(codes(base('factorize lin: tensor_train(rank: 2, cores: 1)')).includes('npas-factorize'), 'one core');
  assert.ok(codes(base('factorize lin: tensor_train(rank: 2, cores: 2, central: layers)')).includes('npas-factorize'), 'central on a tensor train');
  assert.ok(codes(base('factorize lin: mpo(rank: 2, cores: 2, central: everywhere)')).includes('npas-factorize'));
  assert.ok(codes(base('factorize lin: tensor_train(rank: 2, modes_out: [8, 8], modes_in: [8, 8])')).includes('npas-factorize-shape'), '8·8 ≠ 48');
  assert.ok(codes(base('factorize n: fedpara(rank: 2)')).includes('npas-factorize-target'));
  assert.ok(codes(base('factorize nothing: fedpara(rank: 2)')).includes('npas-share-target'));
  // 2·40·(48 + 64) = 8960 ≥ 64·48 = 3072: counted as written, with a warning.
  const larger = analyze(base('factorize lin: fedpara(rank: 40)'));
  assert.deepEqual(larger.diagnostics.map((d) => [d.code, d.severity]), [['npas-factorize-larger', 'warning']]);
  assert.equal(larger.models[0]!.params.stored, 8960n + 48n, 'the factors and the norm');
  const located = analyze(base('factorize lin: tensor_train(rank: 2, modes_out: [8, 8], modes_in: [8, 8])')).diagnostics[0]!;
  const text = base('factorize lin: tensor_train(rank: 2, modes_out: [8, 8], modes_in: [8, 8])');
  assert.equal(text.slice(located.range.start, located.range.end), 'lin');
});

test('factorize: balanced modes split each width into the requested number of cores', () => {
  // 48 = 3·2⁴ into 2 modes, primes largest first into the smallest part: [3, 1] → [3, 2] →
  // [3, 4] → [6, 4] → [6, 8], listed largest first as [8, 6]; 64 → [8, 8]. Cores at rank 3: G₁ [1, 8, 8, 3] = 192, G₂ [3, 6, 8, 1] = 144.
  const m = model(`model M {
  lin = Linear(64, 48)
  factorize lin: tensor_train(rank: 3, cores: 2)
}
`);
  assert.equal(m.params.stored, 192n + 144n);
});

test('factorize: the per-weight table states both executions; the hover on the keyword shows it', () => {
  const text = `model F {
  lin = Linear(512, 256)
  tt = Linear(64, 64)
  factorize lin: fedpara(rank: 8)
  factorize tt: tensor_train(rank: 4, cores: 3)
}
`;
  const r = analyze(text);
  const rows = r.models[0]!.factorized!;
  assert.equal(rows.length, 2);
  const [fed, tt] = rows as [NonNullable<typeof rows>[number], NonNullable<typeof rows>[number]];
  // FedPara as (X₁ • X₂)(Y₁ • Y₂)ᵀ: R² = 64 rank-one terms over 256 + 512 numbers per token,
  // the face-splitting products formed once per step (64·768 multiplies); dense: 256·512.
  assert.equal(fed.path, 'lin.weight');
  assert.deepEqual(fed.factors, [[256, 8], [512, 8], [256, 8], [512, 8]]);
  assert.equal(fed.chainMacsPerToken, 64n * 768n);
  assert.equal(fed.chainSetupMacs, 64n * 768n);
  assert.equal(fed.denseMacsPerToken, 131072n);
  assert.equal(fed.cheaperPerToken, 'factors');
  // TT 4·4·4 × 4·4·4 at rank 4, applied right to left: core 3 sees the input's n₁n₂ = 16 slices
  // (16·64 = 1024), core 2 n₁·m₃ = 16 (16·256 = 4096), core 1 m₂m₃ = 16 (16·64 = 1024): 6144,
  // and left to right mirrors it — more than the dense 4096.
  assert.equal(tt.chainMacsPerToken, 6144n);
  assert.equal(tt.reconstructMacs, 20480n);
  assert.equal(tt.cheaperPerToken, 'dense');
  const at = text.indexOf('factorize lin') + 2;
  const h = hoverAt(text, r, at);
  assert.ok(h && /`lin.weight` 256×512/.test(h.markdown) && /FedPara R=8/.test(h.markdown) && !/tt\.weight/.test(h.markdown), h?.markdown);
  assert.match(h.markdown, /factors cheaper/);
});

test('FedPara on a convolution kernel (Proposition 3): 2(k²R² + R(O + I)) stored; generation per the einsum', () => {
  // Conv2d(16 → 32, 3×3), R = 4: T₁, T₂ [4, 4, 3, 3] (144 each), X [4, 32], Y [4, 16]:
  // 2·(16·9 + 4·48) = 672 (+ the bias 32). Each half: T with X, 4·4·9·32 = 4608 MACs, then with
  // Y 4·32·16·9 = 18432; the Hadamard product 32·16·9 = 4608.
  const m = model(`model C {
  conv = Conv2d(16, 32, 3, padding: 1, size: 8)
  factorize conv: fedpara(rank: 4)
}
`);
  assert.equal(m.params.stored, 672n + 32n);
  assert.equal(m.params.effective, 32n * 16n * 9n + 32n);
  assert.equal(m.flops.generationPerStep, 6n * (2n * (4608n + 18432n) + 4608n));
});

test('FedPara ratio γ: the rank per weight between r_min and r_max', () => {
  // A 64×64 matrix: r_min = min(⌈√64⌉, ⌈√64⌉) = 8; r_max = ⌊64·64 / (2·128)⌋ = 16 (2R(m + n) ≤ mn).
  // γ = 1/2: R = ⌈4 + 8⌉ = 12 → 2·12·128 = 3072. A 64→128 3×3 kernel: r_min 8, r_max the largest
  // R with 9R² + 192R ≤ 9·64·128/2 = 36864 → 54 (9·55² + 192·55 = 37785 > 36864; 54: 36612);
  // γ = 1/2: ⌈4 + 27⌉ = 31 → 2·(9·961 + 31·192) = 29202.
  const lin = model(`model L {
  lin = Linear(64, 64)
  factorize lin: fedpara(ratio: 0.5)
}
`);
  assert.equal(lin.params.stored, 3072n);
  const conv = model(`model K {
  conv = Conv2d(64, 128, 3, size: 8, bias: false)
  factorize conv: fedpara(ratio: 1/2)
}
`);
  assert.equal(conv.params.stored, 29202n);
  const base = (s: string): string => `model M {\n  conv = Conv2d(8, 8, 3, size: 8)\n  ${s}\n}\n`;
  assert.ok(codes(base('factorize conv: fedpara(rank: 2, ratio: 0.1)')).includes('npas-factorize'), 'rank and ratio');
  assert.ok(codes(base('factorize conv: fedpara(ratio: 1.5)')).includes('npas-factorize'), 'γ above 1');
  assert.ok(codes(base('factorize conv: tensor_train(rank: 2, cores: 2)')).includes('npas-factorize-target'), 'a tensor train factorises matrices only');
});

test('the roofline counts the cheaper execution: a two-core tensor train applied per token, its setup free', () => {
  // 64×64 as [8, 8] × [8, 8] at rank 2: cores G₁ [1,8,8,2] and G₂ [2,8,8,1], 128 + 128 stored.
  // Applied right to left: G₂ over the input's n₁ = 8 slices, 8·(2·8·8·1) = 1024 MACs, then G₁
  // over m₂ = 8, 8·(1·8·8·2) = 1024: 2048 per token, half the dense 64·64 = 4096, and no setup.
  // Materialising W (64 × 2 by 2 × 64) would cost 64·2·64 = 8192 MACs per step.
  const text = (factor: string): string => `model T {
  a = Linear(64, 64)
  b = Linear(64, 64)
  ${factor}
}
`;
  const plain = model(text(''));
  const m = model(text('factorize a: tensor_train(rank: 2, modes_out: [8, 8], modes_in: [8, 8])'));
  assert.equal(m.params.stored, 256n + 4096n);
  const row = m.factorized![0]!;
  assert.equal(row.chainMacsPerToken, 2048n);
  assert.equal(row.reconstructMacs, 8192n);
  assert.equal(row.execution, 'factors');
  assert.equal(row.factorsCheaperBelowTokens, 0n);
  // Forward: a's 2·2048 FLOPs per token instead of 2·4096, b unchanged; nothing generated.
  assert.equal(BigInt(m.flops.prefillPerToken), BigInt(plain.flops.prefillPerToken) - 2n * (4096n - 2048n));
  assert.equal(m.flops.generationPerStep, 0n);
  // Training: both weights train, forward + input gradients + weight gradients = 3 × forward.
  assert.equal(BigInt(m.flops.trainPerToken), BigInt(plain.flops.trainPerToken) - 3n * 2n * (4096n - 2048n));
  // Frozen, the factors' weight gradients are not computed: 2 × the forward saving.
  const frozen = model(text('factorize a: tensor_train(rank: 2, modes_out: [8, 8], modes_in: [8, 8])\n  freeze a'));
  const plainFrozen = model(text('freeze a'));
  assert.equal(BigInt(frozen.flops.trainPerToken), BigInt(plainFrozen.flops.trainPerToken) - 2n * 2n * (4096n - 2048n));
});

test('dense counted: a tensor train dearer per token states the training steps its factors would still win', () => {
  // 64×64 as 4·4·4 × 4·4·4 at rank 4: 6144 MACs per token applied, 4096 dense, 20 480 to
  // materialise per step, no setup. A step of T tokens costs 20480 + 4096·T materialised and
  // 6144·T applied: the factors are cheaper while 2048·T < 20480, i.e. below 10 tokens.
  const r = analyze(`model T {
  lin = Linear(64, 64)
  factorize lin: tensor_train(rank: 4, cores: 3)
}
`);
  const row = r.models[0]!.factorized![0]!;
  assert.equal(row.execution, 'dense');
  assert.equal(row.factorsCheaperBelowTokens, 10n);
  const text = `model T {\n  lin = Linear(64, 64)\n  factorize lin: tensor_train(rank: 4, cores: 3)\n}\n`;
  const h = hoverAt(text, analyze(text), text.indexOf('factorize') + 2);
  assert.match(h!.markdown, /W materialised, dense matmul \(factors would train cheaper below 10 tokens per step\)/);
});

test('the execution choice is per weight: MoE experts apply their chain per routed copy', () => {
  // Experts 64 → 64 → 64 (up and down 64×64 each, as [8, 8] × [8, 8] at rank 2: 2048 MACs per
  // token instead of 4096), 4 experts, top-1: each token runs one expert's two matrices.
  const text = (factor: string): string => `model E {
  moe = MoE(64, 64, experts: 4, top_k: 1, act: relu, gated: false)
  ${factor}
}
`;
  const plain = model(text(''));
  const m = model(text('factorize moe: tensor_train(rank: 2, modes_out: [8, 8], modes_in: [8, 8])'));
  const experts = m.factorized!.filter((x) => x.copies === 4);
  assert.equal(experts.length, 2);
  assert.ok(experts.every((x) => x.execution === 'factors'));
  assert.equal(BigInt(m.flops.prefillPerToken), BigInt(plain.flops.prefillPerToken) - 2n * 2n * (4096n - 2048n));
});

test('a sparse mask (FISH) on a factorised weight needs W formed: materialised whatever the chain saves, and the choice says why', () => {
  // The two-core train above: applied, 2048 MACs per token against the dense 4096; materialising
  // W costs 64·2·64 = 8192 MACs (left to right, the 64 × 2 by 2 × 64 product). The mask replaces
  // 100 entries of W by its own values, so the factors alone cannot give the masked W·x: W is
  // built once per step (6 × 8192 FLOPs in training: forward and twice that backward) and the
  // dense matmul runs, 2·4096 FLOPs per token, as without the factorisation.
  const text = (extra: string): string => `model T {
  a = Linear(64, 64)
  b = Linear(64, 64)
  adapt a: sparse(elements: 100)
  ${extra}
}
`;
  const plain = model(text(''));
  const m = model(text('factorize a: tensor_train(rank: 2, modes_out: [8, 8], modes_in: [8, 8])'));
  // Stored: the cores 128 + 128, b's 4096 and the mask's 100 values.
  assert.equal(m.params.stored, 256n + 4096n + 100n);
  const row = m.factorized![0]!;
  assert.equal(row.chainMacsPerToken, 2048n);
  assert.equal(row.execution, 'dense');
  assert.equal(row.materialisedBecause, 'sparse mask');
  assert.equal(row.factorsCheaperBelowTokens, 0n);
  assert.equal(m.flops.prefillPerToken, plain.flops.prefillPerToken);
  assert.equal(m.flops.generationPerStep, 6n * 8192n);
  // Training per token: the same matmuls, plus the step's materialisation spread over its
  // batch × seq tokens.
  const stepTokens = BigInt(m.options.batch) * BigInt(m.options.seq);
  assert.equal(stepTokens * BigInt(m.flops.trainPerToken), stepTokens * BigInt(plain.flops.trainPerToken) + 6n * 8192n);
  // Without the mask the chain is applied: 2·(4096 − 2048) FLOPs per token fewer, nothing generated.
  const unmasked = model(text('factorize a: tensor_train(rank: 2, modes_out: [8, 8], modes_in: [8, 8])').replace('adapt a: sparse(elements: 100)', 'adapt b: sparse(elements: 100)'));
  assert.equal(unmasked.factorized![0]!.execution, 'factors');
  assert.equal(unmasked.factorized![0]!.materialisedBecause, undefined);
  assert.equal(unmasked.flops.generationPerStep, 0n);
  assert.equal(BigInt(unmasked.flops.prefillPerToken), BigInt(plain.flops.prefillPerToken) - 2n * (4096n - 2048n));
  // A mask on b alone leaves a's chain; one on a names its reason in the hover.
  const t = text('factorize a: tensor_train(rank: 2, modes_out: [8, 8], modes_in: [8, 8])');
  const h = hoverAt(t, analyze(t), t.indexOf('factorize') + 2);
  assert.match(h!.markdown, /W materialised \(its sparse mask replaces entries of W: W must exist\), dense matmul/);
});

test('a pooled sparse mask (train PATHS: sparse) trains stored elements in place: a factorised weight keeps its chain', () => {
  // The pool of `train a: sparse(elements: 50)` is a's trainable stored elements — its 256 core
  // entries — and the trained ones stay where they are: the factors are still what is applied.
  const m = model(`model T {
  a = Linear(64, 64)
  factorize a: tensor_train(rank: 2, modes_out: [8, 8], modes_in: [8, 8])
  train a: sparse(elements: 50)
}
`);
  assert.equal(m.params.stored, 256n);
  assert.equal(m.params.trainable, 50n);
  assert.equal(m.factorized![0]!.execution, 'factors');
  assert.equal(m.flops.generationPerStep, 0n);
  assert.equal(m.flops.prefillPerToken, String(2n * 2048n));
});

// ---- tied factorised stores: one W, several users ------------------------------------------

const TT2 = 'tensor_train(rank: 2, modes_out: [8, 8], modes_in: [8, 8])';

test('a weight tied to a factorised one runs as its store runs: both apply the chain, nothing is generated', () => {
  // The two-core train of 64×64 at rank 2: 2048 MACs per token applied, 4096 dense, 8192 to
  // materialise. Owner and reader each apply the chain to their tokens; the per-step comparison
  // (no setup against 8192) is made once for the one store, so it is the owner's: factors.
  const text = (extra: string): string => `model T {
  a = Linear(64, 64)
  b = Linear(64, 64) tied a
  ${extra}
}
`;
  const plain = model(text(''));
  const m = model(text(`factorize a: ${TT2}`));
  assert.equal(m.params.stored, 256n, "a's cores; b reads them");
  assert.equal(BigInt(m.flops.prefillPerToken), BigInt(plain.flops.prefillPerToken) - 2n * 2n * (4096n - 2048n));
  assert.equal(m.flops.generationPerStep, 0n);
});

test('a tied FedPara store forms its Khatri–Rao factors once per step, read by both users', () => {
  // R = 3 on 64×64: applied, R²(m + n) = 9·128 = 1152 MACs per token (against 4096 dense) after a
  // setup of 1152 multiplies per step (X₁ • X₂ and Y₁ • Y₂), below materialising 4096·7 = 28672.
  // Two users: 2 × 2·(4096 − 1152) FLOPs fewer per token, one setup: 6 × 1152 per step.
  const text = (extra: string): string => `model T {
  a = Linear(64, 64)
  b = Linear(64, 64) tied a
  ${extra}
}
`;
  const plain = model(text(''));
  const m = model(text('factorize a: fedpara(rank: 3)'));
  assert.equal(m.params.stored, 2n * 3n * 128n);
  assert.equal(BigInt(m.flops.prefillPerToken), BigInt(plain.flops.prefillPerToken) - 2n * 2n * (4096n - 1152n));
  assert.equal(m.flops.generationPerStep, 6n * 1152n);
});

test('a tied store the owner materialises is generated once per step, not once per user', () => {
  // 64×64 as 4·4·4 × 4·4·4 at rank 4: applying costs 6144 MACs per token against 4096, so W is
  // materialised, 20480 MACs per step (the cheaper merge sweep), once for the store; both users
  // run the dense matmul, as without the factorisation.
  const text = (extra: string): string => `model T {
  a = Linear(64, 64)
  b = Linear(64, 64) tied a
  ${extra}
}
`;
  const plain = model(text(''));
  const m = model(text('factorize a: tensor_train(rank: 4, cores: 3)'));
  assert.equal(m.flops.prefillPerToken, plain.flops.prefillPerToken);
  assert.equal(m.flops.generationPerStep, 6n * 20480n);
});

test('a tied user that needs W itself (an embedding table) materialises it when the owner applies the factors', () => {
  // The head applies the rank-2 train (2048 MACs per token for 4096); the embedding reads rows of
  // the same 64×64 W, which the chain never forms: W is built for it, 64·2·64 = 8192 MACs per step.
  const text = (extra: string): string => `model T {
  embed = Embedding(64, 64) tied head
  head  = Linear(64, 64)
  ${extra}
}
`;
  const plain = model(text(''));
  const m = model(text(`factorize head: ${TT2}`));
  assert.equal(m.params.stored, 256n);
  assert.equal(BigInt(m.flops.prefillPerToken), BigInt(plain.flops.prefillPerToken) - 2n * (4096n - 2048n));
  assert.equal(m.flops.generationPerStep, 6n * 8192n);
});

test('`tie a = b` and a block member tied to a sibling read the factorised store the same way', () => {
  // tie b = a over two-Linear blocks: b.p and b.q apply a.p's and a.q's chains (4 chains of 2048
  // MACs in place of 4 dense 4096). A block member tied to its factorised sibling: 2 chains.
  const all = (extra: string): string => `block B(d) {
  p = Linear(d, d)
  q = Linear(d, d)
}
model T {
  a = B(64)
  b = B(64)
  tie b = a
  ${extra}
}
`;
  const plainAll = model(all(''));
  const mAll = model(all(`factorize a: ${TT2}`));
  assert.equal(mAll.params.stored, 2n * 256n);
  assert.equal(BigInt(mAll.flops.prefillPerToken), BigInt(plainAll.flops.prefillPerToken) - 4n * 2n * (4096n - 2048n));
  assert.equal(mAll.flops.generationPerStep, 0n);
  const sibling = (extra: string): string => `block B(d) {
  p = Linear(d, d)
  q = Linear(d, d) tied p
}
model T {
  a = B(64)
  c = B(64)
  ${extra}
}
`;
  const plainSib = model(sibling(''));
  // Only a's p is factorised: a.q follows it; c (the same block, unfactorised) stays dense.
  const mSib = model(sibling(`factorize a.p: ${TT2}`));
  assert.equal(mSib.params.stored, 256n + 4096n);
  assert.equal(BigInt(mSib.flops.prefillPerToken), BigInt(plainSib.flops.prefillPerToken) - 2n * 2n * (4096n - 2048n));
});

test('npas-factorize-larger with a shared MPO central tensor compares what the sharing stores', () => {
  // 64×64 as [4, 4, 4] × [4, 4, 4] at full rank [16, 16]: 256 + 4096 (central) + 256 = 4608 ≥ 4096.
  const warned = (text: string): boolean => analyze(text).diagnostics.some((x) => x.code === 'npas-factorize-larger');
  const stack = (central: string): string => `model M {
  block L { lin = Linear(64, 64) }
  body = L * 4
  factorize body.lin: mpo(modes_out: [4, 4, 4], modes_in: [4, 4, 4], ranks: [16, 16], central: ${central})
}
`;
  assert.equal(warned(stack('own')), true, 'each copy stores 4608 ≥ 4096');
  assert.equal(warned(stack('layers')), false, 'each further instance adds 512 auxiliary numbers');
  // Four experts: 4·512 + one central 4096 = 6144 against 4·4096 dense.
  const experts = (central: string): string => `model E {
  block L { moe = MoE(64, 64, 4, 1, gated: false) }
  body = L * 2
  factorize body.moe.expert_up: mpo(modes_out: [4, 4, 4], modes_in: [4, 4, 4], ranks: [16, 16], central: ${central})
}
`;
  assert.equal(warned(experts('experts')), false);
  assert.equal(warned(experts('own')), true);
  // 16×16 as [4, 4] × [4, 4] at rank 16: the auxiliary tensor alone (256) is the dense W: sharing never pays.
  const small = analyze(`model S {
  block L { lin = Linear(16, 16) }
  body = L * 3
  factorize body.lin: mpo(rank: 16, cores: 2, central: layers)
}
`).diagnostics.find((x) => x.code === 'npas-factorize-larger');
  assert.ok(small);
  assert.match(small.message, /^'body\.lin\.weight' \(16×16\): each instance's auxiliary tensors hold 256 numbers/);
});

test('several users needing W from an owner that applies its factors share one build per step', () => {
  // The head applies the rank-2 train of 64×64 (2048 MACs per token for 4096); two embeddings
  // gather rows of the same W, which the chain never forms. W is one tensor: built once per
  // step, 64·2·64 = 8192 MACs (the 64 × 2 by 2 × 64 product of the two cores), and read by both
  // tables — as the export builds it once under its store's key — not once per table.
  const text = (extra: string): string => `model T {
  e1   = Embedding(64, 64) tied head
  e2   = Embedding(64, 64) tied head
  head = Linear(64, 64)
  ${extra}
}
`;
  const plain = model(text(''));
  const m = model(text(`factorize head: ${TT2}`));
  assert.equal(m.params.stored, 256n);
  assert.equal(BigInt(m.flops.prefillPerToken), BigInt(plain.flops.prefillPerToken) - 2n * (4096n - 2048n));
  assert.equal(m.flops.generationPerStep, 6n * 8192n);
});

test('a transposed sibling tie inside a stack builds its own instance\'s W, once per instance', () => {
  // p = Linear(32, 64): W [64, 32] as a rank-2 train, cores G₁ [1, 8, 8, 2] and G₂ [2, 8, 4, 1].
  // p applies it: contracting x [8, 4] with G₁ first, 8·2·4·8 = 512 MACs, then with G₂,
  // 8·8·2·4 = 512: 1024 per token against the dense 64·32 = 2048. q reads Wᵀ (a transposed tie):
  // it needs W itself, built from the cores, (64 × 2) by (2 × 32) = 4096 MACs per step. Each of
  // the two instances holds its own cores, so its own W: 2 builds; both q's run the dense matmul.
  const text = (extra: string, n: number): string => `block B(d) {
  p = Linear(d, 64)
  q = Linear(64, d) tied p
}
model T {
  e    = Embedding(40, 32)
  body = B(32) * ${n}
  head = Linear(32, 40)
  ${extra}
}
`;
  for (const n of [1, 2, 3]) {
    const plain = model(text('', n));
    const m = model(text('factorize body.p: tensor_train(rank: 2, modes_out: [8, 8], modes_in: [8, 4])', n));
    const N = BigInt(n);
    assert.equal(m.params.stored, plain.params.stored - N * (2048n - (1n * 8n * 8n * 2n + 2n * 8n * 4n * 1n)), `${n}: each instance's cores`);
    assert.equal(BigInt(m.flops.prefillPerToken), BigInt(plain.flops.prefillPerToken) - N * 2n * (2048n - 1024n), `${n}: p applies its chain`);
    assert.equal(m.flops.generationPerStep, 6n * N * 4096n, `${n}: one W per instance`);
  }
});

test('a block member tied to its factorised sibling inside a stack applies the chain in every instance', () => {
  // The rank-2 train of 64×64: 2048 MACs per token against 4096. Each of the 3 instances holds
  // p's cores; p and q (tied to p, the same projection) both apply them: 3·2 chains in place of
  // 3·2 dense matmuls, nothing generated. (The walk once looked q's owner up through the stack
  // without naming an instance, found none, and counted q dense while the export chained it.)
  const text = (extra: string): string => `block B(d) {
  p = Linear(d, d)
  q = Linear(d, d) tied p
}
model T {
  body = B(64) * 3
  ${extra}
}
`;
  const plain = model(text(''));
  const m = model(text(`factorize body.p: ${TT2}`));
  assert.equal(m.params.stored, 3n * 256n);
  assert.equal(BigInt(m.flops.prefillPerToken), BigInt(plain.flops.prefillPerToken) - 3n * 2n * 2n * (4096n - 2048n));
  assert.equal(m.flops.generationPerStep, 0n);
});

test('`tie b = a` with a factorize naming one instance of a (a[1].up): b[1] reads a[1]\'s factors, the other instances stay dense', () => {
  // up = Linear(32, 64): W [64, 32], m = 64, n = 32. FedPara R = 4 stores 2R(m + n) = 768 for
  // 2048 and applies W through R²(m + n) = 1536 MACs per token (dense 2048), after a setup of
  // R²(m + n) = 1536 multiplies per step: applied. a[1].up and b[1].up (which reads it) each save
  // 2·(2048 − 1536) FLOPs per token; the setup is paid once, for the one store.
  const text = (extra: string): string => `block L(d) {
  up   = Linear(d, 64)
  down = Linear(64, d)
}
model T {
  e    = Embedding(40, 32)
  a    = L(32) * 3
  b    = L(32) * 3
  head = Linear(32, 40)
  tie b = a
  ${extra}
}
`;
  const plain = model(text(''));
  const m = model(text('factorize a[1].up: fedpara(rank: 4)'));
  assert.equal(m.params.stored, plain.params.stored - (2048n - 2n * 4n * 96n));
  assert.equal(BigInt(m.flops.prefillPerToken), BigInt(plain.flops.prefillPerToken) - 2n * 2n * (2048n - 16n * 96n));
  assert.equal(m.flops.generationPerStep, 6n * 16n * 96n);
  // The same through a chain of ties (tie c = b, tie b = a): c[1] reads a[1]'s factors too.
  const chain = (extra: string): string => text(`c = L(32) * 3\n  tie c = b\n  ${extra}`).replace('model T {', 'model T {');
  const plainChain = model(chain(''));
  const mChain = model(chain('factorize a[1].up: fedpara(rank: 4)'));
  assert.equal(BigInt(mChain.flops.prefillPerToken), BigInt(plainChain.flops.prefillPerToken) - 3n * 2n * (2048n - 16n * 96n));
  assert.equal(mChain.flops.generationPerStep, 6n * 16n * 96n);
});

test('max_rank: each weight\'s full-rank bonds capped at the truncation number (the MPO papers\' reference code)', () => {
  // 768×768 as [4, 4, 4, 4, 3]² (pairs 16, 16, 16, 16, 9): full-rank bonds min(∏ left, ∏ right) = [16, 256, 144, 9];
  // 3072×768 as [4, 4, 8, 6, 4] × [4, 4, 4, 4, 3] (pairs 16, 16, 32, 24, 12): [16, 256, 288, 12].
  const text = (arg: string): string => `model M {
  lin = Linear(768, 768)
  up = Linear(768, 3072)
  factorize lin: mpo(modes_out: [4, 4, 4, 4, 3], modes_in: [4, 4, 4, 4, 3], ${arg}, central: own)
  factorize up: mpo(modes_out: [4, 4, 8, 6, 4], modes_in: [4, 4, 4, 4, 3], ${arg}, central: own)
}
`;
  const cores = (shapes: number[][]): bigint => shapes.reduce((t, s) => t + s.reduce((p, x) => p * BigInt(x), 1n), 0n);
  const full = cores([[1, 4, 4, 16], [16, 4, 4, 256], [256, 4, 4, 144], [144, 4, 4, 9], [9, 3, 3, 1]]) + cores([[1, 4, 4, 16], [16, 4, 4, 256], [256, 8, 4, 288], [288, 6, 4, 12], [12, 4, 3, 1]]);
  assert.equal(model(text('max_rank: 100000')).params.stored, full);
  const explicit = `model M {
  lin = Linear(768, 768)
  up = Linear(768, 3072)
  factorize lin: mpo(modes_out: [4, 4, 4, 4, 3], modes_in: [4, 4, 4, 4, 3], ranks: [16, 256, 144, 9], central: own)
  factorize up: mpo(modes_out: [4, 4, 8, 6, 4], modes_in: [4, 4, 4, 4, 3], ranks: [16, 256, 288, 12], central: own)
}
`;
  assert.equal(model(explicit).params.stored, full);
  // Truncated at 32: [16, 32, 32, 9] and [16, 32, 32, 12].
  const cut = cores([[1, 4, 4, 16], [16, 4, 4, 32], [32, 4, 4, 32], [32, 4, 4, 9], [9, 3, 3, 1]]) + cores([[1, 4, 4, 16], [16, 4, 4, 32], [32, 8, 4, 32], [32, 6, 4, 12], [12, 4, 3, 1]]);
  assert.equal(model(text('max_rank: 32')).params.stored, cut);
  // The per-weight table shows the bonds each weight got; the label names the truncation.
  const rows = model(text('max_rank: 32')).factorized!;
  assert.deepEqual(rows.map((r) => r.factors.map((f) => f[3])), [[16, 32, 32, 9, 1], [16, 32, 32, 12, 1]]);
  assert.match(rows[0]!.method, /r≤32/);
  // Completion offers it with its formula.
  const partial = 'model M {\n  lin = Linear(64, 64)\n  factorize lin: mpo(cores: 3, \n}\n';
  const offered = completionsAt(partial, analyze(partial), partial.indexOf('cores: 3, ') + 10).items.find((i) => i.label === 'max_rank');
  assert.match(String(offered?.documentation), /min\(D, ∏_\{l≤k\} m_l·n_l, ∏_\{l>k\} m_l·n_l\)/);
  // One of rank, ranks, max_rank.
  assert.ok(codes(text('max_rank: 32, rank: 4')).includes('npas-factorize'));
  assert.ok(codes(text('max_rank: 0')).includes('npas-factorize'));
});

// A tie reader's weights are its owner's stores. Factorising them was ignored by the count (stored
// 8,192, the dense a) and refused by the export; now it is a located error in either order, and
// factorising the owner stands.
test('factorize on a `tie a = b` reader is npas-factorize-target, in either order; on the owner it stands', () => {
  const spec = (statements: string): string => `model TF {\n  d = 64\n  block B {\n    up = Linear(d, d, bias: false)\n  }\n  a = B * 2\n  b = B * 2\n${statements}}\n`;
  const errors = (text: string): { code: string; text: string }[] =>
    analyze(text).diagnostics.filter((x: Diagnostic) => x.severity === 'error').map((x: Diagnostic) => ({ code: x.code, text: text.slice(x.range.start, x.range.end) }));
  assert.deepEqual(errors(spec('  tie b = a\n  factorize b[1].up: fedpara(rank: 4)\n')), [{ code: 'npas-factorize-target', text: 'b[1].up' }]);
  assert.deepEqual(errors(spec('  tie b = a\n  factorize b.up: fedpara(rank: 4)\n')), [{ code: 'npas-factorize-target', text: 'b.up' }]);
  assert.deepEqual(errors(spec('  factorize b[1].up: fedpara(rank: 4)\n  tie b = a\n')), [{ code: 'npas-factorize-target', text: 'tie b = a' }]);
  const owner = analyze(spec('  tie b = a\n  factorize a[1].up: fedpara(rank: 4)\n'));
  assert.deepEqual(owner.diagnostics.filter((x: Diagnostic) => x.severity === 'error'), []);
  // a[0].up dense 4,096, a[1].up FedPara rank 4: 2·4·(64 + 64) = 1,024; b reads both.
  assert.equal(owner.models[0]!.params.stored, 4096n + 1024n);
});
