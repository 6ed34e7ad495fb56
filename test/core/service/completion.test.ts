// Completion, data-driven: the cursor ($0) in half-written specs; each case names entries that
// must be offered (with their kind) and entries that must not be, and the span replaced.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { completionsAt, type CompletionKind } from '../../../src/core/index.js';
import { marked } from './cursor.js';

const MODEL = `model M(L = 4) {
  d = 256
  block Decoder(window = none) {
    attn = Attention(d, heads: 4, window: window)
    mlp = GatedMLP(d, 1024)
  }
  embed = Embedding(1000, d)
  body = Decoder * L
  $0
}
`;
const inModel = (line: string): string => MODEL.replace('$0', line);

interface Case {
  readonly name: string;
  readonly source: string;
  /** `label:kind` entries that must be offered. */
  readonly has?: readonly string[];
  readonly lacks?: readonly string[];
  /** The text the completion replaces. */
  readonly replaces?: string;
  /** Exactly these labels, in this order. */
  readonly exactly?: readonly string[];
}

const CASES: readonly Case[] = [
  { name: 'arguments of a layer call, not yet given', source: inModel('x = Attention(d, heads: 4, $0)'), has: ['kv_heads:argument', 'head_dim:argument', 'window:argument', 'd:constant'], lacks: ['heads:argument', 'd:argument'] },
  { name: 'positional arguments count as given', source: inModel('x = Linear(d, $0)'), has: ['bias:argument'], lacks: ['d_in:argument'] },
  { name: 'an argument being typed is replaced whole', source: inModel('x = Attention(d, he$0)'), has: ['heads:argument'], replaces: 'he' },
  { name: 'the values of an enum argument', source: inModel('x = GatedMLP(d, 64, act: $0)'), exactly: ['relu', 'gelu', 'gelu_tanh', 'silu', 'swish', 'tanh', 'sigmoid', 'quick_gelu', 'relu2', 'identity'], has: ['gelu:symbol', 'identity:symbol'] },
  { name: "PERFT-E's unit width among an MoE's arguments", source: inModel('x = MoE(d, 64, 8, 2, $0)'), has: ['expert_adapter:argument', 'iterations:argument'], lacks: ['top_k:argument'] },
  { name: 'true and false for a boolean argument', source: inModel('x = Linear(d, d, bias: $0)'), exactly: ['true', 'false'], has: ['true:keyword'] },
  { name: 'the parameters of a block call', source: inModel('x = Decoder($0)'), has: ['window:argument'] },
  { name: 'names in scope and layer kinds in an expression', source: inModel('x = $0'), has: ['d:constant', 'L:parameter', 'Decoder:block', 'embed:module', 'Attention:layer', 'min:function'], lacks: ['x:constant'] },
  { name: 'a loop variable inside a comprehension', source: inModel('x = [Decoder(window: i$0) for i in 0..4]'), has: ['i:variable'] },
  { name: 'units after a number', source: inModel('x = 8$0'), has: ['K:unit', 'Ki:unit', 'MiB:unit', 'ms:unit'], replaces: '' },
  { name: 'units replace a suffix being typed', source: inModel('x = 8Mi$0'), has: ['MiB:unit'], replaces: 'Mi' },
  { name: 'nothing inside the digits of a number', source: inModel('x = 8$012'), exactly: [] },
  { name: 'keywords at the start of a member', source: inModel('$0'), has: ['share:keyword', 'share kv:keyword', 'block:keyword', 'tie:keyword', 'adapt:keyword'], lacks: ['d:constant'] },
  { name: 'only `block` at the start of a block member', source: 'model M {\n  block B {\n    $0\n  }\n}\n', exactly: ['block'] },
  { name: 'top-level keywords', source: 'model M { x = Linear(2, 2) }\n$0', exactly: ['model', 'block', 'variant', 'budget'] },
  { name: 'modules (not constants) after `share`, with the kv and heads modifiers', source: inModel('share $0'), has: ['body:module', 'embed:module', 'kv:keyword', 'heads:keyword'], lacks: ['d:module', 'd:constant'] },
  { name: 'stack strategies after `share X:`', source: inModel('share body: $0'), exactly: ['none', 'all', 'cycle()', 'sequence()', 'cycle_rev()', 'map([])'] },
  { name: 'modules and the model\'s own constants and parameters after `elastic` (a model-wide choice)', source: inModel('elastic $0'), has: ['body:module', 'd:constant', 'L:parameter'], lacks: ['Decoder:block', 'embed:constant'] },
  { name: 'KV strategies after `share kv X:`', source: inModel('share kv body: $0'), exactly: ['every()', 'map([])', 'tied'] },
  { name: 'head strategies after `share heads X:`', source: inModel('share heads body.attn: $0'), exactly: ['pairs()'] },
  { name: 'adapters after `relax`', source: inModel('share body: cycle(2) relax $0'), exactly: ['lora()', 'tied_lora()', 'aslora()', 'vblora()', 'mos()', 'poly()', 'arrow()', 'delta()', 'sparse()', 'hyper()', 'psrp()', 'bottleneck_adapter()', 'hyper_lang()', 'scalearn()', 'loretta_rep()', 'loretta_adp()'] },
  { name: 'the arguments of a tensor-train adapter', source: inModel('adapt body: loretta_adp(bottleneck: 64, $0)'), has: ['tt_rank:argument', 'side:argument', 'modes_down:argument', 'modes_up:argument'], lacks: ['bottleneck:argument', 'rank:argument'] },
  { name: 'where a LoRETTA_adp adapter sits', source: inModel('adapt body: loretta_adp(bottleneck: 64, tt_rank: 5, side: $0)'), exactly: ['output', 'input'] },
  { name: 'the arguments of an Arrow library', source: inModel('adapt body: arrow($0)'), has: ['rank:argument', 'experts:argument', 'top_k:argument', 'shared_a:argument', 'targets:argument'], lacks: ['tasks:argument', 'merged:argument'] },
  { name: 'adapters after `adapt X:`', source: inModel('adapt body: $0'), has: ['lora():strategy'] },
  // `train PATHS:` takes FISH's pooled mask; its `sparse` is not the per-target adapter's (no targets, no tasks).
  { name: 'the pooled mask after `train X:`', source: inModel('train body: $0'), exactly: ['sparse()'] },
  { name: 'the arguments of the pooled mask', source: inModel('train body: sparse($0)'), has: ['elements:argument'], lacks: ['targets:argument', 'tasks:argument'] },
  { name: 'the tasks that own a TAPS delta (per-task layer subsets)', source: inModel('adapt body: delta(tasks: 5, $0)'), has: ['for_tasks:argument', 'merged:argument'], lacks: ['tasks:argument'] },
  { name: 'for_tasks only where the per-task part is one copy per task', source: inModel('adapt body: tied_lora(rank: 2, $0)'), lacks: ['for_tasks:argument'] },
  { name: 'the arguments of the per-target sparse adapter', source: inModel('adapt body: sparse($0)'), has: ['elements:argument', 'targets:argument', 'tasks:argument'] },
  { name: 'factorisations after `factorize X:`', source: inModel('factorize body: $0'), exactly: ['fedpara()', 'tensor_train()', 'mpo()'] },
  { name: 'the arguments of a factorisation', source: inModel('factorize body: mpo(rank: 4, $0)'), has: ['cores:argument', 'modes_out:argument', 'central:argument'], lacks: ['rank:argument'] },
  { name: 'where an MPO keeps its central tensor', source: inModel('factorize body: mpo(rank: 4, cores: 3, central: $0)'), exactly: ['layers', 'experts', 'own'] },
  { name: 'the `factorize` keyword at the start of a member', source: inModel('fact$0'), has: ['factorize:keyword'] },
  { name: 'the arguments of a strategy', source: inModel('share body: cycle(2) relax lora($0)'), has: ['rank:argument', 'merged:argument', 'targets:argument'] },
  { name: 'block members after `body.`', source: inModel('share body.$0'), exactly: ['attn', 'mlp'] },
  { name: 'tensor classes after `precision`', source: inModel('precision $0'), has: ['weights:keyword', 'experts:keyword', 'kv:keyword', 'optimizer:keyword'], lacks: ['body:module'] },
  { name: 'paths after `precision weights` (a dtype per path)', source: inModel('precision weights $0'), has: ['body:module', 'embed:module'], lacks: ['kv:keyword', 'd:constant'] },
  { name: 'block members in a `precision weights` path', source: inModel('precision weights body.$0'), exactly: ['attn', 'mlp'] },
  { name: 'the next path of a `precision weights` list', source: inModel('precision weights embed, $0'), has: ['body:module'] },
  { name: 'the next class after a class dtype, not a path', source: inModel('precision weights: bf16, $0'), has: ['kv:keyword'], lacks: ['body:module'] },
  { name: 'dtypes after a `precision weights` path', source: inModel('precision weights body.attn: $0'), has: ['fp8:symbol', 'int8:symbol'] },
  { name: 'weights after a layer in a path', source: inModel('adapt body.attn.$0'), exactly: ['q', 'k', 'v', 'o'] },
  { name: 'modules after `tied`', source: inModel('head = Linear(d, 1000) tied $0'), has: ['embed:module'] },
  { name: 'variant members: overridable names and statements', source: 'model M {\n  d = 8\n  x = Linear(d, d)\n}\nvariant V of M {\n  $0\n}\n', has: ['d:constant', 'x:constant', 'share:keyword'] },
  { name: 'models after `variant V of`', source: 'model M { x = Linear(2, 2) }\nvariant V of $0', has: ['M:model'] },
  { name: 'budget metrics', source: 'model M { x = Linear(2, 2) }\nbudget M {\n  $0\n}\n', has: ['params.stored:metric', 'kv:metric', 'latency.decode:metric'] },
  { name: 'budget metrics after a dot', source: 'model M { x = Linear(2, 2) }\nbudget M {\n  params.$0\n}\n', exactly: ['stored', 'effective', 'active', 'trainable', 'per_task', 'task_shared'] },
  { name: 'metric settings', source: 'model M { x = Linear(2, 2) }\nbudget M {\n  kv($0) <= 1MiB\n}\n', exactly: ['seq', 'src_seq', 'batch', 'shared_prefix', 'continuations', 'dtype', 'weights_dtype', 'experts_dtype', 'kv_dtype', 'activations_dtype', 'compute_dtype', 'gradients_dtype', 'master_dtype', 'optimizer_dtype'] },
  { name: 'dtypes for a metric setting', source: 'model M { x = Linear(2, 2) }\nbudget M {\n  kv(dtype: $0) <= 1MiB\n}\n', exactly: ['fp32', 'tf32', 'bf16', 'fp16', 'fp8', 'int8', 'int4', 'mxfp4', 'nvfp4'] },
  { name: 'devices for a latency metric', source: 'model M { x = Linear(2, 2) }\nbudget M {\n  latency.decode(device: $0) <= 1ms\n}\n', exactly: ['H100', 'H200', 'H20', 'B200', 'A100', 'A100-40GB', 'L40S', 'L4', 'RTX4090', 'MI300X', 'M2Ultra', 'M4Max', 'CPU'] },
  { name: 'nothing in a comment', source: inModel('# share $0'), exactly: [] },
  { name: 'nothing in a string', source: inModel('x = "ab$0c"'), exactly: [] },
];

