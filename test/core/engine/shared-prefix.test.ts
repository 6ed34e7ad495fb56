// Shared prompts (`AnalysisOptions.sharedPrefix`, CLI --shared-prefix/--continuations;
// docs/language.md, "Shared prompts"): P prompt tokens computed and cached once for k
// continuations of C = S − P tokens, each attending to the prompt and to its own earlier tokens.
// Expected values derived by hand here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../../src/core/index.js';
import { readAnalysisFlags } from '../../../src/cli/analysis-flags.js';

const MODEL = (window = ''): string => `model M {
  d = 64
  block B {
    attn = Attention(d, heads: 4${window})
    mlp = MLP(d, 256, bias: false)
  }
  embed = Embedding(1000, d)
  body = B * 2
  head = Linear(d, 1000)
}
`;
const S = 100;
const P = 60;
const k = 2;
const C = S - P;
const L = 2n;
const W = L * (2n * 4n * 64n * 64n + 2n * 2n * 64n * 256n) + 2n * 64n * 1000n; // weight FLOPs per token
const perKey = 2n * 4n * (16n + 16n);
const kvPerToken = L * 2n * 64n; // elements, all layers
const tri = (n: number): bigint => (BigInt(n) * BigInt(n + 1)) / 2n;
const at = (extra: object) => analyze(MODEL(), { seq: S, batch: 1, dtype: 'bf16', ...extra }).models[0]!;

test('a prompt shared by k continuations: prompt FLOPs and KV once, block-sparse attention', () => {
  const m = at({ sharedPrefix: { tokens: P, continuations: k } });
  const keys = tri(P) + BigInt(k) * (tri(S) - tri(P)); // the prompt causally; each continuation over the prompt and itself
  const prefill = W * BigInt(P + k * C) + L * perKey * keys;
  assert.equal(m.flops.prefill, prefill);
  assert.equal(m.kvCacheBytes, kvPerToken * BigInt(P + k * C) * 2n);
  // A decode step runs one token per continuation, each over its S cached positions.
  assert.equal(m.flops.decode, BigInt(k) * (W + L * perKey * BigInt(S)));
  // Per token of the k·S tokens the continuations stand for.
  const unshared = at({ batch: k });
  assert.equal(unshared.flops.prefill, BigInt(k) * (W * BigInt(S) + L * perKey * tri(S)));
  assert.ok(m.flops.prefill < unshared.flops.prefill);
  assert.equal(m.flops.decode, unshared.flops.decode);
  assert.equal(unshared.kvCacheBytes - m.kvCacheBytes, BigInt(k - 1) * kvPerToken * BigInt(P) * 2n);
  // Training: forward + input gradients (weights ×2, attention ×3) + weight gradients, per k·S tokens.
  const train = 3n * W * BigInt(P + k * C) + 3n * L * perKey * keys;
  assert.equal(m.flops.trainPerToken, decimal(train, BigInt(k * S)));
});

test('shared prompts under a sliding window: keys and cache as seen from each continuation', () => {
  const w = 50;
  const m = analyze(MODEL(', window: 50'), { seq: S, batch: 1, dtype: 'bf16', sharedPrefix: { tokens: P, continuations: k } }).models[0]!;
  const f = (s: number): bigint => (s <= w ? tri(s) : tri(w) + BigInt(s - w) * BigInt(w));
  const keys = f(P) + BigInt(k) * (f(S) - f(P));
  assert.equal(m.flops.prefill, W * BigInt(P + k * C) + L * perKey * keys);
  // Each continuation keeps its last 50 positions: 40 of its own and 10 of the prompt (shared).
  assert.equal(m.kvCacheBytes, kvPerToken * BigInt(10 + k * 40) * 2n);
});

test('bad shared-prompt settings are reported and measured without sharing; a budget at a shorter seq is unshared', () => {
  const r = analyze(MODEL(), { seq: S, batch: 1, dtype: 'bf16', sharedPrefix: { tokens: S, continuations: 2 } });
  assert.ok(r.diagnostics.some((x) => x.code === 'npas-eval-range' && /sharedPrefix/.test(x.message)));
  assert.equal(r.models[0]!.kvCacheBytes, kvPerToken * BigInt(S) * 2n);
  const budget = analyze(`${MODEL()}budget M {\n  kv(seq: 50) <= ${kvPerToken * 50n * 2n}bytes\n}\n`, { seq: S, batch: 1, dtype: 'bf16', sharedPrefix: { tokens: P, continuations: k } });
  assert.deepEqual(budget.diagnostics.filter((x) => x.severity === 'error'), []);
});

