// The IR carries every fact its consumers need as a typed field, so nothing downstream (the
// exporter, the dashboard) parses display or source text back: layer arguments, the hash
// method, tie sources, head-share targets and counts, budget metrics.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile, type ModuleNode } from '../../../src/core/index.js';

const SPEC = `model M {
  d = 64
  block B {
    attn = Attention(d, heads: 4, kv_heads: 2)
    mlp = MLP(d, 4 * d)
  }
  embed = Embedding(1000, d)
  body = B * 4
  extra = B
  head = Linear(d, 1000) tied embed
  tie extra = body[2]
  share heads body.attn: pairs(3, qkvo: true)
}
variant H of M {
  hash body.mlp: rps(memory: 10_000)
}
budget M {
  kv(seq: 1K) <= 1GiB
}
`;

const firstLayer = (n: ModuleNode, kind: string): ModuleNode | undefined => {
  if (n.kind === 'layer') return n.layerKind === kind ? n : undefined;
  if (n.kind === 'block') for (const m of n.members) { const f = firstLayer(m.node, kind); if (f) return f; }
  if (n.kind === 'stack') for (const r of n.runs) { const f = firstLayer(r.node, kind); if (f) return f; }
  return undefined;
};

test('layer arguments are typed values, written ones over the kind defaults', () => {
  const c = compile(SPEC);
  assert.deepEqual(c.diagnostics.filter((d) => d.severity === 'error'), []);
  const attn = firstLayer(c.model('M')!.members.find((m) => m.name === 'body')!.node, 'Attention');
  assert.ok(attn && attn.kind === 'layer');
  assert.equal(attn.args.get('d'), 64);
  assert.equal(attn.args.get('heads'), 4);
  assert.equal(attn.args.get('kv_heads'), 2);
  assert.equal(attn.args.get('bias'), false); // the kind's default
  assert.equal(attn.args.get('window'), undefined); // none
});

test('ties record their resolved source; the hash its method; head sharing its target, n and qkvo', () => {
  const c = compile(SPEC);
  const m = c.model('M')!;
  const effects = m.sharing.modifiers.map((x) => x.effect);
  const main = effects.find((e) => e.kind === 'tie-main');
  assert.ok(main?.kind === 'tie-main' && main.source);
  assert.equal(main.source.key, 'embed');
  assert.equal(main.source.fansOut, false);
  const all = effects.find((e) => e.kind === 'tie-all');
  assert.ok(all?.kind === 'tie-all');
  assert.equal(all.targetKey, 'extra');
  assert.equal(all.source.key, 'body[2]');
  assert.deepEqual(all.source.pattern, [{ kind: 'name', name: 'body' }, { kind: 'index', index: 2 }]);

  const [h] = m.sharing.headShares;
  assert.ok(h);
  assert.equal(h.pairs, 3);
  assert.equal(h.qkvo, true);
  assert.equal(h.target.key, 'body.attn');
  assert.deepEqual(h.target.fanOut?.stackPattern, [{ kind: 'name', name: 'body' }]);
  // n · head_dim · (d_q + d_k + d_v + d_o) = 3 · 16 · (64 + 64 + 64 + 64).
  assert.equal(h.savedParams, 3n * 16n * 256n);

  const hash = c.model('H')!.sharing.modifiers.find((x) => x.effect.kind === 'hash')!.effect;
  assert.ok(hash.kind === 'hash');
  assert.equal(hash.method, 'rps');
  assert.equal(hash.memory, 10_000n);
});

test('a budget result names its metric', () => {
  const [b] = compile(SPEC).analysis().models[0]!.budgets;
  assert.equal(b?.metric, 'kv');
  assert.equal(b?.constraint, 'kv(seq: 1K) <= 1GiB');
});
