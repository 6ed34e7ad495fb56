// Prefix sharing for DPO (arXiv:2410.20305) in examples/dpo-prefix-sharing.npas: Mistral-7B's
// training step on a typical pair of each of the six datasets of the reference's README
// (github.com/frankxwang/dpo-prefix-sharing, "Speedups"), shared and apart, against FLOPs derived
// here from the configuration and the datasets' published length statistics, never from the
// engine; and those FLOP ratios beside the published throughput speed-ups, which they are not.
// A multiply-add is 2 FLOPs; training = forward + input gradients (weights once more, attention
// twice more) + weight gradients (docs/language.md, "What the engine computes").

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../../src/core/index.js';

const TEXT = readFileSync(join(__dirname, '..', '..', '..', 'examples', 'dpo-prefix-sharing.npas'), 'utf8');
// The budget's settings are its own; the analysis settings' seq and shared prompt do not reach them.
const result = analyze(TEXT, { seq: 4096, batch: 1, dtype: 'bf16' });
const mistral = result.models.find((m) => m.name === 'Mistral7B') ?? assert.fail('Mistral7B');

// mistralai/Mistral-7B-Instruct-v0.1 config.json.
const V = 32_000n;
const d = 4096n;
const L = 32n;
const heads = 32n;
const kvHeads = 8n;
const hd = 128n;
const ff = 14_336n;
const layerMatmuls = 2n * d * heads * hd + 2n * d * kvHeads * hd + 3n * d * ff; // q, o; k, v; gate, up, down
const stored = 2n * V * d + L * (layerMatmuls + 2n * d) + d; // embed and lm_head untied, two RMSNorms a layer, the final norm
const weightFlops = 2n * (L * layerMatmuls + d * V); // per token: every matmul and lm_head (the embedding is a lookup)
const perKey = L * 2n * heads * (hd + hd); // attention FLOPs per query and key, all layers
const causal = (s: bigint) => (s * (s + 1n)) / 2n; // keys of a causal pass of s tokens (all below the 4096 window)

// The README's "Speedups" table (no packing): median overall length, median prefix-to-completion
// ratio (hundredths), samples/s with FlashAttention-3, FlexAttention, Flex with prefix sharing.
const DATASETS = [
  { name: 'Capybara', length: 1160n, ratio: 159n, fa3: 8.38, flex: 7.75, shared: 11.9, overFa3: 1.42, overFlex: 1.54 },
  { name: 'HH-RLHF', length: 186n, ratio: 215n, fa3: 33.71, flex: 30.25, shared: 36.11, overFa3: 1.07, overFlex: 1.19 },
  { name: 'MetaMath-DPO', length: 872n, ratio: 391n, fa3: 13.86, flex: 13.02, shared: 19.13, overFa3: 1.38, overFlex: 1.47 },
  { name: 'TLDR', length: 416n, ratio: 1114n, fa3: 31.43, flex: 29.53, shared: 35.36, overFa3: 1.12, overFlex: 1.2 },
  { name: 'Tulu-Helpsteer', length: 775n, ratio: 634n, fa3: 14.83, flex: 13.93, shared: 21.75, overFa3: 1.47, overFlex: 1.56 },
  { name: 'UltraFeedback', length: 409n, ratio: 42n, fa3: 18.4, flex: 17.31, shared: 20.46, overFa3: 1.11, overFlex: 1.18 },
] as const;

/** The prompt of a pair of L tokens (prompt + one response) whose prompt is ρ times a response: round(L·ρ/(1 + ρ)). */
const promptOf = (length: bigint, ratio: bigint) => (2n * length * ratio + (100n + ratio)) / (2n * (100n + ratio));

/** Training FLOPs of one DPO pair: its two sequences apart, or the prompt once and both responses after it. */
function trainPair(length: bigint, prompt: bigint): bigint {
  const tokens = prompt + 2n * (length - prompt);
  const keys = causal(prompt) + 2n * (causal(length) - causal(prompt));
  return 3n * weightFlops * tokens + 3n * perKey * keys;
}