for (const c of CASES) {
  test(`completion: ${c.name}`, () => {
    const { text, offset, analysis } = marked(c.source);
    const r = completionsAt(text, analysis, offset);
    const entries = r.items.map((i) => `${i.label}:${i.kind}`);
    if (c.exactly) assert.deepEqual(r.items.map((i) => i.label), c.exactly);
    for (const h of c.has ?? []) assert.ok(entries.includes(h), `missing ${h} in ${entries.join(' ')}`);
    for (const l of c.lacks ?? []) assert.ok(!entries.includes(l), `unexpected ${l}`);
    if (c.replaces !== undefined) assert.equal(text.slice(r.replace.start, r.replace.end), c.replaces);
  });
}

test('completion: layer kinds come as signature snippets; plain names before a written `(`', () => {
  const { text, offset, analysis } = marked(inModel('x = Atten$0'));
  const attention = completionsAt(text, analysis, offset).items.find((i) => i.label === 'Attention')!;
  assert.deepEqual([attention.insertText, attention.snippet, attention.detail?.startsWith('Attention(d, heads')], ['Attention(${1:d}, ${2:heads})$0', true, true]);
  const before = marked(inModel('x = Atten$0(d, heads: 2)'));
  const plain = completionsAt(before.text, before.analysis, before.offset).items.find((i) => i.label === 'Attention')!;
  assert.deepEqual([plain.insertText, plain.snippet], ['Attention', false]);
});

test('completion: a named argument inserts `name: ` and sorts before names', () => {
  const { text, offset, analysis } = marked(inModel('x = MLP(d, $0)'));
  const items = completionsAt(text, analysis, offset).items;
  const act = items.find((i) => i.label === 'act')!;
  assert.equal(act.insertText, 'act: ');
  const kinds: CompletionKind[] = [...items].sort((a, b) => (a.sortText < b.sortText ? -1 : 1)).map((i) => i.kind);
  assert.equal(kinds[0], 'argument');
});