test('a budget constraint sets its own shared prompt: shared_prefix: P, continuations: k (default 2), 0 for none', () => {
  const budget = (lines: string, extra: object = {}) => analyze(`${MODEL()}budget M {\n${lines}\n}\n`, { seq: S, batch: 1, dtype: 'bf16', ...extra });
  const values = (r: ReturnType<typeof budget>) => r.models[0]!.budgets.map((b) => b.value);
  const keys = (kk: number) => tri(P) + BigInt(kk) * (tri(S) - tri(P));
  const prefill = (kk: number) => W * BigInt(P + kk * C) + L * perKey * keys(kk);
  const r = budget(`  flops.prefill_total(shared_prefix: ${P}) >= 1\n  kv(shared_prefix: ${P}, continuations: 3) >= 1bytes\n  flops.train(seq: ${S}, shared_prefix: ${P}) >= 1`);
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(values(r), [
    String(prefill(2)),
    String(kvPerToken * BigInt(P + 3 * C) * 2n),
    decimal(3n * W * BigInt(P + 2 * C) + 3n * L * perKey * keys(2), BigInt(2 * S)),
  ]);
  // shared_prefix: 0 measures without the settings' shared prompt; a constraint without it keeps it.
  const settings = { sharedPrefix: { tokens: P, continuations: k } };
  assert.deepEqual(values(budget('  kv(shared_prefix: 0) >= 1bytes\n  kv >= 1bytes', settings)), [String(kvPerToken * BigInt(S) * 2n), String(kvPerToken * BigInt(P + k * C) * 2n)]);
  // Continuations without a prompt, a prompt not below the constraint's seq, a negative prompt: located errors.
  const errors = (lines: string) => budget(lines).diagnostics.map((x) => `${x.code}: ${x.message}`);
  assert.deepEqual(errors('  kv(continuations: 3) >= 1bytes'), ['npas-budget-metric: continuations applies to a shared prompt: write shared_prefix: P beside it']);
  assert.deepEqual(errors('  kv(seq: 50, shared_prefix: 50) >= 1bytes'), ['npas-eval-range: shared_prefix 50 must be below seq 50: each continuation needs a token of its own']);
  assert.deepEqual(errors('  kv(shared_prefix: -1) >= 1bytes'), ['npas-eval-range: shared_prefix must be between 0 and 1073741824, got -1']);
  assert.deepEqual(errors('  params.stored(shared_prefix: 4) >= 1'), ['npas-budget-metric: params.stored takes no arguments']);
});

test('the CLI flags: --shared-prefix N [--continuations K] (K defaults to 2: chosen and rejected)', () => {
  assert.deepEqual(readAnalysisFlags(new Map([['seq', '1024'], ['shared-prefix', '512']])).sharedPrefix, { tokens: 512, continuations: 2 });
  assert.deepEqual(readAnalysisFlags(new Map([['continuations', '8']])).sharedPrefix, { tokens: 0, continuations: 8 });
  assert.throws(() => readAnalysisFlags(new Map([['seq', '512'], ['shared-prefix', '512']])), /below --seq/);
});

/** n / s written exactly (s divides n · 10^6 here): the report's exact decimal. */
function decimal(n: bigint, s: bigint): string {
  const scaled = n * 1_000_000n;
  assert.equal(scaled % s, 0n);
  const q = scaled / s;
  const frac = String(q % 1_000_000n).padStart(6, '0').replace(/0+$/, '');
  return frac ? `${q / 1_000_000n}.${frac}` : String(q / 1_000_000n);
}

test('the report says what the shared prompt saves, beside the continuations run apart; the model hover shows it', async () => {
  const { hoverAt } = await import('../../../src/core/index.js');
  const text = MODEL();
  const result = analyze(text, { seq: S, batch: 3, dtype: 'bf16', sharedPrefix: { tokens: P, continuations: k } });
  const s = result.models[0]!.sharedPrefix!;
  const keys = tri(P) + BigInt(k) * (tri(S) - tri(P));
  // Batch 3: three prompts, each with k continuations; apart: 3·k sequences of S tokens.
  assert.deepEqual(s, {
    tokens: P,
    continuations: k,
    computedTokens: P + k * C,
    unsharedTokens: k * S,
    prefillFlops: 3n * (W * BigInt(P + k * C) + L * perKey * keys),
    unsharedPrefillFlops: 3n * BigInt(k) * (W * BigInt(S) + L * perKey * tri(S)),
    kvCacheBytes: 3n * kvPerToken * BigInt(P + k * C) * 2n,
    unsharedKvCacheBytes: 3n * BigInt(k) * kvPerToken * BigInt(S) * 2n,
  });
  // Without a shared prompt (or one the seq leaves no continuation), no such section.
  assert.equal(analyze(text, { seq: S }).models[0]!.sharedPrefix, undefined);
  const hover = hoverAt(text, result, text.indexOf('M {'));
  assert.ok(hover, 'a hover on the model');
  const md = hover!.markdown;
  assert.match(md, /\*\*Shared prompt\*\*: 60 tokens shared by 2 continuations of 40 tokens/);
  assert.match(md, /tokens computed per sequence: 140 instead of 200/);
  // KV: 140 of 200 positions → 200/140 = 1.43× less.
  assert.match(md, /KV cache: .* instead of .*\(1\.43× less\)/);
});