/** A rational as the budget writes it: nine fractional digits, cut, with `…` when cut. */
function decimal(num: bigint, den: bigint): string {
  let rem = num % den;
  if (rem === 0n) return String(num / den);
  let frac = '';
  for (let i = 0; i < 9 && rem !== 0n; i++) {
    rem *= 10n;
    frac += String(rem / den);
    rem %= den;
  }
  return `${num / den}.${frac}${rem === 0n ? '' : '…'}`;
}

test('Mistral-7B: stored parameters from the released configuration', () => {
  assert.equal(stored, 7_241_732_096n); // test/fixtures/hf/SOURCES.md
  assert.equal(mistral.params.stored, stored);
  assert.deepEqual(result.diagnostics.map((x) => `${x.code}: ${x.message}`), []);
});

test('each dataset\'s pair trained with and without prefix sharing, the budget settings derived by hand', () => {
  const values = mistral.budgets.map((b) => b.value);
  assert.equal(values.length, 1 + 2 * DATASETS.length);
  DATASETS.forEach((ds, i) => {
    const P = promptOf(ds.length, ds.ratio);
    // Per token of the pair's 2L tokens: the shared step, then the two sequences apart.
    assert.equal(values[1 + 2 * i], decimal(trainPair(ds.length, P), 2n * ds.length), `${ds.name} shared`);
    assert.equal(values[2 + 2 * i], decimal(trainPair(ds.length, 0n), 2n * ds.length), `${ds.name} apart`);
  });
  assert.deepEqual(DATASETS.map((ds) => promptOf(ds.length, ds.ratio)), [712n, 127n, 694n, 382n, 669n, 121n]);
});

test('the FLOP ratios against the published speed-ups: a FLOP ratio is not a throughput', () => {
  const ratios = DATASETS.map((ds) => {
    const P = promptOf(ds.length, ds.ratio);
    const C = ds.length - P;
    // Tokens (weight FLOPs, saved activations, KV positions): 2L against P + 2C, which is
    // 2(1 + ρ)/(2 + ρ) whatever the length.
    const tokens = Number(2n * ds.length) / Number(P + 2n * C);
    const exact = (2 * (1 + Number(ds.ratio) / 100)) / (2 + Number(ds.ratio) / 100);
    assert.ok(Math.abs(tokens - exact) < 0.01, `${ds.name}: ${tokens} against ${exact}`);
    // Training FLOPs, attention included: less than the token ratio (the responses still attend to the prompt).
    const flops = Number(trainPair(ds.length, 0n)) / Number(trainPair(ds.length, P));
    assert.ok(flops < tokens && flops > 1, ds.name);
    // The README's speed-ups are its samples/s quotients.
    assert.ok(Math.abs(ds.shared / ds.fa3 - ds.overFa3) < 0.006 && Math.abs(ds.shared / ds.flex - ds.overFlex) < 0.006, ds.name);
    return { name: ds.name, tokens, flops, overFa3: ds.overFa3, overFlex: ds.overFlex };
  });
  assert.deepEqual(ratios.map((r) => r.tokens.toFixed(2)), ['1.44', '1.52', '1.66', '1.85', '1.76', '1.17']);
  // Over FlashAttention-3 every published speed-up lies below the FLOP ratio, and the abstract's
  // 1.1–1.5× range holds them all but HH-RLHF's short sequences (186 tokens: 1.07× for 1.52× fewer FLOPs).
  for (const r of ratios) assert.ok(r.overFa3 < r.flops, r.name);
  assert.deepEqual(ratios.filter((r) => r.overFa3 < 1.1 || r.overFa3 > 1.5).map((r) => r.name), ['HH-RLHF']);
  // Over FlexAttention without sharing, Capybara's 1.54× and UltraFeedback's 1.18× exceed their
  // FLOP ratios (1.44×, 1.17×): throughput depends on more than FLOPs (kernels, padding, lengths).
  assert.deepEqual(ratios.filter((r) => r.overFlex > r.flops).map((r) => r.name), ['Capybara', 'UltraFeedback']);
  assert.deepEqual(ratios.map((r) => r.flops.toFixed(2)), ['1.44', '1.52', '1.66', '1.85', '1.76', '1.17']);
});
