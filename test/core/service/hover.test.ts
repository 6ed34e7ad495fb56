// Hover, data-driven: each case puts the cursor ($0) somewhere in a spec and lists what the
// Markdown must say (exact numbers with thousands separators) or that there is no hover.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hoverAt } from '../../../src/core/index.js';
import { marked } from './cursor.js';

// Linear(1000, 1000): 1,000,000 weights, 2,000,000 FLOPs per token (a multiply-add = 2).
const SMALL = `model M {
  d = 2048
  ff = 4 * d
  r = 2 / 3
  m = 128MiB
  x = Linear(1000, 1000)
}
variant V of M {
  d = 512
}
`;

const GEMMA = `model G {
  d = 2048
  block Decoder(window = none) {
    attn_norm = RMSNorm(d)
    attn = Attention(d, heads: 8, kv_heads: 1, head_dim: 256, window: window)
    mlp = GatedMLP(d, 16384, act: gelu)
  }
  embed = Embedding(256000, d)
  body = Decoder * 18
  wins = [Decoder(window: 4096) for i in 0..2]
  lm_head = Linear(d, 256000) tied embed
}
variant R of G {
  share body: cycle(9)
  adapt body.attn.q: lora(rank: 4)
}
budget R {
  params.stored <= 1.8B
  kv(seq: 8Ki, batch: 1, dtype: bf16) <= 1MiB
}
`;

const at = (source: string, needle: string, delta = 0): string => {
  const i = source.indexOf(needle);
  assert.ok(i >= 0, needle);
  return source.slice(0, i + delta) + '$0' + source.slice(i + delta);
};

