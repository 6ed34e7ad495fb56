// LoRETTA's tensor-train adapters (`loretta_rep`, `loretta_adp`). Every expected value is derived
// by hand here from the reference code's layout (yifanycc/loretta@c66bbb3,
// tensor_layers/low_rank_tensors.py TensorTrain: cores [r_{k−1}, n_k, r_k], r₀ = r_d = 1, one rank
// t inside; layers.py: the full tensor reshaped to (in_features, out_features)), with the default
// modes of utils/tensor_util.py TRANSFORMERS_HIDDEN_SIZE_TO_TENSOR_SHAPE:
//   r = 8, width 4096  → [16, 16, 8, 4, 4]       (∏ = 32,768 = 4096·8)
//   b = 64, width 4096 → [16, 16, 16, 4, 4, 4]   (∏ = 262,144 = 4096·64)
// At t = 5 the first train holds 1·16·5 + 5·16·5 + 5·8·5 + 5·4·5 + 5·4·1 = 80 + 400 + 200 + 100 + 20
// = 800 numbers, the second 80 + 400 + 400 + 100 + 100 + 20 = 1,100.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, sharingStructure } from '../../../src/core/index.js';
import { modelReport } from '../../fixtures/model-report.js';

// A frozen-base toy with a 4096-wide square projection `p` and a gate-like 4096 → 11008 one `g`.
const BASE = `
model M(d = 4096) {
  embed = Embedding(100, d)
  p = Linear(d, d)
  g = Linear(d, 11_008)
}
`;

test('loretta_rep: A and B are 800-number trains at the reference defaults; FLOPs and generation of the materialised form', () => {
  const src = `${BASE}
variant Rep of M { adapt p: loretta_rep(rank: 8, tt_rank: 5) }
variant RepMerged of M { adapt p: loretta_rep(rank: 8, tt_rank: 5, merged: true) }
`;
  const base = modelReport(src, 'M');
  const rep = modelReport(src, 'Rep');
  assert.equal(rep.params.stored - base.params.stored, 1_600n);
  assert.equal(rep.params.trainable, 1_600n, 'the base is frozen; the cores train');
  // Effective: the materialised A [4096 × 8] and B [8 × 4096].
  assert.equal(rep.params.effective - base.params.effective, 8n * (4096n + 4096n));
  // No prefix of [16, 16, 8, 4, 4] multiplies to 4096 (16, 256, 2048, 8192) nor to 8 (16):
  // both are materialised, then applied densely: 2·(4096·8 + 8·4096) FLOPs per token.
  assert.equal(BigInt(rep.flops.prefillPerToken) - BigInt(base.flops.prefillPerToken), 2n * (4096n * 8n + 8n * 4096n));
  // Materialising [16, 16, 8, 4, 4] at t = 5, right to left (the cheaper sweep):
  // [5,4,5]·[5,4] 400, [5,8,5]·[5,16] 3,200, [5,16,5]·[5,128] 51,200, [1,16,5]·[5,2048] 163,840 = 218,640
  // (left to right: 6,400 + 51,200 + 204,800 + 163,840 = 426,240). Two trains, ×6 per step.
  assert.equal(rep.flops.generationPerStep, 6n * 2n * 218_640n);
  const merged = modelReport(src, 'RepMerged');
  assert.equal(merged.params.stored, rep.params.stored);
  assert.equal(merged.flops.prefillPerToken, base.flops.prefillPerToken, 'B·A merged into W: no extra FLOPs');
});

test('loretta_adp: two 1,100-number trains plus the biases; the down train runs split, the up train materialised', () => {
  const src = `${BASE}
variant Adp of M { adapt p: loretta_adp(bottleneck: 64, tt_rank: 5) }
variant AdpIn of M { adapt g: loretta_adp(bottleneck: 64, tt_rank: 5, side: input) }
`;
  const base = modelReport(src, 'M');
  const adp = modelReport(src, 'Adp');
  assert.equal(adp.params.stored - base.params.stored, 2n * 1_100n + 64n + 4096n);
  assert.equal(adp.params.trainable, 6_360n);
  assert.equal(adp.params.effective - base.params.effective, 2n * 4096n * 64n + 64n + 4096n);
  // down (4096 × 64): 16·16·16 = 4096 splits it after core 3, L [4096 × 5] and R [5 × 64]:
  // 5·(4096 + 64) = 20,800 MACs per token against 262,144 dense: split. up (64 × 4096): no prefix
  // is 64 (16, 256): materialised, 262,144 per token.
  assert.equal(BigInt(adp.flops.prefillPerToken) - BigInt(base.flops.prefillPerToken), 2n * (20_800n + 262_144n));
  // Per step: L = 16·5·16·5 + 256·5·16·5 = 6,400 + 102,400; R = [5,4,5]·[5,4] 400 + [5,4,5]·[5,16] 1,600;
  // up materialised right to left: 400 + 1,600 + 64·5·16·5 25,600 + 1024·5·16·5 409,600
  // + 16384·5·16 1,310,720 = 1,747,920.
  assert.equal(adp.flops.generationPerStep, 6n * (108_800n + 2_000n + 1_747_920n));
  // On the input of the 4096 → 11008 projection the adapter is 4096 wide: the same 6,360.
  const adpIn = modelReport(src, 'AdpIn');
  assert.equal(adpIn.params.stored - base.params.stored, 6_360n);
});

