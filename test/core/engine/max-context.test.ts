// A model's declared maximum context (`max_context N`, docs/language.md "Declared context"): a
// rotary model has no table whose rows bound the sequence, so the spec states it, as a Hugging
// Face config's max_position_embeddings does. Past it the numbers are still computed and a
// warning sits at the model's name; a variant's statement replaces its base's.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, type AnalysisOptions } from '../../../src/core/index.js';

const SPEC = `
model Rotary {
  d = 64
  ctx = 4Ki
  block Layer { n1 = RMSNorm(d); attn = Attention(d, 4, rope: true); n2 = RMSNorm(d); mlp = GatedMLP(d, 128) }
  embed  = Embedding(1000, d)
  layers = Layer * 2
  head   = Linear(d, 1000)
  max_context ctx
}
variant Extended of Rotary { max_context 32 * 1Ki }
`;

const codes = (src: string, options: Partial<AnalysisOptions>, code: string) => analyze(src, options).diagnostics.filter((d) => d.code === code);

test('a sequence past the declared max_context is warned about at the model, and only past it', () => {
  // ctx = 4Ki = 4,096 tokens: seq 4,096 is within, 4,097 is one past; the variant declares 32,768.
  assert.deepEqual(codes(SPEC, { seq: 4096 }, 'npas-seq-beyond-context'), []);
  const past = codes(SPEC, { seq: 4097 }, 'npas-seq-beyond-context');
  assert.equal(past.length, 1, 'the variant, extended to 32Ki, is not warned about at 4,097');
  assert.equal(past[0]!.severity, 'warning');
  assert.equal(SPEC.slice(past[0]!.range.start, past[0]!.range.end), 'Rotary');
  assert.match(past[0]!.message, /seq 4097 exceeds Rotary's declared max_context of 4096 tokens/);
  const far = codes(SPEC, { seq: 32769 }, 'npas-seq-beyond-context');
  assert.deepEqual(far.map((d) => SPEC.slice(d.range.start, d.range.end)).sort(), ['Extended', 'Rotary']);
  assert.match(far.find((d) => SPEC.slice(d.range.start, d.range.end) === 'Extended')!.message, /max_context of 32768 tokens/);
});

test('max_context changes no number: the warned model is still analysed as written', () => {
  const plain = SPEC.replace('  max_context ctx\n', '').replace('variant Extended of Rotary { max_context 32 * 1Ki }\n', '');
  const a = analyze(SPEC, { seq: 8192 }).models.find((m) => m.name === 'Rotary')!;
  const b = analyze(plain, { seq: 8192 }).models.find((m) => m.name === 'Rotary')!;
  assert.deepEqual([a.params, a.flops, a.kvCacheBytes, a.memory], [b.params, b.flops, b.kvCacheBytes, b.memory]);
});

test('a bad max_context is a located error, and the analysis goes on without it', () => {
  const bad = (value: string) => `model M {\n  x = Linear(8, 8)\n  max_context ${value}\n}\n`;
  for (const [value, code] of [['0', 'npas-max-context'], ['2Gi', 'npas-max-context'], ['-5', 'npas-max-context'], ['1.5', 'npas-eval-not-integer'], ['4KiB', 'npas-eval-type'], ['nowhere', 'npas-name-unknown']] as const) {
    const r = analyze(bad(value), { seq: 1 << 20 });
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    assert.equal(errors.length, 1, `${value}: ${errors.map((d) => d.code).join(', ')}`);
    assert.equal(errors[0]!.code, code, value);
    assert.equal(bad(value).slice(errors[0]!.range.start, errors[0]!.range.end), value);
    assert.deepEqual(r.diagnostics.filter((d) => d.code === 'npas-seq-beyond-context'), [], `${value}: no limit is read from a bad value`);
    assert.equal(r.models[0]!.params.stored, 64n); // 8·8, no bias
  }
  const twice = analyze('model M {\n  x = Linear(8, 8)\n  max_context 1Ki\n  max_context 2Ki\n}\n', { seq: 1536 });
  assert.deepEqual(twice.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code), ['npas-max-context']);
  // The last one holds: 1,536 tokens is within 2Ki.
  assert.deepEqual(twice.diagnostics.filter((d) => d.code === 'npas-seq-beyond-context'), []);
});
