// The `plan` declaration (docs/plans.md): a training plan written in the spec, evaluated with
// the model's counts and checked like a budget; bad settings are located diagnostics.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, dashboardData, parse, planSource } from '../../../src/core/index.js';
import { LLAMA2_7B, plan, settings, source } from './fixtures.js';

const PLAN = `${LLAMA2_7B}
plan Llama2_7B {
  device = H100
  gpus = 8
  tp = 2
  pp = 2
  zero = 1
  global_batch = 16
  recompute = full
  memory.per_gpu <= 80GB
  step <= 10s
  mfu >= 0.99
}
`;

test('a plan declaration is checked like a budget: results beside the budgets, violations at the constraint', () => {
  const r = analyze(PLAN);
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  // Full recomputation runs a fourth forward, so MFU is at most 3/4: the last constraint fails.
  assert.deepEqual(errors.map((d) => [d.code, PLAN.slice(d.range.start, d.range.end)]), [['npas-budget-violated', 'mfu >= 0.99']]);
  const budgets = r.models[0]!.budgets;
  assert.deepEqual(budgets.map((b) => [b.constraint, b.ok]), [['memory.per_gpu <= 80GB', true], ['step <= 10s', true], ['mfu >= 0.99', false]]);
  // The measured per-GPU bytes are the CLI's (same plan through the core's evaluatePlan).
  const same = plan(source(LLAMA2_7B, 4096), settings({ tp: 2, pp: 2, dp: 2, zero: 1 }, { seq: 4096, globalBatch: 16, recompute: 'full' }));
  assert.equal(budgets[0]!.value, same.perGpuBytes.total.toString());
});

test('`plan` is a keyword only before a model name: a constant may still be called plan', () => {
  const r = analyze(`plan = 3\nmodel M {\n  x = Linear(plan, 2)\n}\n`);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.equal(r.models[0]!.params.stored, 6n);
  assert.equal(parse('plan M {\n  tp = 2\n}\n').file.items[0]!.kind, 'Plan');
});

test('bad settings are located errors with their code; inconsistent plans name the problem at the target', () => {
  const located = (src: string): [string, string][] =>
    analyze(src)
      .diagnostics.filter((d) => d.severity === 'error')
      .map((d) => [d.code, src.slice(d.range.start, d.range.end)]);
  assert.deepEqual(located(`${LLAMA2_7B}plan Llama2_7B {\n  warp = 2\n}\n`), [['npas-plan', 'warp']]);
  assert.deepEqual(located(`${LLAMA2_7B}plan Llama2_7B {\n  recompute = sometimes\n}\n`), [['npas-plan', 'sometimes']]);
  assert.deepEqual(located(`${LLAMA2_7B}plan Llama2_7B {\n  zero = 5\n}\n`), [['npas-plan', '5']]);
  assert.deepEqual(located(`${LLAMA2_7B}plan Llama2_7B {\n  gpus = 8\n  tp = 3\n}\n`), [['npas-plan', 'Llama2_7B']]);
  assert.deepEqual(located(`${LLAMA2_7B}plan Nope {\n  tp = 1\n}\n`), [['npas-budget-target', 'Nope']]);
  assert.deepEqual(located(`${LLAMA2_7B}plan Llama2_7B {\n  speed >= 1\n}\n`), [['npas-budget-metric', 'speed']]);
  assert.deepEqual(located(`${LLAMA2_7B}plan Llama2_7B {\n  step <= 10GB\n}\n`), [['npas-eval-unit', '10GB']]);
});

test("a plan's settings are evaluated in the model's scope", () => {
  const src = `model M(L = 4) {\n  block B {\n    a = Linear(64, 64)\n  }\n  body = B * L\n}\nplan M {\n  pp = L / 2\n  memory.per_gpu <= 1GB\n}\n`;
  const r = analyze(src);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
  // pp = 2: two of the four 64×64 layers a stage (16 bytes of weights, grads and Adam a param);
  // each saves its 64-wide input per token (seq 4096, bf16, one micro-batch in flight); the last
  // stage also holds the loss over the last matrix's 64 outputs (bf16 logits + fp32 log-softmax).
  const states = 2n * 4096n * 16n;
  const activations = 2n * 64n * 4096n * 2n;
  const loss = 64n * 4096n * (2n + 4n);
  assert.equal(BigInt(r.models[0]!.budgets[0]!.value), states + activations + loss);
});