test('written modes: each train as written, both executions compared per train', () => {
  // A [12 × 2] over [3, 4, 2] at t = 3: ranks 1, 3, 3, 1 → 9 + 36 + 6 = 51; B [2 × 6] over
  // [2, 6]: 6 + 18 = 24. A splits at 3·4 = 12 (3·(12 + 2) = 42 > 24 dense), B at 2
  // (3·(2 + 6) = 24 > 12 dense): both materialised; 2·(24 + 12) FLOPs per token.
  const src = `
model S {
  embed = Embedding(10, 12)
  p = Linear(12, 6)
}
variant R of S { adapt p: loretta_rep(rank: 2, tt_rank: 3, modes_a: [3, 4, 2], modes_b: [2, 6], tasks: 2) }
`;
  const base = modelReport(src, 'S');
  const r = modelReport(src, 'R');
  assert.equal(r.params.stored - base.params.stored, 2n * (51n + 24n), 'two tasks: two adapters stored');
  assert.equal(BigInt(r.flops.prefillPerToken) - BigInt(base.flops.prefillPerToken), 2n * (24n + 12n), 'a token runs one task\'s');
});

test('LoRETTA against LoRA on Llama-2-7B\'s q and v at the reference\'s rank: the abstract\'s order of magnitude', () => {
  // The README's LoRETTA_rep (r = 8, tensor_rank 5) and PEFT LoRA r = 8 on the same q and v of
  // 32 layers: 32·2·1,600 = 102,400 against 32·2·8·(4096 + 4096) = 4,194,304, ×40.96 fewer.
  const src = `
model L {
  block D {
    attn = Attention(4096, 32, rope: true)
  }
  embed = Embedding(32_000, 4096)
  body = D * 32
}
variant Rep of L { adapt body.attn: loretta_rep(rank: 8, tt_rank: 5, targets: [q, v]) }
variant Lora of L { adapt body.attn: lora(rank: 8, targets: [q, v]) }
`;
  assert.equal(modelReport(src, 'Rep').params.trainable, 102_400n);
  assert.equal(modelReport(src, 'Lora').params.trainable, 4_194_304n);
});

test('every bad LoRETTA argument is a located diagnostic with a stable code', () => {
  const cases: [string, string, RegExp][] = [
    ['loretta_rep(rank: 8, tt_rank: 5, modes_a: [16, 16, 8, 4])', 'npas-adapter-modes', /multiply to 8192, not the 4096 × 8 = 32768 elements of A/],
    ['loretta_rep(rank: 8, tt_rank: 5, modes_b: [16, 16, 8, 4, 2])', 'npas-adapter-modes', /modes_b \[16, 16, 8, 4, 2\] multiply to 16384/],
    ['loretta_rep(rank: 8, tt_rank: 5, modes_a: [32768])', 'npas-adapter-modes', /at least two modes/],
    ['loretta_adp(bottleneck: 64, tt_rank: 5, modes_up: [0, 16, 16, 4, 4, 4])', 'npas-adapter-modes', /each at least 1/],
    ['loretta_rep(rank: 7, tt_rank: 5)', 'npas-adapter-modes', /no tensor shape for width 4096 at rank 7/],
    ['loretta_rep(rank: 8, tt_rank: 0)', 'npas-adapter', /'tt_rank' must be at least 1/],
    ['loretta_rep(rank: 0, tt_rank: 5)', 'npas-adapter', /'rank' must be at least 1/],
    ['loretta_rep(tt_rank: 5)', 'npas-adapter', /needs 'rank'/],
    ['loretta_adp(bottleneck: 64)', 'npas-adapter', /needs 'tt_rank'/],
    ['loretta_adp(bottleneck: 64, tt_rank: 5, side: middle)', 'npas-adapter', /'side' is one of output, input/],
  ];
  for (const [method, code, message] of cases) {
    const src = `${BASE}\nvariant V of M { adapt p: ${method} }\n`;
    const errors = analyze(src).diagnostics.filter((d) => d.severity === 'error');
    assert.equal(errors.length, 1, `${method}: ${JSON.stringify(errors.map((e) => e.message))}`);
    assert.equal(errors[0]!.code, code, method);
    assert.match(errors[0]!.message, message);
    const at = src.indexOf(method);
    assert.ok(errors[0]!.range.start >= src.indexOf('adapt p') && errors[0]!.range.end <= at + method.length, `${method}: located in its statement`);
  }
  // The output of the 4096 → 11008 projection: the reference's table has no 11008.
  const wide = analyze(`${BASE}\nvariant V of M { adapt g: loretta_adp(bottleneck: 64, tt_rank: 5) }\n`).diagnostics.filter((d) => d.severity === 'error');
  assert.deepEqual(wide.map((d) => d.code), ['npas-adapter-modes']);
  assert.match(wide[0]!.message, /no tensor shape for width 11008 at bottleneck 64.*modes_down/);
});

test('the dashboard notes each LoRETTA statement with the execution its FLOPs count', () => {
  const s = sharingStructure(`${BASE}
variant Rep of M { adapt p: loretta_rep(rank: 8, tt_rank: 5) }
variant Adp of M { adapt p: loretta_adp(bottleneck: 64, tt_rank: 5) }
`);
  const label = (model: string): string[] => s.get(model)!.notes.filter((n) => n.kind === 'adapter').map((n) => n.label);
  assert.deepEqual(label('Rep'), ['LoRETTA_rep r=8, TT rank 5: matrices materialised per step']);
  assert.deepEqual(label('Adp'), ['LoRETTA_adp b=64, TT rank 5, on the output: factors or matrices per weight']);
});
