// The core's per-instance store resolver (what the exporter's initializers ask): which store a
// weight reads, its KV producer, its route. docs/language.md: `cycle(k)` gives instance i the
// store i mod k; `share kv STACK: every(g)` has the first of each g instances produce K/V and the
// rest read it; `tie a = b` makes every weight of a b's store.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile, kvProducerPath, modifiersFor, routeOf, storePath, type PathStep } from '../../../src/core/index.js';

const SPEC = `model M {
  d = 64
  block B {
    attn = Attention(d, heads: 4)
    mlp = MLP(d, 128)
  }
  body = B * 6
  extra = B
  tie extra = body[4]
  share body: cycle(2)
  share kv body: every(3)
  adapt body.mlp: lora(rank: 4)
}
`;

const at = (member: string, index: number | undefined, ...names: string[]): PathStep[] => [
  { kind: 'name', name: member },
  ...(index === undefined ? [] : [{ kind: 'index' as const, index }]),
  ...names.map((name) => ({ kind: 'name' as const, name })),
];

test('stores: cycle(2) maps instance i to slot i mod 2; a tied module reads its source’s store', () => {
  const c = compile(SPEC);
  assert.deepEqual(c.diagnostics.filter((d) => d.severity === 'error'), []);
  const m = c.model('M')!;
  const keys = [0, 1, 2, 3, 4, 5].map((i) => storePath(m, at('body', i, 'attn')));
  assert.deepEqual(keys, ['body[0].attn', 'body[1].attn', 'body[0].attn', 'body[1].attn', 'body[0].attn', 'body[1].attn']);
  // extra = body[4], whose store is slot 0.
  assert.equal(storePath(m, at('extra', undefined, 'mlp')), 'body[0].mlp');
});

test('KV producers: every(3) has instances 0 and 3 produce, the others read the first of their group', () => {
  const m = compile(SPEC).model('M')!;
  const producers = [0, 1, 2, 3, 4, 5].map((i) => {
    const p = kvProducerPath(m, at('body', i, 'attn'));
    return p === undefined ? i : (p[1] as { index: number }).index;
  });
  assert.deepEqual(producers, [0, 0, 0, 3, 3, 3]);
  assert.equal(routeOf(m, at('body', 0)), undefined);
});

test('modifiers: the adapter reaches every instance’s MLP weights and nothing in attention', () => {
  const m = compile(SPEC).model('M')!;
  const adapters = (steps: PathStep[], w: string) => modifiersFor(m, steps, w).filter((x) => x.effect.kind === 'adapter').length;
  for (const i of [0, 3, 5]) {
    assert.equal(adapters(at('body', i, 'mlp'), 'up'), 1);
    assert.equal(adapters(at('body', i, 'attn'), 'q'), 0);
  }
});

// The walk counts in closed form what the resolver answers per instance; both read one rule for
// which strategies an instance follows (`strategiesAt`: its indexed key, else its name key) and
// which instances a path names. Two cases that once diverged: a strategy declared through one
// instance (`share body[2].layers`) was not counted at all, and an instance a declaration
// isolates (`freeze body[2]`, `adapt body[1]…`) lost the strategies of its name key.
const NESTED = `model M {
  d = 64
  block Inner { ff = Linear(d, d) }
  block Outer { layers = Inner * 4 }
  body = Outer * 3
}
variant OneInstance of M { share body[2].layers: all }
variant Every of M { share body.layers: all }
variant Frozen of Every { freeze body[2] }
variant Adapted of Every { adapt body[1].layers.ff: lora(rank: 2) }
`;

