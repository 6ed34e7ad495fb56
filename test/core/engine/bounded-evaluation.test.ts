// Issue 12: no spec can stall or exhaust the engine. Each test below failed before the work
// budget, the linear totals and the iterative name resolution: the inputs killed the process
// (heap limit), overflowed the stack, or took time quadratic (or worse) in the input.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, type AnalysisResult } from '../../../src/core/index.js';

function timed(src: string): { r: AnalysisResult; ms: number } {
  const t0 = performance.now();
  const r = analyze(src);
  return { r, ms: performance.now() - t0 };
}

function onlyError(r: AnalysisResult, code: string): { message: string; start: number; end: number } {
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  assert.ok(errors.length >= 1, `expected ${code}, got no error`);
  assert.ok(!errors.some((d) => d.code === 'npas-internal-error'), errors.map((d) => d.message).join('; '));
  const e = errors.find((d) => d.code === code);
  assert.ok(e, `expected ${code}, got ${errors.map((d) => d.code).join(', ')}`);
  return { message: e.message, start: e.range.start, end: e.range.end };
}

test('a nested comprehension of 20,000 × 20,000 is refused before it runs, at the inner loop', () => {
  const src = 'xs = [[i * j for j in 20000] for i in 20000]\nmodel M { l = Linear(4, 4) }\n';
  const { r, ms } = timed(src);
  const e = onlyError(r, 'npas-eval-too-large');
  assert.equal(src.slice(e.start, e.end), '[i * j for j in 20000]');
  assert.match(e.message, /at most 1,000,000 iterations/);
  assert.match(e.message, /400,000,000 in all/);
  assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
});

test('a block with a loop, instantiated once inside a loop, is not charged once per outer iteration', () => {
  // Expert has no argument: built once, its 600-iteration loop runs once, not 5,000 times.
  const src = 'model M {\n  block Moe { experts = [Linear(8, 8) for e in 600] }\n  body = [Moe for i in 5000]\n}\n';
  const { r } = timed(src);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
  // 5,000 instances × 600 experts × 64 params (Linear(8, 8), no bias).
  assert.equal(r.models[0]!.params.effective, 5_000n * 600n * 64n);
});

test('loops whose bodies evaluate large lists run out of the work budget with a located error', () => {
  const list = `[${Array.from({ length: 5_000 }, (_, i) => i).join(', ')}]`;
  const src = `xs = [${list} for i in 1000]\nmodel M { l = Linear(4, 4) }\n`;
  const { r, ms } = timed(src);
  const e = onlyError(r, 'npas-eval-too-large');
  assert.match(e.message, /4,000,000 evaluation steps/);
  assert.ok(e.start > 0 && e.end <= src.length, 'located inside the spec');
  assert.ok(ms < 30_000, `took ${ms.toFixed(0)} ms`);
});

test('Mixture-of-Recursions with 10^8 recursions over a huge stack is refused before it allocates', () => {
  const src = 'model M { block B { l = Linear(64, 64) }\n  body = B * 1000000000\n}\nvariant R of M { route body: mor(recursions: 100000000) }\n';
  const { r, ms } = timed(src);
  const e = onlyError(r, 'npas-eval-too-large');
  assert.equal(src.slice(e.start, e.end), '(recursions: 100000000)');
  assert.match(e.message, /at most 65,536 recursions/);
  assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
});

test('routing over many distinct pieces visits only the recursions each piece overlaps', () => {
  // 5,000 distinct instances, 5,000 recursions: O(pieces × R) was 2.5·10⁷ steps.
  const src = 'model M { body = [Linear(64, 64 + i) for i in 5000] }\nvariant R of M { route body: mor(recursions: 5000, router_width: 64) }\n';
  const { r, ms } = timed(src);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
  // Stored: Σ_{i<5000} 64·(64+i) (no bias) + 5,000 routers of 64 params.
  let expected = 0n;
  for (let i = 0n; i < 5_000n; i++) expected += 64n * (64n + i);
  assert.equal(r.models[1]!.params.stored, expected + 5_000n * 64n);
  assert.ok(ms < 30_000, `took ${ms.toFixed(0)} ms`);
});

test('a forward-reference chain of 20,000 constants evaluates without overflowing the stack', () => {
  // c_i = c_{i+1} + 1 and c_N = 1, so c_0 = N + 1; Linear(c0, 1, bias: false) stores c0 params.
  const n = 20_000;
  let src = '';
  for (let i = 0; i < n; i++) src += `c${i} = c${i + 1} + 1\n`;
  src += `c${n} = 1\nmodel M { l = Linear(c0, 1, bias: false) }\n`;
  const { r } = timed(src);
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.models[0]!.params.stored, BigInt(n + 1));
});

