// MomentProbe (Moment Probing, Gao et al. ICCV 2023) and PSRP (its MP+): parameters and FLOPs
// derived by hand here from mingzeG/Moment-Probing's MP.py and PSRP.py, and the located errors of
// inconsistent arguments.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../../src/core/index.js';
import { modelReport } from '../../fixtures/model-report.js';

const probe = (args: string) => `
model M {
  embed = Embedding(100, 64)
  head  = MomentProbe(64, 10${args})
}
`;

test('MomentProbe: parameters and FLOPs per token for each pairing', () => {
  // hidden 32 over 4 heads: k = 8, s₁ = ⌊5/2⌋ + 1 = 3, s = ⌊0/2⌋ + 1 = 1.
  for (const [args, p] of [[', hidden: 32, heads: 4', 3], [', hidden: 32, heads: 4, pairs: half', 2], [', hidden: 32, heads: 4, pairs: all', 6]] as const) {
    const r = modelReport(probe(args), 'M');
    const head = 64 * 32 + 32 + 2 * 8 + 2 * 9 * p * p + (64 + 1) * 10 + (p * 1 + 1) * 10;
    assert.equal(r.params.stored, BigInt(100 * 64 + head), args);
    const flops = 2 * 64 * 32 + 2 * p * 8 * 8 + 2 * 9 * p * p * (3 * 3 + 1) + 2 * 64 * 10 + 2 * p * 10;
    assert.equal(r.flops.decode, BigInt(flops), args);
  }
});

test('MomentProbe: the released head on ViT-B/16 for 1000 classes holds 4,047,146 parameters', () => {
  // proj Linear(768, 512), LayerNorm(128), classifier1 Linear(768, 1000), classifier2
  // Linear(2883, 1000), two Conv2d(3, 3, 3, bias=False).
  const r = modelReport('model M {\n  embed = Embedding(1, 768)\n  head = MomentProbe(768, 1000)\n}\n', 'M');
  assert.equal(r.params.stored - 768n, 393_728n + 256n + 769_000n + 2_884_000n + 162n);
});

test('MomentProbe: inconsistent groups are located npas-layer-shape errors', () => {
  for (const [args, message] of [
    [', hidden: 30, heads: 4', /must divide hidden/],
    [', hidden: 30, heads: 3, pairs: half', /even number of heads/],
    [', hidden: 32, heads: 1', /at least 2 heads/],
    [', hidden: 24, heads: 4', /at least 7 wide/],
  ] as const) {
    const errors = analyze(probe(args)).diagnostics.filter((d) => d.severity === 'error');
    assert.equal(errors.length, 1, args);
    assert.equal(errors[0]!.code, 'npas-layer-shape', args);
    assert.match(errors[0]!.message, message, args);
  }
});

test('psrp: 3·d·r per target, trained, 8·d·r FLOPs per token; the base stays frozen', () => {
  const src = `
model M {
  block B {
    attn = Attention(32, 4)
    mlp  = MLP(32, 128)
  }
  embed = Embedding(100, 32)
  body  = B * 3
}
variant P of M { adapt body.mlp.down: psrp(rank: 4) }
`;
  const base = modelReport(src, 'M');
  const r = modelReport(src, 'P');
  assert.equal(r.params.stored - base.params.stored, 3n * 3n * 32n * 4n);
  assert.equal(r.params.trainable, 3n * 3n * 32n * 4n);
  assert.equal(r.flops.decode - base.flops.decode, 3n * 8n * 32n * 4n);
});