test('nested stacks: counts follow the per-instance stores — a strategy through one instance, and instances a declaration isolates', () => {
  const c = compile(NESTED);
  assert.deepEqual(c.diagnostics.filter((d) => d.severity === 'error'), []);
  const ff = 64 * 64; // Linear(d, d) without bias: d·d weights per layer
  const report = c.analysis({});
  const stored = (name: string): bigint => report.models.find((m) => m.name === name)!.params.stored;
  const trainable = (name: string): bigint => report.models.find((m) => m.name === name)!.params.trainable;
  // M: 3 × 4 layers, each its own store.
  assert.equal(stored('M'), BigInt(12 * ff));
  // body[2]'s four layers read one store; the other eight keep theirs: 9 stores.
  assert.equal(stored('OneInstance'), BigInt(9 * ff));
  // Each outer instance's four layers read one store: 3 stores. Freezing body[2] stores nothing
  // more; it freezes one of the three.
  assert.equal(stored('Every'), BigInt(3 * ff));
  assert.equal(stored('Frozen'), BigInt(3 * ff));
  assert.equal(trainable('Frozen'), BigInt(2 * ff));
  // LoRA rank 2 on a 64×64 weight: 2·(64 + 64) = 256 params, one adapter per layer instance of
  // body[1] (4); adapters freeze the base, so only they train.
  assert.equal(stored('Adapted'), BigInt(3 * ff + 4 * 256));
  assert.equal(trainable('Adapted'), BigInt(4 * 256));

  // The resolver's distinct store keys are the walk's stores.
  for (const name of ['M', 'OneInstance', 'Every', 'Frozen', 'Adapted']) {
    const m = c.model(name)!;
    const keys = new Set<string>();
    for (let i = 0; i < 3; i++) for (let k = 0; k < 4; k++) keys.add(storePath(m, [...at('body', i, 'layers'), { kind: 'index', index: k }, { kind: 'name', name: 'ff' }], 'weight'));
    const ownStored = name === 'Adapted' ? stored(name) - BigInt(4 * 256) : stored(name);
    assert.equal(BigInt(keys.size * ff), ownStored, name);
  }
  const one = c.model('OneInstance')!;
  const key = (i: number, k: number): string => storePath(one, [...at('body', i, 'layers'), { kind: 'index', index: k }, { kind: 'name', name: 'ff' }], 'weight');
  assert.deepEqual([0, 1, 2, 3].map((k) => key(2, k)), ['body[2].layers[0].ff', 'body[2].layers[0].ff', 'body[2].layers[0].ff', 'body[2].layers[0].ff']);
  assert.deepEqual([0, 3].map((k) => key(1, k)), ['body[1].layers[0].ff', 'body[1].layers[3].ff']);
});

// An instance's own strategy replaces only its own kind: KV sharing declared through body[2]
// keeps the weight sharing written for every instance (it once dropped it, storing body[2]'s
// layers apart again).
test('nested stacks: a KV strategy through one instance keeps the weight sharing of every instance', () => {
  const c = compile(`model M {
  d = 64
  block Inner { attn = Attention(d, heads: 4) }
  block Outer { layers = Inner * 4 }
  body = Outer * 3
}
variant Every of M { share body.layers: all }
variant Mixed of Every { share kv body[2].layers: every(2) }
`);
  assert.deepEqual(c.diagnostics.filter((d) => d.severity === 'error'), []);
  const report = c.analysis({ seq: 16, batch: 1, dtype: 'bf16' });
  const model = (name: string) => report.models.find((m) => m.name === name)!;
  const attn = 4 * 64 * 64; // q, k, v, o: d·d each, no biases
  // One store per outer instance (its four layers share it), KV sharing or not: the store keeps K
  // and V because body[2]'s producers use them.
  assert.equal(model('Every').params.stored, BigInt(3 * attn));
  assert.equal(model('Mixed').params.stored, BigInt(3 * attn));
  // KV: each caching layer keeps K and V, 2·d elements per token in bf16 (2 bytes) over 16 tokens:
  // the 8 layers of body[0] and body[1], and body[2]'s 2 producers of every(2).
  const perLayer = 2 * 64 * 16 * 2;
  assert.equal(model('Every').kvCacheBytes, BigInt(12 * perLayer));
  assert.equal(model('Mixed').kvCacheBytes, BigInt(10 * perLayer));
});
