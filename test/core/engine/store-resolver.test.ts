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
