// Arrow LoRA libraries (`adapt PATHS: arrow(rank, experts, top_k, shared_a)`): stored, active,
// trainable, per-token FLOPs and setup FLOPs derived by hand from docs/language.md's formulas on a
// two-layer model, and every bad argument a located `npas-adapter` (or unknown-argument) error.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../../src/core/index.js';
import { modelReport } from '../../fixtures/model-report.js';

const D = 16;
const base = `
model M {
  d = ${D}
  block Decoder {
    norm = LayerNorm(d)
    attn = Attention(d, 2)
    mlp  = MLP(d, 32)
  }
  embed = Embedding(50, d)
  body  = Decoder * 2
  head  = Linear(d, 50)
}
`;

test('arrow: library and prototypes stored, nothing trainable, k LoRAs and every prototype per token, setup once', () => {
  const text = `${base}
variant A of M { adapt body.attn: arrow(rank: 2, experts: 5, top_k: 2, targets: [q, k, v, o], shared_a: [q, k, v]) }
variant U of M { adapt body.attn: arrow(rank: 2, experts: 5, top_k: 2, targets: [q, o]) }`;
  const m = modelReport(text, 'M');
  const [e, r, k, layers, it] = [5n, 2n, 2n, 2n, 15n];
  const d = BigInt(D);
  // A holder (q for the shared q/k/v; o alone): A E·r·d, prototypes E·d, its B E·r·d.
  const holder = { stored: e * r * d + e * d + e * r * d, active: k * r * d + e * d + k * r * d, flops: 2n * e * d + 2n * k * r * d + 2n * k * r * d, setup: e * (r * r * d + it * (2n * r * d + r * r + d)) };
  // A target reading the holder's A: its B only.
  const reader = { stored: e * r * d, active: k * r * d, flops: 2n * k * r * d, setup: e * r * r * d };
  const a = modelReport(text, 'A');
  assert.equal(a.params.stored - m.params.stored, layers * (2n * holder.stored + 2n * reader.stored));
  assert.equal(a.params.stored - m.params.stored, 2240n);
  assert.equal(a.params.effective, a.params.stored);
  assert.equal(a.params.active - m.params.active, layers * (2n * holder.active + 2n * reader.active));
  assert.equal(a.params.trainable, 0n);
  assert.equal(a.flops.decode - m.flops.decode, layers * (2n * holder.flops + 2n * reader.flops));
  assert.equal(a.flops.setup, 2n * layers * (2n * holder.setup + 2n * reader.setup));
  assert.equal(a.flops.setup, 55_520n);
  assert.equal(m.flops.setup, undefined);
  // Without shared_a every target holds its own A and prototypes.
  const u = modelReport(text, 'U');
  assert.equal(u.params.stored - m.params.stored, layers * 2n * holder.stored);
  assert.equal(u.flops.setup, 2n * layers * 2n * holder.setup);
});

test('arrow: flops.setup is a budget metric — the setup FLOPs above, 0 without a library', () => {
  const budgets = (limit: string): string[] => analyze(`${base}
variant A of M { adapt body.attn: arrow(rank: 2, experts: 5, top_k: 2, targets: [q, k, v, o], shared_a: [q, k, v]) }
budget A { flops.setup ${limit} }
budget M { flops.setup == 0 }`).diagnostics.filter((x) => x.severity === 'error').map((x) => `${x.code}: ${x.message}`);
  // 55,520 FLOPs derived in the test above.
  assert.deepEqual(budgets('== 55_520'), []);
  assert.deepEqual(budgets('<= 55_519'), ['npas-budget-violated: budget violated: flops.setup is 55,520, the limit is <= 55,519']);
});

test('arrow: bad arguments are located npas-adapter errors', () => {
  const cases: readonly [string, string, string][] = [
    ['arrow(rank: 2, experts: 5, top_k: 6)', 'npas-adapter', 'top_k (6) cannot exceed experts (5)'],
    ['arrow(rank: 2, experts: 5, top_k: 2, targets: [q, o], shared_a: [q, k])', 'npas-adapter', "shared_a weight 'k' is not one of the weights this statement adapts"],
    ['arrow(rank: 2, experts: 5, top_k: 2, shared_a: [q, up])', 'npas-adapter', "shared_a weight 'up' is not a matrix of the adapted Attention"],
    ['arrow(rank: 2, experts: 5, top_k: 2, tasks: 3)', 'npas-layer-unknown-arg', "no argument 'tasks'"],
    ['arrow(rank: 2, experts: 0, top_k: 1)', 'npas-', 'experts'],
  ];
  for (const [call, code, message] of cases) {
    const text = `${base}\nvariant Bad of M { adapt body.attn: ${call} }`;
    const errors = analyze(text).diagnostics.filter((x) => x.severity === 'error');
    const hit = errors.find((x) => x.code.startsWith(code) && x.message.includes(message));
    assert.ok(hit, `${call}: ${errors.map((x) => `${x.code}: ${x.message}`).join('; ')}`);
    assert.ok(hit.range.start >= text.indexOf('variant Bad'), `${call}: located in the statement`);
  }
  // Shared targets must read one width: an MLP's up (d → 32) and down (32 → d) do not.
  const widths = `${base}\nvariant Bad of M { adapt body.mlp: arrow(rank: 2, experts: 5, top_k: 2, shared_a: [up, down]) }`;
  assert.ok(analyze(widths).diagnostics.some((x) => x.code === 'npas-adapter' && x.message.includes('must read one input width')));
});