test('a long forward chain that closes on itself is still reported as a cycle', () => {
  let src = '';
  for (let i = 0; i < 500; i++) src += `c${i} = c${i + 1} + 1\n`;
  src += 'c500 = c0\nmodel M { l = Linear(4, 4) }\n';
  const { r } = timed(src);
  const e = onlyError(r, 'npas-name-cycle');
  assert.match(e.message, /'c0' depends on itself/);
});

test('cycle(2) weight sharing with every(2) KV sharing over 10^9 instances is closed-form', () => {
  // Producers are the even instances, all in slot 0: slot 1's K/V projections are never used.
  const src = 'model M { block D { a = Attention(64, heads: 4) }\n  body = D * 1000000000\n}\nvariant R of M { share body: cycle(2)\n  share kv body: every(2) }\n';
  const { r, ms } = timed(src);
  assert.deepEqual(r.diagnostics, []);
  // Attention(64, heads: 4): q, k, v, o 64×64 = 16,384; two stores, slot 1 drops k and v (8,192).
  assert.equal(r.models[1]!.params.stored, 2n * 16_384n - 8_192n);
  assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
});

function medianMs(src: string, runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(timed(src).ms);
  times.sort((a, b) => a - b);
  return times[Math.floor(runs / 2)]!;
}

/** Best of three median ratios (the machine is shared; a quadratic cost shows at any load). */
function growth(make: (n: number) => string, small: number, large: number, runs: number): number {
  medianMs(make(small), 1);
  let ratio = Infinity;
  for (let attempt = 0; attempt < 3; attempt++) ratio = Math.min(ratio, medianMs(make(large), runs) / medianMs(make(small), runs));
  return ratio;
}

test('distinct attention windows: 4,000 instances cost at most 16× what 500 cost (linear, not quadratic)', () => {
  const make = (n: number): string =>
    `model M {\n  block Decoder(window = none) {\n    attn = Attention(64, heads: 4, window: window)\n    mlp = MLP(64, 128)\n  }\n  body = [Decoder(window: i + 1) for i in 0..${n}]\n}\n`;
  const ratio = growth(make, 500, 4_000, 1);
  assert.ok(ratio < 16, `×${ratio.toFixed(1)} for 8× the instances (quadratic: ×64)`);
});

test('variant chains: 4,000 variants each deriving from the last cost at most 8× what 1,000 cost', () => {
  const make = (n: number): string => {
    let s = 'model M {\n  d = 64\n  body = Attention(d, heads: 4) * 4\n}\n';
    for (let i = 0; i < n; i++) s += `variant V${i} of ${i === 0 ? 'M' : `V${i - 1}`} { d = ${64 + 4 * ((i % 5) + 1)} }\n`;
    return s;
  };
  const ratio = growth(make, 1_000, 4_000, 1);
  assert.ok(ratio < 8, `×${ratio.toFixed(1)} for 4× the variants (quadratic: ×16)`);
});

