// Parameterisations: a 2-width × 2-depth grid of one transformer under every scheme, each
// weight class's factors compared with the papers' rules written out here (not read from the
// engine's tables): μP (Tensor Programs V, in microsoft/mup's form), depth-μP (Tensor Programs
// VI), CompleteP (Dey et al. 2025; EleutherAI/nanoGPT-mup@completep's optimizer groups), u-μP
// (Blake et al. 2024; graphcore unit_scaling's Adam LR rule), and SP. Plus inference of width and
// depth, the weight classes of a MoE, transfer of a base LR, and every bad argument's diagnostic.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile, type TransferRow, type TransferTable } from '../../../src/core/index.js';

const BASE_WIDTH = 128;
const BASE_DEPTH = 2;

function spec(d: number, L: number, statement: string): string {
  return `model T {
  d = ${d}
  L = ${L}
  ${statement}
  block B {
    n = RMSNorm(d)
    attn = Attention(d, heads: 4)
    mlp = MLP(d, 4 * d)
  }
  embed = Embedding(1000, d)
  body = B * L
  norm = RMSNorm(d)
  head = Linear(d, 1000)
}
`;
}

function table(text: string): TransferTable {
  const c = compile(text);
  assert.deepEqual(c.diagnostics.map((d) => d.message), []);
  const t = c.analysis().models[0]!.parameterization;
  assert.ok(t, 'a parameterisation table');
  return t;
}

function row(t: TransferTable, path: string): TransferRow {
  const r = t.rows.find((x) => x.path === path);
  assert.ok(r, path);
  return r;
}

