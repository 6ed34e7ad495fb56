// Ties are decided once, by the core's store resolver (`tiedWeight`, `weightStoreKey`): the
// exporter's initializers and the walk's stored count both ask it. docs/language.md: `x = L(…)
// tied y` makes x's main weight y's store (an LM head tied to the embedding reads its table
// transposed), a block member's `tied SIBLING` the sibling's, and `tie a = b` every weight of a
// b's. These tests fail when a consumer decides a tie on its own: the exporter's initializer
// names must be the resolver's keys, and the walk's stored count their elements.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile, modifiersFor, pathText, tiedWeight, weightStoreKey, type CompiledModel, type LayerNode, type ModelMember, type ModuleNode, type PathStep } from '../../src/core/index.js';
import { ExportError } from '../../kernels/engine-bridge.js';
import { exportModel } from '../../kernels/export.js';
import type { WeightFill } from '../../kernels/graph-builder.js';
import { runSynthetic } from './helpers.js';

/** Every layer instance of a model with its concrete path (stacks instance by instance). */
function* layerInstances(members: readonly ModelMember[]): Generator<{ readonly steps: PathStep[]; readonly node: LayerNode }> {
  function* under(node: ModuleNode, steps: PathStep[]): Generator<{ readonly steps: PathStep[]; readonly node: LayerNode }> {
    if (node.kind === 'layer') yield { steps, node };
    else if (node.kind === 'block') for (const m of node.members) yield* under(m.node, [...steps, { kind: 'name', name: m.name }]);
    else {
      let index = 0;
      for (const run of node.runs) for (let k = 0n; k < run.count; k++, index++) yield* under(run.node, [...steps, { kind: 'index', index }]);
    }
  }
  for (const m of members) yield* under(m.node, [{ kind: 'name', name: m.name }]);
}

/** Stores of no bytes: the tests read names and element counts, never values. */
const noValues: WeightFill = () => new Uint8Array(0);

const TIES = `model Ties {
  vocab = 61
  d = 16
  block B {
    up = Linear(d, 2 * d)
    down = Linear(2 * d, d) tied up
  }
  embed = Embedding(vocab, d)
  body = B * 4
  extra = B
  a = Linear(d, d)
  b = Linear(d, d) tied a
  c = Linear(d, d) tied b
  lm_head = Linear(d, vocab) tied embed
  share body: cycle(2)
  tie extra = body[1]
}
`;

test('every kind of tie: the resolver’s keys are the exporter’s initializers, and their elements the walk’s stored count', async () => {
  const c = compile(TIES);
  assert.deepEqual(c.diagnostics.filter((d) => d.severity === 'error'), []);
  const model = c.model('Ties')!;
  const stored = c.analysis({}).models.find((m) => m.name === 'Ties')!.params.stored;
  // Written out: the table 61·16 = 976; body's two stores of B (cycle(2)), each its up 32·16 = 512
  // (down is up's, transposed); extra is body[1]'s store; a 16·16 = 256, b and c a's (c through
  // b); the head is the table, transposed.
  assert.equal(stored, 976n + 2n * 512n + 256n);

  const key = (path: string, weight = 'weight'): string => {
    for (const { steps, node } of layerInstances(model.members)) if (pathText(steps) === path) return weightStoreKey(model, steps, node, node.cost.weights.find((w) => w.name === weight)!);
    throw new Error(`no layer ${path}`);
  };
  assert.equal(key('lm_head'), 'embed.weight');
  assert.equal(key('c'), 'a.weight');
  assert.equal(key('body[3].down'), 'body[1].up.weight');
  assert.equal(key('body[2].down'), 'body[0].up.weight');
  assert.equal(key('extra.down'), 'body[1].up.weight');
  assert.equal(key('extra.up'), 'body[1].up.weight');

  // The resolver's distinct keys, with their elements: what the walk stores.
  const keys = new Map<string, bigint>();
  for (const { steps, node } of layerInstances(model.members)) {
    for (const w of node.cost.weights) keys.set(weightStoreKey(model, steps, node, w), w.shape.reduce((p, x) => p * BigInt(x), 1n) * BigInt(w.copies));
  }
  assert.equal([...keys.values()].reduce((p, x) => p + x, 0n), stored);

  // The exporter reads exactly those stores, and the graph runs.
  const exported = exportModel(TIES, 'Ties');
  assert.deepEqual(exported.spec.graph.initializers.map((i) => i.name).filter((n) => !n.startsWith('cache')).sort(), [...keys.keys()].sort());
  assert.equal(exported.initializerElements, stored);
  const y = await runSynthetic(exported, 2, 5);
  assert.ok(y.every(Number.isFinite));
});