test('35 levels of billion-fold nesting are refused at the model, never reported as Infinity', () => {
  let src = 'model M {\n  block B0 { l = Linear(4, 4) }\n';
  for (let i = 1; i <= 35; i++) src += `  block B${i} { inner = B${i - 1} * 1000000000 }\n`;
  src += '  top = B35\n}\nmodel Small { l = Linear(4, 4) }\n';
  const r = timed(src).r;
  const e = onlyError(r, 'npas-eval-too-large');
  assert.equal(src.slice(e.start, e.end), 'M');
  assert.match(e.message, /10\^30/);
  // The other model is still reported, with finite numbers only.
  assert.deepEqual(r.models.map((m) => m.name), ['Small']);
  const json = JSON.stringify(r.models, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  assert.doesNotMatch(json, /null|Infinity|NaN/);
});

test('a spec over 16 MiB is refused whole, at once (a 108 MB spec took minutes and 4 GB)', () => {
  const line = 'x = 1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + 10\n';
  const src = line.repeat(Math.ceil((17 * 1024 * 1024) / line.length));
  const { r, ms } = timed(src);
  const e = onlyError(r, 'npas-eval-too-large');
  assert.match(e.message, /specs over 16 MiB are not analysed/);
  assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
});

/** A stack of `n` two-Linear blocks (d = 64, no bias) and a chain of `variants` variants, the k-th freezing body[k] too. */
function freezeChain(n: number, variants: number): string {
  let t = `model M {\n  d = 64\n  block B {\n    a = Linear(d, d)\n    b = Linear(d, d)\n  }\n  body = B * ${n}\n}\n`;
  let base = 'M';
  for (let k = 0; k < variants; k++) {
    t += `variant V${k} of ${base} { freeze body[${k}] }\n`;
    base = `V${k}`;
  }
  return t;
}

test('a variant chain isolating one more stack instance per variant counts each variant exactly', () => {
  const r = analyze(freezeChain(40, 40));
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
  // One block: two 64 × 64 weights. V_k has frozen instances 0..k, so 40 − (k + 1) stay trainable.
  const perBlock = 2n * 64n * 64n;
  for (const k of [0, 1, 19, 38, 39]) {
    const v = r.models.find((m) => m.name === `V${k}`)!;
    assert.equal(v.params.stored, 40n * perBlock);
    assert.equal(v.params.trainable, BigInt(40 - (k + 1)) * perBlock, `V${k}`);
  }
});

test('a variant chain isolating one more instance per variant is refused past the budget, at a variant, in bounded time (it used to grow cubically: 1,000 variants took minutes)', () => {
  const src = freezeChain(2000, 2000);
  const cpu0 = process.cpuUsage();
  const r = analyze(src);
  const cpu = process.cpuUsage(cpu0);
  const e = onlyError(r, 'npas-eval-too-large');
  assert.match(src.slice(e.start, e.end), /^V\d+$/);
  assert.match(e.message, /evaluation steps/);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  assert.ok(cpuMs < 10_000, `took ${cpuMs.toFixed(0)} ms of CPU`);
});

test('a spec of 25,000 one-line models is refused at the first model past the work budget (250,000 took minutes and gigabytes)', () => {
  let src = '';
  for (let i = 0; i < 25_000; i++) src += `model M${i} { l = Linear(64, 64) }\n`;
  const cpu0 = process.cpuUsage();
  const r = analyze(src);
  const cpu = process.cpuUsage(cpu0);
  const e = onlyError(r, 'npas-eval-too-large');
  // 200 steps a model: the 4,000,000-step budget runs out at the 20,001st model at the latest.
  const at = src.slice(e.start, e.end);
  assert.match(at, /^M\d+$/);
  assert.ok(Number(at.slice(1)) <= 20_000, at);
  assert.match(e.message, /models and variants/);
  assert.deepEqual(r.models, []);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  assert.ok(cpuMs < 10_000, `took ${cpuMs.toFixed(0)} ms of CPU`);
});

test('140,000 errors are reported, not an internal error (spreading them into push overflowed the stack)', () => {
  const src = 'model M { l = Linear(4, 4) }\n' + 'budget M { parms <= 1 }\n'.repeat(140_000);
  const r = analyze(src);
  assert.ok(!r.diagnostics.some((d) => d.code === 'npas-internal-error'), r.diagnostics.find((d) => d.code === 'npas-internal-error')?.message);
  assert.equal(r.diagnostics.filter((d) => d.code === 'npas-budget-metric').length, 140_000);
  // Linear(4, 4) without bias: 16 parameters.
  assert.equal(r.models[0]!.params.stored, 16n);
});

test('a model whose only stack is refused gets the refusal alone, not a follow-on "has no layers"', () => {
  const refused = analyze('model M { body = [Linear(2, 2) for i in 0..10**7] }\n');
  assert.deepEqual(refused.diagnostics.map((d) => d.code), ['npas-eval-too-large']);
  // A model that is empty as written is still told so.
  const empty = analyze('model E { d = 4 }\n');
  assert.deepEqual(empty.diagnostics.map((d) => d.code), ['npas-model-empty']);
});

test('ties to distinct members: 4,000 cost at most 20× what 500 cost (each tie looked up, not scanned for)', () => {
  // Every member scanned every declaration, and every path scanned every member: 4,000 ties took 18 s.
  const make = (n: number): string => {
    let s = 'model M {\n';
    for (let i = 0; i < n; i++) s += `  a${i} = Linear(4, 4)\n  b${i} = Linear(4, 4) tied a${i}\n`;
    return `${s}}\n`;
  };
  const r = analyze(make(300));
  assert.deepEqual(r.diagnostics, []);
  // 600 Linear(4, 4) without bias, half of them tied: 300 stores of 16.
  assert.equal(r.models[0]!.params.stored, 300n * 16n);
  assert.equal(r.models[0]!.params.effective, 600n * 16n);
  const ratio = growth(make, 500, 4_000, 1);
  assert.ok(ratio < 20, `×${ratio.toFixed(1)} for 8× the ties (quadratic: ×64)`);
});