const close = (actual: number | undefined, expected: number, what: string): void => {
  assert.ok(actual !== undefined && Math.abs(actual - expected) <= 1e-12 * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
};

/** What each rule says for one class at width ratio mN and depth ratio mL. */
interface Expected {
  readonly initStd: number | undefined;
  readonly lr: number;
  readonly output: number;
  readonly residual: number;
  readonly weightDecay: number | undefined;
}

type Rules = (mN: number, mL: number) => Record<'embed.weight' | 'body.attn.q' | 'body.mlp.down' | 'body.n.weight' | 'body.mlp.up_bias' | 'norm.weight' | 'head.weight', Expected>;

// μP for Adam: hidden init variance 1/fan_in (std ∝ mN^-1/2), hidden LR ∝ 1/fan_in; the readout
// divided by the width multiplier with its LR unchanged; embeddings, norms and biases untouched.
const mup: Rules = (mN) => ({
  'embed.weight': { initStd: 1, lr: 1, output: 1, residual: 1, weightDecay: 1 },
  'body.attn.q': { initStd: 1 / Math.sqrt(mN), lr: 1 / mN, output: 1, residual: 1, weightDecay: 1 },
  'body.mlp.down': { initStd: 1 / Math.sqrt(mN), lr: 1 / mN, output: 1, residual: 1, weightDecay: 1 },
  'body.n.weight': { initStd: undefined, lr: 1, output: 1, residual: 1, weightDecay: undefined },
  'body.mlp.up_bias': { initStd: undefined, lr: 1, output: 1, residual: 1, weightDecay: undefined },
  'norm.weight': { initStd: undefined, lr: 1, output: 1, residual: 1, weightDecay: undefined },
  'head.weight': { initStd: 1, lr: 1, output: 1 / mN, residual: 1, weightDecay: 1 },
});

// CompleteP's family at exponent α: x + L^-α·F(x); hidden LR × mN^-1·mL^(α-1); hidden norms and
// biases' LR × mL^(α-1); hidden weight decay × mN (weight_decay / width_lr_scaling).
const depthFamily = (alpha: number): Rules => (mN, mL) => ({
  'embed.weight': { initStd: 1, lr: 1, output: 1, residual: 1, weightDecay: 1 },
  'body.attn.q': { initStd: 1 / Math.sqrt(mN), lr: (1 / mN) * mL ** (alpha - 1), output: 1, residual: mL ** -alpha, weightDecay: mN },
  'body.mlp.down': { initStd: 1 / Math.sqrt(mN), lr: (1 / mN) * mL ** (alpha - 1), output: 1, residual: mL ** -alpha, weightDecay: mN },
  'body.n.weight': { initStd: undefined, lr: mL ** (alpha - 1), output: 1, residual: mL ** -alpha, weightDecay: undefined },
  'body.mlp.up_bias': { initStd: undefined, lr: mL ** (alpha - 1), output: 1, residual: mL ** -alpha, weightDecay: undefined },
  'norm.weight': { initStd: undefined, lr: 1, output: 1, residual: 1, weightDecay: undefined },
  'head.weight': { initStd: 1, lr: 1, output: 1 / mN, residual: 1, weightDecay: 1 },
});

// u-μP: unit init; a hidden matmul is scaled by 1/√fan_in, the readout by 1/fan_in; Adam LR of a
// matrix × fan_in^-1/2 (an embedding's fan_in is its width) and × depth^-1/2 inside residual
// branches; norms and biases get only the depth factor; independent weight decay (÷ the LR factor).
const uMup: Rules = (mN, mL) => ({
  'embed.weight': { initStd: 1, lr: 1 / Math.sqrt(mN), output: 1, residual: 1, weightDecay: Math.sqrt(mN) },
  'body.attn.q': { initStd: 1, lr: 1 / Math.sqrt(mN * mL), output: 1 / Math.sqrt(mN), residual: 1 / Math.sqrt(mL), weightDecay: Math.sqrt(mN * mL) },
  'body.mlp.down': { initStd: 1, lr: 1 / Math.sqrt(mN * mL), output: 1 / Math.sqrt(mN), residual: 1 / Math.sqrt(mL), weightDecay: Math.sqrt(mN * mL) },
  'body.n.weight': { initStd: undefined, lr: 1 / Math.sqrt(mL), output: 1, residual: 1 / Math.sqrt(mL), weightDecay: undefined },
  'body.mlp.up_bias': { initStd: undefined, lr: 1 / Math.sqrt(mL), output: 1, residual: 1 / Math.sqrt(mL), weightDecay: undefined },
  'norm.weight': { initStd: undefined, lr: 1, output: 1, residual: 1, weightDecay: undefined },
  'head.weight': { initStd: 1, lr: 1, output: 1 / mN, residual: 1, weightDecay: 1 },
});

// SP (Tensor Programs V): init variance 1/fan_in everywhere, one LR, no multipliers.
const sp: Rules = (mN) => ({
  'embed.weight': { initStd: 1, lr: 1, output: 1, residual: 1, weightDecay: 1 },
  'body.attn.q': { initStd: 1 / Math.sqrt(mN), lr: 1, output: 1, residual: 1, weightDecay: 1 },
  'body.mlp.down': { initStd: 1 / Math.sqrt(mN), lr: 1, output: 1, residual: 1, weightDecay: 1 },
  'body.n.weight': { initStd: undefined, lr: 1, output: 1, residual: 1, weightDecay: undefined },
  'body.mlp.up_bias': { initStd: undefined, lr: 1, output: 1, residual: 1, weightDecay: undefined },
  'norm.weight': { initStd: undefined, lr: 1, output: 1, residual: 1, weightDecay: undefined },
  'head.weight': { initStd: 1 / Math.sqrt(mN), lr: 1, output: 1, residual: 1, weightDecay: 1 },
});

const SCHEMES: readonly { statement: string; rules: Rules }[] = [
  { statement: 'sp', rules: sp },
  { statement: 'mup', rules: mup },
  { statement: 'depth_mup', rules: depthFamily(1 / 2) },
  { statement: 'completep', rules: depthFamily(1) },
  { statement: 'completep', rules: depthFamily(3 / 4) },
  { statement: 'u_mup', rules: uMup },
];

for (const { statement, rules } of SCHEMES) {
  const alphaArg = rules === SCHEMES[4]!.rules ? ', alpha: 3/4' : '';
  test(`parameterisation ${statement}${alphaArg}: a 2-width × 2-depth grid follows the paper's rules`, () => {
    for (const d of [256, 1024]) {
      for (const L of [4, 16]) {
        const t = table(spec(d, L, `param ${statement}(base_width: ${BASE_WIDTH}, base_depth: ${BASE_DEPTH}${alphaArg})`));
        const mN = d / BASE_WIDTH;
        const mL = L / BASE_DEPTH;
        close(t.widthRatio, mN, 'm_N');
        close(t.depthRatio, mL, 'm_L');
        for (const [path, e] of Object.entries(rules(mN, mL))) {
          const r = row(t, path);
          const at = `${statement} d=${d} L=${L} ${path}`;
          if (e.initStd === undefined) assert.equal(r.initStd, undefined, `${at} init`);
          else close(r.initStd?.value, e.initStd, `${at} init`);
          close(r.lr.value, e.lr, `${at} lr`);
          close(r.output.value, e.output, `${at} multiplier`);
          close(r.residual.value, e.residual, `${at} residual`);
          if (e.weightDecay === undefined) assert.equal(r.weightDecay, undefined, `${at} decay`);
          else close(r.weightDecay?.value, e.weightDecay, `${at} decay`);
        }
      }
    }
  });
}

test('parameterisation: width and depth are inferred (embedding width, stack instances) and the base defaults to the target', () => {
  const t = table(spec(512, 6, 'param mup'));
  assert.equal(t.width, '512');
  assert.equal(t.depth, '6');
  assert.equal(t.baseWidth, '512');
  close(row(t, 'body.attn.q').lr.value, 1, 'no transfer: factor 1');
  assert.equal(row(t, 'body.attn.q').instances, '6');
  // Written values win over the inferred ones.
  const w = table(spec(512, 6, 'param mup(width: 1024, base_width: 256)'));
  close(row(w, 'body.attn.q').lr.value, 1 / 4, 'width as written');
});

test('parameterisation: the base LR, init std and weight decay transfer to every weight', () => {
  const t = table(spec(1024, 8, 'param completep(base_width: 256, base_depth: 2, lr: 6e-3, init_std: 0.02, weight_decay: 0.1)'));
  // m_N = 4, m_L = 4, α = 1: hidden LR 6e-3/4, hidden init 0.02/2, hidden decay 0.1·4, readout LR 6e-3.
  close(row(t, 'body.attn.q').lr.target, 6e-3 / 4, 'hidden lr');
  close(row(t, 'body.attn.q').initStd?.target, 0.02 / 2, 'hidden init');
  close(row(t, 'body.attn.q').weightDecay?.target, 0.4, 'hidden decay');
  close(row(t, 'head.weight').lr.target, 6e-3, 'readout lr');
  close(row(t, 'body.attn.q').residual.value, 1 / 4, 'branch × 1/m_L');
});

test('parameterisation: MoE experts are hidden weights, the router is output-like; a variant replaces its base\'s', () => {
  const text = `model M {
  d = 256
  param mup(base_width: 64)
  block B {
    n = RMSNorm(d)
    moe = MoE(d, 512, experts: 8, top_k: 2)
  }
  embed = Embedding(100, d)
  body = B * 2
  head = Linear(d, 100)
}
variant Deep of M {
  param completep(base_width: 64, base_depth: 1)
}
`;
  const c = compile(text);
  assert.deepEqual(c.diagnostics.map((d) => d.message), []);
  const [m, v] = c.analysis().models;
  const rows = m!.parameterization!.rows;
  const router = rows.find((r) => r.role === 'router');
  assert.ok(router);
  assert.equal(router.weightClass, 'output');
  close(router.output.value, 1 / 4, 'router × 1/m_N');
  const experts = rows.filter((r) => r.path.startsWith('body.moe') && r.role === 'matmul');
  assert.ok(experts.length > 0);
  for (const e of experts) close(e.lr.value, 1 / 4, `${e.path} lr`);
  assert.equal(v!.parameterization!.scheme, 'completep');
  close(v!.parameterization!.rows.find((r) => r.path === 'body.n.weight')!.residual.value, 1 / 2, 'variant: 2 blocks over 1');
});

test('parameterisation: every bad argument is a located npas-param error and counts do not change', () => {
  const cases: readonly [string, RegExp, string][] = [
    ['param magic(base_width: 128)', /one of sp, mup, depth_mup, completep, u_mup/, 'magic(base_width: 128)'],
    ['param mup(base_width: -1)', /'base_width' must be a positive number/, '-1'],
    ['param completep(alpha: 2)', /'alpha' must lie in \[1\/2, 1\]/, '(alpha: 2)'],
    ['param mup(alpha: 1)', /alpha/, 'alpha'],
    ['param mup(lr: 0)', /'lr' must be a positive number/, '0'],
    ['param mup(base_width: 128)\n  param sp', /one `param` statement per model/, 'param'],
  ];
  for (const [statement, message, underlined] of cases) {
    const text = spec(256, 4, statement);
    const c = compile(text);
    const d = c.diagnostics.find((x) => message.test(x.message));
    assert.ok(d, `${statement}: ${c.diagnostics.map((x) => x.message).join('; ')}`);
    assert.ok(d.code === 'npas-param' || d.code.startsWith('npas-'), d.code);
    assert.ok(text.slice(d.range.start, d.range.end).includes(underlined), `${statement}: range '${text.slice(d.range.start, d.range.end)}'`);
    assert.equal(c.analysis().models[0]!.params.stored, compile(spec(256, 4, '')).analysis().models[0]!.params.stored);
  }
  // A model without embeddings or matrices has no width to infer.
  const c = compile('model N {\n  param mup\n  n = RMSNorm(8)\n}\n');
  assert.ok(c.diagnostics.some((d) => d.code === 'npas-param' && /give 'width'/.test(d.message)));
  // `param` is a keyword now: it cannot name a binding.
  assert.ok(compile('model K {\n  param = 3\n  a = Linear(4, 4)\n}\n').diagnostics.some((d) => d.code.startsWith('npas-syntax')));
});