test('a tie through a stack that fans out is refused by the exporter by name; the resolver says so', () => {
  const text = `model M {
  d = 16
  block B { ff = Linear(d, d) }
  embed = Embedding(61, d)
  body = B * 3
  head = Linear(d, d) tied body.ff
}
`;
  const c = compile(text);
  assert.deepEqual(c.diagnostics.filter((d) => d.severity === 'error'), []);
  const model = c.model('M')!;
  const head = [...layerInstances(model.members)].find((l) => pathText(l.steps) === 'head')!;
  const tied = tiedWeight(model, head.steps, head.node, head.node.cost.weights[0]!);
  assert.equal(tied?.fansOut, true);
  assert.equal(tied?.weight, 'weight');
  assert.throws(() => exportModel(text, 'M'), (e: unknown) => e instanceof ExportError && /'head' is tied to 'body.ff', which fans out over a stack; index one instance/.test(e.message));
});

// The gallery's tied models: for every tied weight the resolver answers, the exporter reads the
// resolver's store and never the weight's own; the initializers hold params.stored elements.
test('gallery models with ties: each tied weight reads the resolver’s store in the export; initializers = params.stored', () => {
  const dir = join(__dirname, '..', '..', 'examples');
  let checked = 0;
  const tiedSeen = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.npas'))) {
    const text = readFileSync(join(dir, file), 'utf8');
    if (!/\btied\b|^\s*tie\s/m.test(text)) continue;
    const c = compile(text);
    const report = c.analysis({});
    for (const r of report.models) {
      const model: CompiledModel = c.model(r.name)!;
      const tied: { own: string; store: string }[] = [];
      let instances = 0;
      for (const { steps, node } of layerInstances(model.members)) {
        if (++instances > 20_000) break;
        for (const w of node.cost.weights) {
          const byTie = tiedWeight(model, steps, node, w) !== undefined || modifiersFor(model, steps, w.name).some((m) => m.effect.kind === 'tie-all');
          if (byTie) tied.push({ own: `${pathText(steps)}.${w.name}`, store: weightStoreKey(model, steps, node, w) });
        }
      }
      if (tied.length === 0) continue;
      let exported;
      try {
        exported = exportModel(c, r.name, { fill: noValues });
      } catch (e) {
        if (e instanceof ExportError && e.reason === 'unsupported') continue;
        throw e;
      }
      const names = new Set(exported.spec.graph.initializers.map((i) => i.name));
      for (const t of tied) {
        assert.ok(names.has(t.store), `${file} ${r.name}: ${t.own} reads ${t.store}, not an initializer`);
        if (t.own !== t.store) assert.ok(!names.has(t.own), `${file} ${r.name}: ${t.own} is tied but stored on its own`);
        tiedSeen.add(`${file} ${r.name} ${t.own}`);
      }
      assert.equal(exported.initializerElements, r.params.stored, `${file} ${r.name}`);
      checked++;
    }
  }
  // The gallery's tied heads (GPT-3 µP, Mamba, MoR, ParScale, HyperFormer, …) are exported.
  assert.ok(checked >= 8, `${checked} tied gallery models exported`);
  assert.ok(tiedSeen.size >= checked);
});

// Chains longer than the resolver's old hop limits (64 `tied` links; 8 `tie a = b` links) exported a
// store per cut-off link: 448 and 256 initializer elements against 64 stored.
test('long chains of ties: 70 `tied` links and 12 `tie a = b` links each read one store', () => {
  let tied = 'model Chain {\n  d = 8\n  l0 = Linear(d, d, bias: false)\n';
  for (let i = 1; i <= 70; i++) tied += `  l${i} = Linear(d, d, bias: false) tied l${i - 1}\n`;
  let all = 'model TieChain {\n  d = 8\n  block B {\n    up = Linear(d, d, bias: false)\n  }\n';
  for (let i = 0; i < 12; i++) all += `  m${i} = B\n`;
  for (let i = 1; i < 12; i++) all += `  tie m${i} = m${i - 1}\n`;
  for (const [text, name] of [[`${tied}}\n`, 'Chain'], [`${all}}\n`, 'TieChain']] as const) {
    const c = compile(text);
    assert.deepEqual(c.diagnostics.filter((d) => d.severity === 'error'), []);
    // One 8×8 store, by hand.
    assert.equal(c.analysis({}).models.find((m) => m.name === name)!.params.stored, 64n);
    const exported = exportModel(text, name, { fill: noValues });
    assert.equal(exported.initializerElements, 64n, name);
  }
});