const CASES: readonly { name: string; source: string; expect: readonly (RegExp | string)[] | undefined }[] = [
  {
    name: 'a model name: params, FLOPs, KV, memory, roofline',
    source: at(SMALL, 'M {', 0),
    expect: ['**model M**', '| stored | 1,000,000 |', '| effective | 1,000,000 |', '| trainable | 1,000,000 |', 'a multiply-add = 2 FLOPs', 'prefill: 2,000,000 per token', 'decode: 2,000,000 per step attending to 4,096 cached positions', 'KV cache** at seq 4,096, batch 1, bf16: 0 bytes', 'weights 2,000,000 bytes (1.91 MiB)', /Roofline on H100\*\* \(compute bf16\): prefill [\d.]+ \S+ \((compute|memory)-bound\)/],
  },
  { name: 'a variant name', source: at(SMALL, 'V of', 0), expect: ['**variant V** of M', '| stored | 1,000,000 |'] },
  // The same method name in two statements: each statement's own (FISH pooled vs per target).
  { name: 'sparse after train: the pooled mask', source: at(`${SMALL}variant F of M { train x: sparse(elements: 10) }\n`, 'sparse(elements: 10)', 1), expect: ['`sparse(elements)` — FISH: a fixed sparse mask pooled over all the weights under the paths'] },
  { name: 'sparse after adapt: the per-target adapter', source: at(`${SMALL}variant F of M { adapt x: sparse(elements: 10) }\n`, 'sparse(elements: 10)', 1), expect: ['`sparse(elements, targets, tasks, for_tasks)` — A sparse mask: k trainable elements of each target weight'] },
  { name: 'bottleneck_adapter after adapt: the regular adapter, per language with tasks', source: at(`${SMALL}variant F of M { adapt x: bottleneck_adapter(bottleneck: 4, tasks: 3) }\n`, 'bottleneck_adapter(', 1), expect: ['`bottleneck_adapter(bottleneck, norm, post_norm, targets, tasks)` — A regular bottleneck adapter on each target\'s output', '`post_norm` — Normalise after the residual add'] },
  { name: 'loretta_rep: its arguments and its layout', source: at(`${SMALL}variant F of M { adapt x: loretta_rep(rank: 8, tt_rank: 5) }\n`, 'loretta_rep(', 1), expect: ['`loretta_rep(rank, tt_rank, modes_a, modes_b, merged, targets, alpha, tasks)` — LoRETTA_rep: a LoRA update ΔW = B·A whose A and B are each a tensor train', '`tt_rank` (required)'] },
  { name: 'loretta_adp: where it sits', source: at(`${SMALL}variant F of M { adapt x: loretta_adp(bottleneck: 64, tt_rank: 5) }\n`, 'loretta_adp(', 1), expect: ['LoRETTA_adp: a bottleneck adapter x + up(σ(down(x)))', '`side` — Where the adapter sits'] },
  // Arrow: the method's own doc, and the model hover's setup line (x = Linear(1000, 1000): 2·3·(4·1000 + 15·(2·2·1000 + 4 + 1000)) = 474,360 FLOPs).
  { name: 'delta after adapt: its per-task subsets', source: at(`${SMALL}variant F of M { adapt x: delta(tasks: 3, for_tasks: [0], merged: true) }\n`, 'delta(', 1), expect: ['`delta(merged, targets, tasks, for_tasks)`', '`for_tasks` — Only these tasks (0 … T − 1, with tasks: T) own an adapter here'] },
  { name: 'arrow after adapt: the LoRA library', source: at(`${SMALL}variant F of M { adapt x: arrow(rank: 2, experts: 3, top_k: 1) }\n`, 'arrow(rank', 1), expect: ['`arrow(rank, experts, top_k, shared_a, targets)` — A LoRA library routed per token with no trained router'] },
  { name: 'a model with an Arrow library: setup FLOPs once', source: at(`${SMALL}variant F of M { adapt x: arrow(rank: 2, experts: 3, top_k: 1) }\n`, 'F of', 0), expect: ['- setup, once before serving: 474,360 (', "Arrow's prototypes)"] },
  { name: 'hyper_lang after adapt: Hyper-Adapters', source: at(`${SMALL}variant F of M { adapt x: hyper_lang(bottleneck: 4, languages: 3, embedding: 2, hidden: 4, encoder_layers: 1) }\n`, 'hyper_lang(', 1), expect: ['Hyper-Adapters: one hypernetwork generates a bottleneck adapter d → r → d for every language pair and layer'] },
  { name: 'a variant base names the model', source: at(SMALL, 'of M', 3), expect: ['**model M**'] },
  { name: 'a constant at its definition', source: at(SMALL, 'ff =', 1), expect: ['**ff** · number', '```npas\nff = 4 * d\n```', 'Values:', '- **8,192** in M', '- **2,048** in V'] },
  // A use names M's own binding of d; the variant's d is another binding (its own hover).
  { name: 'a constant at a use', source: at(SMALL, '* d', 2), expect: ['**d** · number', '```npas\nd = 2048\n```', '= **2,048**'] },
  { name: 'an exact fraction', source: at(SMALL, 'r =', 0), expect: ['= **2/3 (≈ 0.666666…)**'] },
  { name: 'a size in bytes', source: at(SMALL, 'm =', 0), expect: ['**m** · size', '= **134,217,728 bytes (128.00 MiB)**'] },
  { name: 'a variant override names what it overrides', source: at(SMALL, 'd = 512', 0), expect: ['= **512**', 'Overrides `d = 2048`.'] },
  { name: 'a layer kind', source: at(GEMMA, 'Attention(', 2), expect: ['Attention(d, heads, kv_heads?, head_dim?', '`kv_heads` (optional, positional) — positive integer.'] },
  { name: "an MoE's expert_adapter (PERFT-E)", source: at(`model E {\n  x = MoE(64, 32, 8, 2, expert_adapter: 4)\n}\n`, 'expert_adapter:', 1), expect: ['**MoE** argument', '`expert_adapter` (optional) — positive integer. PERFT-E: a bottleneck adapter of this width beside every routed expert'] },
  { name: 'an argument name', source: at(GEMMA, 'kv_heads:', 1), expect: ['**Attention** argument', '`kv_heads` (optional, positional) — positive integer. Key/value heads (GQA; 1 is MQA); must divide heads. Default: heads.'] },
  {
    name: 'a block member: its numbers per model, per instance',
    source: at(GEMMA, 'attn = ', 1),
    // q 2048·2048 + k, v 256·2048 each + o 2048·2048 = 9,437,184; FLOPs 2 × that per token.
    // In R, a rank-4 LoRA on q adds 4·(2,048 + 2,048) = 16,384, the only trainable params.
    expect: ['**attn** · Attention layer (d: 2048, heads: 8, kv_heads: 1, head_dim: 256, window: none)', '| G | 9,437,184 | 9,437,184 | 9,437,184 | 9,437,184 | 18,874,368 |', '| R | 9,453,568 | 9,453,568 | 9,453,568 | 16,384 | 18,907,136 |', 'per instance of block Decoder'],
  },
  {
    name: 'a top-level stack: totals of its instances in each model',
    source: at(GEMMA, 'body = ', 1),
    // Decoder = 2,048 + 9,437,184 + 3·2,048·16,384 = 110,102,528 per instance. R: cycle(9)
    // stores 9 of them, plus 18 LoRAs of 16,384 = 294,912 (all that is trainable).
    expect: ['**body** · stack of 18: 18 × Decoder', '| G (×18) | 1,981,845,504 | 1,981,845,504 | 1,981,845,504 | 1,981,845,504 | 3,963,617,280 |', '| R (×18) | 991,217,664 | 1,982,140,416 | 1,982,140,416 | 294,912 | 3,964,207,104 |'],
  },
  // Norms cost no FLOPs: 2 × (9,437,184 + 100,663,296) = 220,200,960 per token; 18 + 2 instances.
  { name: 'a block name: one instance and the instance count', source: at(GEMMA, 'Decoder(window', 1), expect: ['**block Decoder**(window)', '| G | 110,102,528 | 220,200,960 | 20 |'] },
  { name: 'a block parameter', source: at(GEMMA, 'window = none', 1), expect: ['**window** · parameter of block Decoder', 'default: `none`'] },
  // R stores body 991,217,664 + embed 524,288,000 + wins 2 × 110,102,528 (the head is tied).
  { name: 'a budget constraint that holds', source: at(GEMMA, 'params.stored', 3), expect: ['**budget R** · `params.stored <= 1.8B`', 'unique stored parameters', 'measured **1,735,710,720** <= limit **1,800,000,000** — ✅ met'] },
  // 18 layers · 512 elements · 8,192 tokens · 2 bytes + 2 windowed layers · 512 · 4,096 · 2.
  { name: 'a violated budget: measured against the limit, in bytes', source: at(GEMMA, 'kv(seq', 0), expect: ['**budget R**', 'measured **159,383,552 bytes (152.00 MiB)** <= limit **1,048,576 bytes (1.00 MiB)** — ❌ violated'] },
  { name: 'a sharing strategy', source: at(GEMMA, 'cycle(9)', 1), expect: ['`cycle(n)` — CYCLE: σ(i) = i mod M', '`n` (required)'] },
  { name: 'a path segment: the member it names', source: at(GEMMA, 'body.attn.q', 6), expect: ['**attn** · Attention layer'] },
  { name: 'a weight at the end of a path', source: at(GEMMA, 'attn.q:', 5), expect: ['**attn.q** · matmul weight of Attention', 'shape 2,048 × 2,048 = **4,194,304** params'] },
  { name: 'a tied path', source: at(GEMMA, 'tied embed', 6), expect: ['**embed** · Embedding layer', '| G | 524,288,000 |'] },
  { name: 'a loop variable', source: at(GEMMA, 'for i', 4), expect: ['**i** · loop variable, from 0 up to (excluding) 2'] },
  { name: 'a keyword', source: at(GEMMA, 'share body', 1), expect: ['`share` —'] },
  { name: 'a number with a binary magnitude', source: at(GEMMA, '8Ki', 1), expect: ['= **8,192**'] },
  { name: 'a dtype symbol inside a constraint shows the constraint', source: at(GEMMA, 'bf16', 1), expect: ['**budget R** · `kv(seq: 8Ki, batch: 1, dtype: bf16) <= 1MiB`'] },
  { name: 'an activation symbol', source: at(GEMMA, 'gelu', 1), expect: ['`gelu` — activation function'] },
  { name: 'whitespace', source: at(GEMMA, '  d = 2048', 0), expect: undefined },
  { name: 'a comment', source: '# a comment $0here\nmodel M { x = Linear(2, 2) }\n', expect: undefined },
];