test('a plan may set the fractions of the peaks it reaches; out of (0, 1] is a located error', () => {
  const src = `${LLAMA2_7B}plan Llama2_7B {\n  compute_efficiency = 0.5\n  link_efficiency = 4 / 5\n  mfu >= 0.5\n  mfu <= 0.5\n}\n`;
  const r = analyze(src);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
  // One GPU, no recomputation: MFU is exactly the compute efficiency.
  assert.deepEqual(r.models[0]!.budgets.map((b) => b.ok), [true, true]);
  const located = (text: string): [string, string][] =>
    analyze(text)
      .diagnostics.filter((d) => d.severity === 'error')
      .map((d) => [d.code, text.slice(d.range.start, d.range.end)]);
  assert.deepEqual(located(`${LLAMA2_7B}plan Llama2_7B {\n  compute_efficiency = 1.2\n}\n`), [['npas-plan', '1.2']]);
  assert.deepEqual(located(`${LLAMA2_7B}plan Llama2_7B {\n  memory_efficiency = 0\n}\n`), [['npas-plan', '0']]);
  assert.deepEqual(located(`${LLAMA2_7B}plan Llama2_7B {\n  link_efficiency = 2GB\n}\n`), [['npas-eval-type', '2GB']]);
  // The Plan pane says what the step assumed when it is not the roofline.
  const pane = dashboardData(src, {}, { source: 'x' }).models[0]!.plans[0]!;
  assert.match(pane.schedule, / · at 50% of peak FLOPs, 80% of link bandwidth$/);
  assert.ok(Math.abs(pane.mfu - 0.5) < 1e-12);
  assert.doesNotMatch(dashboardData(PLAN, {}, { source: 'x' }).models[0]!.plans[0]!.schedule, / at /);
});

test("a plan's dtype is any of the engine's dtypes, as `npas plan --dtype` takes it (the microscaled formats were refused)", () => {
  const weights = (dtype: string): bigint => {
    const r = analyze(`model M {\n  a = Linear(64, 64, bias: false)\n}\nplan M {\n  dtype = ${dtype}\n  memory.weights <= 1GB\n}\n`);
    assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), [], dtype);
    return BigInt(r.models[0]!.budgets[0]!.value);
  };
  // 64 · 64 = 4,096 weights on one GPU: 2 bytes each in bf16; MXFP4 4.25 bits (4 + an 8-bit scale per 32), NVFP4 4.5 bits (4 + 8 per 16).
  assert.equal(weights('bf16'), 4096n * 2n);
  assert.equal(weights('mxfp4'), (4096n * 425n) / 800n);
  assert.equal(weights('nvfp4'), (4096n * 45n) / 80n);
  const bad = `model M {\n  a = Linear(64, 64)\n}\nplan M {\n  grad_dtype = fp64\n}\n`;
  const error = analyze(bad).diagnostics.find((d) => d.severity === 'error')!;
  assert.deepEqual([error.code, bad.slice(error.range.start, error.range.end)], ['npas-plan', 'fp64']);
  assert.match(error.message, /fp32, tf32, bf16, fp16, fp8, int8, int4, mxfp4, nvfp4/);
});

// Issue 12: a plan lists stack instances one by one to cut stages; a 10⁹-instance stack (exact as
// a bigint everywhere else) would never finish listing. The plan is refused, in well under a second.
test('a plan of a model with 10⁹ stack instances is refused with a located error, not listed', () => {
  const text = `model Big {
  block Decoder {
    norm = RMSNorm(64)
    mlp = MLP(64, 256)
  }
  body = Decoder * 1000000000
}
plan Big {
  gpus = 8
  pp = 2
}
`;
  const t0 = Date.now();
  const result = analyze(text);
  const refusal = result.diagnostics.find((d) => d.code === 'npas-plan');
  assert.ok(refusal, 'the plan is refused');
  assert.match(refusal.message, /1,000,000,000 instances; a plan places at most 1,000,000/);
  // Located at the plan's target, `Big` after `plan`.
  assert.equal(refusal.range.start, text.indexOf('plan Big') + 'plan '.length);
  assert.equal(text.slice(refusal.range.start, refusal.range.end), 'Big');
  assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
  // The model itself is still counted exactly: 10⁹ × (64 + 2·64·256 + 256 + 64) params.
  assert.equal(result.models[0]!.params.stored, 1_000_000_000n * BigInt(64 + 64 * 256 + 256 + 256 * 64 + 64));
  // `npas plan` and `npas fit` take the model without a declared plan: refused the same way.
  const source = planSource(text.slice(0, text.indexOf('plan Big')), 'Big', 4096, 'bf16');
  assert.equal(source.ok, false);
  assert.match(source.ok ? '' : source.message, /a plan places at most/);
});
