// One compilation per document version: everything that depends on the settings is asked of
// it, and it answers without parsing or evaluating again. Numbers derived by hand:
// Attention(64, heads: 4, kv_heads: 2) has head_dim 16, so a causal layer caches K and V of
// 2 heads × 16 = 64 elements per token; at bf16 (2 bytes) × 3 layers that is 384 bytes a token.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { analyze, compile, dashboardData, SWEEP_SEQ } from '../../../src/core/index.js';

const SPEC = `model M {
  body = Attention(64, heads: 4, kv_heads: 2) * 3
}
budget M {
  kv <= 1MiB
  kv(seq: 1024) <= 400KiB
  kv(seq: nope) <= 1MiB
}
`;
const KV_BYTES_PER_TOKEN = 3n * 2n * 2n * 16n * 2n;

test('one compilation measures at any settings: KV bytes at each seq, as derived by hand', () => {
  const c = compile(SPEC);
  for (const seq of [1, 1024, 4096, 131072]) {
    const m = c.analysis({ seq }).models[0]!;
    assert.equal(m.kvCacheBytes, KV_BYTES_PER_TOKEN * BigInt(seq));
    assert.equal(m.options.seq, seq);
  }
});

test('metrics and analyses are memoised on the compilation', () => {
  const c = compile(SPEC);
  const model = c.model('M')!;
  const at = c.settings({ seq: 2048 });
  assert.equal(c.metricsAt(model, at), c.metricsAt(model, { ...at }));
  assert.equal(c.analysis({ seq: 2048 }), c.analysis({ seq: 2048 }));
  assert.notEqual(c.analysis({ seq: 2048 }), c.analysis({ seq: 4096 }));
});

test('budgets: a violation belongs to the settings that violate it; a bad constraint is reported once at every setting', () => {
  const c = compile(SPEC);
  const small = c.analysis({ seq: 1024 });
  const large = c.analysis({ seq: 4096 });
  const codes = (r: typeof small): string[] => r.diagnostics.map((d) => d.code);
  // kv <= 1MiB: 384 · 1024 = 393,216 bytes passes, 384 · 4096 = 1,572,864 does not.
  assert.deepEqual(codes(small), ['npas-name-unknown']);
  assert.deepEqual(codes(large), ['npas-budget-violated', 'npas-name-unknown']);
  // kv(seq: 1024) is measured at its own seq whatever the analysis settings.
  for (const r of [small, large]) {
    const b = r.models[0]!.budgets;
    assert.deepEqual(b.map((x) => x.metric), ['kv', 'kv']);
    assert.equal(b[1]!.value, String(KV_BYTES_PER_TOKEN * 1024n));
    assert.equal(b[1]!.ok, true);
  }
  // Asking again (or in the other order) changes nothing: the compilation's own list is untouched.
  assert.deepEqual(codes(c.analysis({ seq: 1024 })), ['npas-name-unknown']);
  assert.deepEqual(c.diagnostics.map((d) => d.code), ['npas-name-unknown']);
});

test('a bad setting is reported in the analysis that used it only', () => {
  const c = compile(SPEC);
  const bad = c.analysis({ seq: -5 });
  assert.ok(bad.diagnostics.some((d) => d.code === 'npas-eval-range' && d.message.includes('seq')));
  assert.equal(bad.models[0]!.options.seq, 4096);
  assert.ok(!c.analysis({ seq: 4096 }).diagnostics.some((d) => d.code === 'npas-eval-range'));
});

test('the dashboard sweep asks the compilation: each point equals a fresh analysis at that length', () => {
  const text = readFileSync(new URL('../../../examples/cla-mlkv.npas', `file://${__filename}`), 'utf8');
  const data = dashboardData(compile(text), { seq: 3000 }, { source: 'cla-mlkv.npas' });
  const seqs = [...SWEEP_SEQ, 3000].sort((a, b) => a - b);
  const fresh = new Map(seqs.map((seq) => [seq, analyze(text, { seq })]));
  assert.ok(data.models.length > 1);
  for (const m of data.models) {
    assert.deepEqual(m.sweep.map((p) => p.seq), seqs);
    for (const p of m.sweep) {
      const report = fresh.get(p.seq)!.models.find((x) => x.name === m.name)!;
      assert.equal(p.kvCacheBytes, String(report.kvCacheBytes));
      assert.equal(p.inferenceBytes, String(report.memory.inferenceBytes));
      assert.equal(p.weightBytes, String(report.memory.weightBytes));
    }
  }
});

test('compile never throws, and an unusable text compiles to diagnostics', () => {
  for (const text of ['', 'model', 'model M { x = Attention(', '\u0000\uffff', 'budget Nope { kv <= 1 }']) {
    const c = compile(text);
    assert.ok(Array.isArray(c.analysis().diagnostics));
  }
});
