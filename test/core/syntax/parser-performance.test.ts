// Performance of the parser: linear time, and a 10,000-line file well under 100 ms once the
// code is warm (an editor re-parses on every keystroke, so the warm time is what users feel).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from '../../../src/core/syntax/parser.js';

const MODEL = `model M_ID {
  vocab = 256_000
  d = 2048
  block Decoder {
    attn_norm = RMSNorm(d)
    attn      = Attention(d, heads: 8, kv_heads: 1, head_dim: 256, window: if i % 2 == 0 then 4096 else none)
    mlp       = GatedMLP(d, 16_384, act: gelu)
  }
  embed   = Embedding(vocab, d)
  body    = [Decoder for i in 0..18]
  lm_head = Linear(d, vocab) tied embed
}
variant V_ID of M_ID {
  share body: cycle(9) relax lora(rank: 64)
  share kv body: every(2)
  adapt body.attn.q, body.attn.v: lora(rank: 8)
}
budget V_ID {
  params.stored <= 1.2B
  kv(seq: 8K, batch: 1, dtype: bf16) <= 128MiB
}
`;

/** A file of at least `lines` lines made of distinct copies of MODEL. */
function file(lines: number): string {
  const parts: string[] = [];
  const per = MODEL.split('\n').length - 1;
  for (let i = 0; i * per < lines; i++) parts.push(MODEL.replaceAll('ID', String(i)));
  return parts.join('');
}

/**
 * The best of `runs` parse times. The minimum measures the parser itself; the median and the
 * maximum also measure whatever else the (often shared, two-core) machine is doing.
 */
function bestMs(text: string, runs: number): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    parse(text);
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

test('a 10,000-line file parses well under 100 ms', () => {
  const text = file(10_000);
  assert.ok(text.split('\n').length >= 10_000);
  const first = parse(text);
  assert.equal(first.diagnostics.length, 0);
  assert.equal(first.file.items.length, 3 * Math.ceil(10_000 / (MODEL.split('\n').length - 1)));
  const best = bestMs(text, 9);
  // The target is < 100 ms (typically 17–40 ms here); the assertion allows a loaded machine
  // (CI shares its two cores) 3× headroom so it fails on a real regression, not on noise.
  console.log(`parse of 10,000 lines: best ${best.toFixed(1)} ms`);
  assert.ok(best < 300, `parsing 10,000 lines took ${best.toFixed(1)} ms at best`);
});

test('parse time grows linearly with the file', () => {
  const small = file(5_000);
  const large = file(40_000);
  parse(small);
  parse(large);
  const perLineSmall = bestMs(small, 5) / 5_000;
  const perLineLarge = bestMs(large, 3) / 40_000;
  // A quadratic parser would be 8 times slower per line on the large file; allow noise, not that.
  assert.ok(perLineLarge < perLineSmall * 4 + 0.001, `${perLineSmall} vs ${perLineLarge} ms per line`);
});
