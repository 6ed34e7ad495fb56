// Dtypes as a setting of the model: `precision CLASS: dtype, …`. Expected bytes are derived
// here from GPT-OSS-20B's published shape (examples/gpt-oss.npas: 20,914,757,184 stored, of which
// the expert matrices are 24 layers × 32 experts × 3·2,880·2,880 = 19,110,297,600) and the
// formats' sizes (bf16 2 bytes, fp8 1, MXFP4 4.25 bits = 17/32 bytes).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze, completionsAt, type AnalysisOptions, type ModelReport } from '../../../src/core/index.js';

const GPT_OSS = readFileSync(join(__dirname, '..', '..', '..', 'examples', 'gpt-oss.npas'), 'utf8');
const SRC = `${GPT_OSS}
variant Mx of GptOss20B { precision experts: mxfp4 }
variant MxKv of Mx { precision kv: fp8 }
`;
const EXPERTS = 19_110_297_600n;
const REST = 20_914_757_184n - EXPERTS;

function model(name: string, options: Partial<AnalysisOptions> = {}): ModelReport {
  const r = analyze(SRC, options);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
  return r.models.find((m) => m.name === name)!;
}

test('a precision statement sets the model\'s dtypes per class; the settings\' classes win', () => {
  assert.equal(model('GptOss20B').memory.weightBytes, 20_914_757_184n * 2n);
  assert.equal(model('Mx').memory.weightBytes, REST * 2n + (EXPERTS * 17n) / 32n);
  assert.equal(model('Mx').options.precision?.experts, 'mxfp4');
  // The variant of a variant keeps its base's experts and adds an fp8 cache: at 8,192 tokens,
  // 12 full layers × 8,192 + 12 windowed × 128 tokens, 2·8·64 elements each, one byte.
  const kv = model('MxKv', { seq: 8192 });
  assert.equal(kv.memory.weightBytes, REST * 2n + (EXPERTS * 17n) / 32n);
  assert.equal(kv.kvCacheBytes, (12n * 8192n + 12n * 128n) * 2n * 8n * 64n);
  // --dtype fp8 is a shorthand under the statement: the rest in fp8, the experts still MXFP4.
  assert.equal(model('Mx', { dtype: 'fp8' }).memory.weightBytes, REST + (EXPERTS * 17n) / 32n);
  // A class set in the settings wins over the statement.
  assert.equal(model('Mx', { precision: { experts: 'bf16' } }).memory.weightBytes, 20_914_757_184n * 2n);
});

test('a budget measures the model in its declared dtypes unless the constraint sets the class', () => {
  const src = `${SRC}
budget Mx {
  memory.weights == ${REST * 2n + (EXPERTS * 17n) / 32n}bytes
  memory.weights(experts_dtype: bf16) == ${20_914_757_184n * 2n}bytes
}`;
  const mx = analyze(src).models.find((m) => m.name === 'Mx')!;
  assert.deepEqual(mx.budgets.map((b) => [b.constraint, b.ok]), [
    ['memory.weights == 13761264768bytes', true],
    ['memory.weights(experts_dtype: bf16) == 41829514368bytes', true],
  ]);
});

test('precision: an unknown class or dtype is a located error, reported once', () => {
  const src = `model M { a = Attention(64, heads: 4)
  precision expert: mxfp4, kv: fp5, master: none
}
variant V of M { }`;
  const r = analyze(src);
  const errors = r.diagnostics.filter((d) => d.code === 'npas-precision');
  assert.deepEqual(errors.map((d) => src.slice(d.range.start, d.range.end)), ['expert', 'fp5']);
  assert.match(errors[0]!.message, /unknown tensor class 'expert' \(use weights, experts, kv/);
  assert.match(errors[1]!.message, /kv must be one of fp32, .*nvfp4$/);
  // What is valid still applies: master none.
  assert.equal(r.models[0]!.options.precision?.master, 'none');
});

test('completion offers the tensor classes after precision and the dtypes after a class', () => {
  const text = 'model M {\n  a = Attention(64, heads: 4)\n  precision \n}\n';
  const at = text.indexOf('precision ') + 'precision '.length;
  const classes = completionsAt(text, analyze(text), at).items.map((i) => i.label);
  assert.deepEqual(classes, ['weights', 'experts', 'kv', 'activations', 'compute', 'gradients', 'master', 'optimizer']);
  const text2 = 'model M {\n  a = Attention(64, heads: 4)\n  precision master: \n}\n';
  const at2 = text2.indexOf('master: ') + 'master: '.length;
  const dtypes = completionsAt(text2, analyze(text2), at2).items.map((i) => i.label);
  assert.ok(dtypes.includes('mxfp4') && dtypes.includes('bf16') && dtypes.includes('none'), dtypes.join(', '));
});