for (const c of CASES) {
  test(`hover: ${c.name}`, () => {
    const { text, offset, analysis } = marked(c.source);
    const h = hoverAt(text, analysis, offset);
    if (c.expect === undefined) {
      assert.equal(h, undefined);
      return;
    }
    assert.ok(h, 'expected a hover');
    for (const e of c.expect) {
      if (typeof e === 'string') assert.ok(h.markdown.includes(e), `missing ${JSON.stringify(e)} in:\n${h.markdown}`);
      else assert.match(h.markdown, e);
    }
  });
}

test('hover ranges cover the name under the cursor', () => {
  const { text, offset, analysis } = marked(at(GEMMA, 'lm_head', 3));
  const h = hoverAt(text, analysis, offset)!;
  assert.equal(text.slice(h.range.start, h.range.end), 'lm_head');
});

test('hover on `parallel` states the streams, the merge and the stores they add', () => {
  // Two streams, 3 prefix tokens in the one attention layer (2·kv_heads·head_dim = 2·2·4 = 16
  // elements each): 2·3·16 = 96 prefix params; the aggregator 2·16² + 16 + 16·2 + 2 = 562.
  const source = `model M {
  embed = Embedding(50, 16)
  attn = Attention(16, heads: 4, kv_heads: 2)
  head = Linear(16, 50)
  $0parallel streams(2, prefix: 3, merge: head)
}
`;
  const { text, offset, analysis } = marked(source);
  const h = hoverAt(text, analysis, offset);
  assert.ok(h);
  for (const e of ['2 streams, a KV cache each', 'merge before `head`', '96 prefix params', '562 aggregator params']) {
    assert.ok(h.markdown.includes(e), `missing ${JSON.stringify(e)} in:\n${h.markdown}`);
  }
});

test('hover on `smash` names the smashed members and their tokens per KV entry', () => {
  const source = `model M {
  embed = Embedding(50, 16)
  body = Attention(16, heads: 4) * 2
  head = Linear(16, 50)
  $0smash body: tokens(9/5)
}
`;
  const { text, offset, analysis } = marked(source);
  const h = hoverAt(text, analysis, offset);
  assert.ok(h);
  for (const e of ['Token smashing', '`body` (1.8 tokens per KV entry)', '⌈S / r⌉ positions']) {
    assert.ok(h.markdown.includes(e), `missing ${JSON.stringify(e)} in:\n${h.markdown}`);
  }
});

test('hover on a halting `route` and on `halt` say per-token halting at the expected depth', () => {
  for (const [cursor, expect] of [
    ['$0route body: halt(expected_depth: 5/2)', ['halt(expected_depth: D)', 'per-token halting']],
    ['route body: $0halt(expected_depth: 5/2)', ['expected depth']],
  ] as const) {
    const source = `model M {\n  embed = Embedding(50, 16)\n  block B { a = Attention(16, heads: 4) }\n  body = B * 4\n  share body: all\n  ${cursor}\n}\n`;
    const { text, offset, analysis } = marked(source);
    assert.deepEqual(analysis.diagnostics.filter((d) => d.severity === 'error'), []);
    const h = hoverAt(text, analysis, offset);
    assert.ok(h, cursor);
    for (const e of expect) assert.ok(h.markdown.toLowerCase().includes(e.toLowerCase()), `missing ${JSON.stringify(e)} in:\n${h.markdown}`);
  }
});

test('hover on an MoA layer (attention experts) gives its parameters from the schema', () => {
  const source = `model M {\n  embed = Embedding(50, 16)\n  attn = $0MoA(16, 6, 2, head_dim: 4, expert_dim: 8)\n}\n`;
  const { text, offset, analysis } = marked(source);
  const h = hoverAt(text, analysis, offset);
  assert.ok(h);
  assert.match(h.markdown, /MoA/);
  assert.match(h.markdown, /top_k|experts/);
});
