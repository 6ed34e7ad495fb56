// The dashboard's pure half: the sharing structure the engine resolves (which instances read
// which store, KV producers, MoE experts), the dashboard data's numbers (equal to the report),
// and the architecture layout (deterministic, stable under edits that keep the structure).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { analyze, compile, dashboardData, layoutArchitecture, sharingStructure, defaultCollapsed, EXPAND_LIMIT } from '../../../src/core/index.js';

const example = (name: string): string => readFileSync(new URL(`../../../examples/${name}.npas`, `file://${__filename}`), 'utf8');

describe('sharing structure', () => {
  it('Relaxed Recursive Gemma: cycle(9) gives 9 stores read by instance i mod 9, the head reads the embedding, LoRA relaxes every instance', () => {
    const s = sharingStructure(example('relaxed-recursive-gemma')).get('RelaxedRecursiveGemma')!;
    const slots = s.stores.filter((x) => x.kind === 'slot');
    assert.equal(slots.length, 9);
    for (let i = 0; i < 18; i++) {
      const r = s.reads.filter((x) => x.member === 'body' && x.index === i);
      assert.deepEqual(r.map((x) => x.store), [`slot:body:${i % 9}`]);
    }
    const tie = s.stores.find((x) => x.kind === 'tie')!;
    assert.equal(tie.id, 'tie:embed');
    assert.deepEqual(s.reads.filter((x) => x.store === tie.id).map((x) => x.member).sort(), ['embed', 'lm_head']);
    assert.ok(s.notes.some((n) => n.kind === 'adapter' && n.member === 'body' && /LoRA r=64/.test(n.label)));
    assert.equal(s.kv.length, 0);
    const base = sharingStructure(example('relaxed-recursive-gemma')).get('Gemma2B')!;
    assert.equal(base.stores.filter((x) => x.kind === 'slot').length, 0);
  });

  it('LBDN sandwich layers: each member notes that its layers share A and Ψ with the next (the paper\'s 2·B_{k+1}·A_kᵀ)', () => {
    const s = sharingStructure(example('lbdn-sandwich'));
    const notes = (model: string): string[][] => s.get(model)!.notes.filter((n) => n.kind === 'neighbours').map((n) => [n.member, n.label]);
    // ToySandwich: first, 8 body layers, and the last layer (B h + b, no A or Ψ of its own).
    assert.deepEqual(notes('ToySandwich'), [
      ['first', 'sandwich: A, Ψ shared with the next layer (2·B_{k+1}·A_kᵀ)'],
      ['body', 'sandwich: A, Ψ shared with the next layer (2·B_{k+1}·A_kᵀ), ×8 layers'],
      ['out', 'sandwich: B meets the previous layer’s A'],
    ]);
    // Convolutional sandwiches too; the Flatten between them shares nothing; plain layers note nothing.
    assert.deepEqual(notes('KWLSmallSandwich').map(([m]) => m), ['conv1', 'conv2', 'conv3', 'conv4', 'fc1', 'fc2', 'out']);
    assert.deepEqual(notes('ToyPlain'), []);
  });

  it('many ties to distinct sources: each store read by its source once and by its tie, in time linear in the ties', () => {
    // Issue 12: the check "is the source already listed as a reader of this store?" scanned every
    // read so far, so 2,000 ties to distinct sources took 0.4 s and 16,000 over two minutes.
    const spec = (n: number): string => {
      let s = 'model M {\n';
      for (let i = 0; i < n; i++) s += `  a${i} = Linear(4, 4)\n  b${i} = Linear(4, 4) tied a${i}\n`;
      return `${s}}\n`;
    };
    const timedStructure = (n: number): { ms: number; s: ReturnType<typeof sharingStructure> } => {
      const compilation = compile(spec(n));
      const t0 = performance.now();
      const s = sharingStructure(compilation);
      return { ms: performance.now() - t0, s };
    };
    const small = timedStructure(1_000);
    const large = timedStructure(8_000);
    const m = large.s.get('M')!;
    assert.equal(m.stores.filter((x) => x.kind === 'tie').length, 8_000);
    assert.deepEqual(m.reads.filter((x) => x.store === 'tie:a7').map((x) => x.member), ['a7', 'b7']);
    assert.equal(m.reads.length, 16_000);
    // 8× the ties: linear is about ×8, quadratic ×64.
    assert.ok(large.ms < 24 * Math.max(small.ms, 5), `${small.ms.toFixed(0)} ms → ${large.ms.toFixed(0)} ms for 8× the ties`);
  });

  it('factorize: a note on each factorised member; an MPO central tensor shared across layers is one store every instance reads', () => {
    const s = sharingStructure(`model F {
  block L { lin = Linear(64, 64) }
  body = L * 3
  head = Linear(64, 10)
  factorize body: mpo(rank: 4, cores: 3)
  factorize head: fedpara(rank: 2)
}
`).get('F')!;
    // The label says which execution is counted. body: 64×64 as 4·4·4 × 4·4·4 at rank 4 applies
    // its cores in 16·64 + 16·256 + 16·64 = 6144 MACs per token, more than the dense 64·64 = 4096:
    // W is materialised. head: FedPara R = 2 on 10×64 applies (X₁ • X₂)(Y₁ • Y₂)ᵀ in
    // R²·(10 + 64) = 296 MACs per token (and as many once per step), below the dense 640 and the
    // 640·(2R + 1) = 3200 of materialising W: the factors are applied.
    assert.deepEqual(s.notes.filter((n) => n.kind === 'factorize').map((n) => [n.member, n.label]), [
      ['body', 'MPO 3 cores r=4, central shared across layers, W materialised'],
      ['head', 'FedPara R=2, factors applied'],
    ]);
    const central = s.stores.filter((x) => x.kind === 'factor');
    assert.equal(central.length, 1);
    assert.deepEqual(s.reads.filter((r) => r.store === central[0]!.id).map((r) => r.member), ['body']);
  });

  it('factorize under a sparse mask: the note says W is materialised because of the mask (the typed materialisedBecause)', () => {
    const s = sharingStructure(`model F {
  a    = Linear(64, 64)
  b    = Linear(64, 64)
  factorize a: fedpara(rank: 2)
  factorize b: fedpara(rank: 2)
  adapt b: sparse(elements: 16)
}
`).get('F')!;
    // FedPara R = 2 on 64×64: R²(m + n) = 512 MACs per token against 4096, so a applies its
    // factors; b's FISH mask writes entries of W, so W must exist: materialised whatever the costs.
    assert.deepEqual(s.notes.filter((n) => n.kind === 'factorize').map((n) => [n.member, n.label]), [
      ['a', 'FedPara R=2, factors applied'],
      ['b', 'FedPara R=2, W materialised (sparse mask)'],
    ]);
  });

  it('CLA: share kv every(2) makes even instances produce and odd ones read the previous cache', () => {
    const s = sharingStructure(example('cla-mlkv')).get('Llama3_8B_CLA2')!;
    assert.equal(s.kv.length, 1);
    assert.equal(s.kv[0]!.member, 'body');
    assert.deepEqual(s.kv[0]!.producerOf.slice(0, 6), [0, 0, 2, 2, 4, 4]);
    assert.equal(s.kv[0]!.producerOf.length, 32);
  });

  it('MoEUT: two stores cycled over 18 layers, experts active/total per MoE layer', () => {
    const s = sharingStructure(example('moeut')).get('MoEUT244M')!;
    assert.deepEqual(s.stores.map((x) => x.id), ['slot:body:0', 'slot:body:1']);
    const body = s.members.find((m) => m.name === 'body')!;
    assert.equal(body.length, '18');
    assert.deepEqual(body.runs[0]!.moe, [
      { path: 'vo_experts', experts: 36, active: 4 },
      { path: 'ffn', experts: 387, active: 16 },
    ]);
  });

  it('members written out one per line: each names its own MoE paths, and members of the same node read alike', () => {
    // A layer member's MoE path is the member's name; a block member's is the member, then the path inside it.
    const s = sharingStructure('model W {\n  block B {\n    n = RMSNorm(16)\n    ffn = MoE(16, 24, experts: 6, top_k: 2)\n  }\n  embed = Embedding(61, 16)\n  a = B\n  b = B\n  m1 = MoE(16, 24, experts: 4, top_k: 1)\n  m2 = MoE(16, 24, experts: 4, top_k: 1)\n  n1 = RMSNorm(16)\n  n2 = RMSNorm(16)\n  s = B * 3\n}\n').get('W')!;
    const member = (name: string) => s.members.find((m) => m.name === name)!;
    assert.deepEqual(member('a').runs[0]!.moe, [{ path: 'a.ffn', experts: 6, active: 2 }]);
    assert.deepEqual(member('b').runs[0]!.moe, [{ path: 'b.ffn', experts: 6, active: 2 }]);
    assert.deepEqual(member('m1').runs[0]!.moe, [{ path: 'm1', experts: 4, active: 1 }]);
    assert.deepEqual(member('m2').runs[0]!.moe, [{ path: 'm2', experts: 4, active: 1 }]);
    // A stack's instances: the path inside one instance.
    assert.deepEqual(member('s').runs, [{ type: 'B', count: '3', firstIndex: '0', moe: [{ path: 'ffn', experts: 6, active: 2 }], kv: false, classes: ['experts'] }]);
    assert.deepEqual(member('n1'), { name: 'n1', kind: 'layer', type: 'RMSNorm', length: '1', runs: [{ type: 'RMSNorm', count: '1', firstIndex: '0', moe: [], kv: false, classes: [] }], range: member('n1').range });
    assert.deepEqual(member('n2').runs, member('n1').runs);
    assert.deepEqual(member('a').type, 'B');
  });

  it('WideNet: attention and experts shared across layers as sub-path stores, norms per layer', () => {
    const s = sharingStructure(example('widenet')).get('WideNetB')!;
    assert.deepEqual(s.stores.map((x) => x.label).sort(), ['body.attn #0', 'body.moe #0']);
    const attnReads = s.reads.filter((r) => r.store === 'slot:body.attn:0');
    assert.equal(attnReads.length, 12);
    assert.ok(attnReads.every((r) => r.sub === 'attn'));
  });

  it('SSN WRN: the template bank is one store generating the adapted convolutions', () => {
    const s = sharingStructure(example('ssn-wrn-28-10')).get('WRN28_10_SSN10')!;
    const bank = s.stores.find((x) => x.kind === 'bank')!;
    assert.ok(bank, 'bank store');
    assert.ok(s.reads.filter((r) => r.store === bank.id).length >= 1);
  });

  it('notes FISH\'s pooled mask on every member it covers, and none on the classifier it leaves trainable', () => {
    const s = sharingStructure(example('fish-mask')).get('FishMask')!;
    const notes = s.notes.filter((n) => n.kind === 'train').map((n) => [n.member, n.label]);
    const label = 'sparse mask: 1673669 elements of the pool trained';
    assert.deepEqual(notes.filter(([member]) => member !== 'body'), ['word', 'position', 'segment', 'emb_norm', 'pooler'].map((m) => [m, label]));
    assert.ok(notes.some(([member, l]) => member === 'body' && l === label));
    assert.ok(!notes.some(([member]) => member === 'classifier'));
  });

  it('notes hypernetwork-generated adapters on the members they adapt (HyperFormer++)', () => {
    const s = sharingStructure(example('hyperformer')).get('HyperFormerPP')!;
    const adapters = s.notes.filter((n) => n.kind === 'adapter').map((n) => [n.member, n.label]);
    assert.ok(adapters.length > 0);
    assert.ok(adapters.every(([, label]) => /^hypernetwork-generated adapter r=24/.test(label!)), JSON.stringify(adapters));
    assert.deepEqual([...new Set(adapters.map(([member]) => member))], ['encoder', 'decoder']);
  });

  it('draws the Hyper-Adapters example: the one hyper-network noted on the encoder\'s and the decoder\'s FFNs, each stack from its first layer embedding', () => {
    const text = example('hyper-adapters');
    const notes = (model: string) => sharingStructure(text).get(model)!.notes.filter((n) => n.kind === 'adapter').map((n) => [n.member, n.label]);
    assert.deepEqual(notes('HyperAdapters'), [
      ['encoder', 'Hyper-Adapter r=128, 52 languages, layer 0+ on ff'],
      ['decoder', 'Hyper-Adapter r=128, 52 languages, layer 6+ on ff'],
    ]);
    assert.deepEqual(notes('HyperAdaptersPostNorm').map(([, label]) => label), [
      'Hyper-Adapter r=128, 52 languages, layer 0+, post-norm on ff',
      'Hyper-Adapter r=128, 52 languages, layer 6+, post-norm on ff',
    ]);
    assert.deepEqual(notes('LanguageAdapters'), [
      ['encoder', 'bottleneck adapter r=128, per task ×52 on ff'],
      ['decoder', 'bottleneck adapter r=128, per task ×52 on ff'],
    ]);
    assert.deepEqual(notes('MultilingualTransformer'), []);
    // The dashboard's payload and layout hold every model of the file.
    const d = dashboardData(text, {}, { source: 'hyper-adapters.npas', sweep: false });
    assert.deepEqual(d.models.map((m) => m.name), ['MultilingualTransformer', 'HyperAdapters', 'LanguageAdapters', 'HyperAdaptersPostNorm']);
    for (const m of d.models) assert.ok(layoutArchitecture(m, { collapsed: [] }).nodes.length > 0, m.name);
  });

  it('expert pools across layers (Megrez2): each pool one store of the routed experts, read by its layers, routers per layer', () => {
    const s = sharingStructure('model P {\n  block B {\n    n = RMSNorm(16)\n    moe = MoE(16, 24, experts: 6, top_k: 2)\n  }\n  embed = Embedding(61, 16)\n  body = B * 4\n  share experts body.moe: sequence(2)\n}\n').get('P')!;
    assert.deepEqual(s.stores.map((x) => x.label), ['body.moe.experts pool #0: 6 experts, routers per layer', 'body.moe.experts pool #1: 6 experts, routers per layer']);
    // sequence(2) over 4 layers: layers 0, 1 read pool 0 and layers 2, 3 pool 1.
    assert.deepEqual(
      s.reads.filter((r) => r.member === 'body').map((r) => [r.index, r.store, r.sub]),
      [0, 1, 2, 3].map((i) => [i, s.stores[i < 2 ? 0 : 1]!.id, 'moe']),
    );
  });

  it('parameter-efficient Conformer: 4 group stores of attention and convolutions, 4 expert pools per feed-forward, routers and norms per block', () => {
    const s = sharingStructure(example('conformer-shared-experts')).get('ConformerSharedMoE')!;
    const pools = (ff: string) => [0, 1, 2, 3].map((g) => `body.${ff}.experts pool #${g}: 8 experts, routers per layer`);
    const groupStores = ['attn', 'conv_in', 'conv_dw', 'conv_out'].flatMap((m) => [0, 1, 2, 3].map((g) => `body.${m} #${g}`));
    assert.deepEqual(s.stores.map((x) => x.label).sort(), [...groupStores, ...pools('ff1'), ...pools('ff2')].sort());
    // sequence(4) over 12 blocks: block i reads group ⌊i/3⌋, for its experts as for its attention.
    for (const sub of ['attn', 'ff2']) {
      const reads = s.reads.filter((r) => r.member === 'body' && r.sub === sub);
      assert.deepEqual(reads.map((r) => r.index), [...Array(12).keys()], sub);
      for (const r of reads) assert.equal(s.stores.find((x) => x.id === r.store)!.label.includes(`#${Math.floor(r.index! / 3)}`), true, `${sub}[${r.index}]`);
    }
    // No store for a norm or a router: they stay with each block (the pools say so).
    assert.ok(!s.stores.some((x) => /^body\.(\w*norm|conv_bn|ff\d\.router)/.test(x.label)));
    const plain = sharingStructure(example('conformer-shared-experts')).get('ConformerMoE')!;
    assert.equal(plain.stores.length, 0);
  });

  it('notes each task-aware adapter with its method and, per task, the tasks (poly, sparse masks, TAPS deltas, ScaLearn, PSRP)', () => {
    const labels = (adapt: string) =>
      sharingStructure(`model M {\n  block B { a = Attention(16, 2) }\n  embed = Embedding(61, 16)\n  body = B * 2\n  ${adapt}\n}\n`)
        .get('M')!
        .notes.filter((n) => n.kind === 'adapter')
        .map((n) => n.label);
    assert.deepEqual(labels('adapt body.a: poly(rank: 2, skills: 4, tasks: 3, targets: [q])'), ['Poly r=2 ×4 skills, per task ×3 on a']);
    assert.deepEqual(labels('adapt body.a: sparse(elements: 10, targets: [q])'), ['sparse mask k=10 on a']);
    assert.deepEqual(labels('adapt body[1].a: delta(tasks: 5, merged: true)'), ['full-rank delta, per task ×5 on a']);
    assert.deepEqual(labels('adapt body[1].a: delta(tasks: 5, for_tasks: [3, 0], merged: true)'), ['full-rank delta, tasks 0, 3 of 5 on a']);
    assert.deepEqual(labels('adapt body[1].a: delta(tasks: 5, for_tasks: [2], merged: true)'), ['full-rank delta, task 2 of 5 on a']);
    assert.deepEqual(labels('adapt body.a: psrp(rank: 4, targets: [o])'), ['PSRP r=4 on a']);
    assert.deepEqual(labels('adapt body.a: scalearn(bottleneck: 4, tasks: 3, targets: [o])'), ['ScaLearn ×3 sources r=4, per task ×3 on a']);
    assert.deepEqual(labels('adapt body.a: scalearn(bottleneck: 4, sources: 5, scaling: scalar, shared: true, targets: [o])'), ['ScaLearnUniform++ ×5 sources r=4 on a']);
    assert.deepEqual(labels('adapt body.a: arrow(rank: 4, experts: 256, top_k: 4, targets: [q, k, v], shared_a: [q, k, v])'), ['Arrow library r=4 ×256 LoRAs, top-4, shared A q/k/v on a']);
    assert.deepEqual(labels('adapt body.a: hyper_lang(bottleneck: 4, languages: 3, embedding: 2, hidden: 4, encoder_layers: 1, targets: [o])'), ['Hyper-Adapter r=4, 3 languages, layer 0+ on a']);
    assert.deepEqual(labels('adapt body.a: hyper_lang(bottleneck: 4, languages: 3, embedding: 2, hidden: 4, encoder_layers: 1, post_norm: true, targets: [o])'), ['Hyper-Adapter r=4, 3 languages, layer 0+, post-norm on a']);
  });

  it('notes the Polytropon example\'s inventories on both stacks, Multi-Head Routing with its heads', () => {
    const adapters = (model: string) => sharingStructure(example('polytropon')).get(model)!.notes.filter((n) => n.kind === 'adapter').map((n) => [n.member, n.label]);
    const on = (label: string) => [
      ['encoder', `${label} on attn.q`], ['encoder', `${label} on attn.v`],
      ['decoder', `${label} on self.q`], ['decoder', `${label} on self.v`],
      ['decoder', `${label} on cross.q`], ['decoder', `${label} on cross.v`],
    ];
    assert.deepEqual(adapters('MultiHeadRouting'), on('Poly r=8 ×2 skills ×4 heads, per task ×4'));
    assert.deepEqual(adapters('Polytropon'), on('Poly r=8 ×2 skills, per task ×4'));
    assert.deepEqual(adapters('FlanT5XL'), []);
  });

  it('notes the statements read after the walk: parallel streams and workers, halting, token smashing', () => {
    const notes = (file: string, model: string) => sharingStructure(example(file)).get(model)!.notes.filter((n) => n.kind === 'parallel' || n.kind === 'halt' || n.kind === 'smash').map((n) => [n.kind, n.member, n.label]);
    // ParScale-P8 merges before lm_head: every member before it runs per stream.
    assert.deepEqual(notes('parscale', 'ParScale1_8B_P8'), [
      ['parallel', 'embed', '×8 streams, 48 prefix tokens each'],
      ['parallel', 'body', '×8 streams, 48 prefix tokens each'],
      ['parallel', 'norm', '×8 streams, 48 prefix tokens each'],
      ['parallel', 'lm_head', '8 streams merged (mlp)'],
    ]);
    assert.ok(notes('parscale', 'Hogwild4').every(([, , label]) => label === '×4 workers, one KV cache'));
    // The Hogwild! example: every member runs per worker over the one cache.
    assert.deepEqual(notes('hogwild', 'HogwildQwQ32B_2'), ['embed', 'body', 'norm', 'lm_head'].map((m) => ['parallel', m, '×2 workers, one KV cache']));
    assert.deepEqual(notes('hogwild', 'QwQ32B'), []);
    assert.deepEqual(notes('hamburger', 'HAMburger1B'), [
      ['smash', 'merge_query', 'smashed: 2 tokens per KV entry'],
      ['smash', 'body', 'smashed: 2 tokens per KV entry'],
      ['smash', 'norm', 'smashed: 2 tokens per KV entry'],
    ]);
    const halted = sharingStructure('model U {\n  d = 64\n  block B { a = Attention(d, 4) }\n  body = B * 6\n  share body: all\n  route body: halt(expected_depth: 5/2)\n}\n').get('U')!;
    assert.deepEqual(halted.notes.filter((n) => n.kind === 'halt').map((n) => n.label), ['halting: expected depth 2.5 of 6 steps']);
  });

  it('never throws, and a broken spec gives no structure for what cannot be evaluated', () => {
    assert.doesNotThrow(() => sharingStructure('model M { x = Linear(1, }'));
    assert.doesNotThrow(() => sharingStructure('}}}{{{ share share'));
  });
});

describe('dashboard data', () => {
  it('carries the report numbers exactly (as decimal strings), per model and per tree node', () => {
    const text = example('deepseek-v2');
    const r = analyze(text);
    const d = dashboardData(text, {}, { source: 'deepseek-v2.npas' });
    assert.equal(d.models.length, r.models.length);
    r.models.forEach((m, i) => {
      const dm = d.models[i]!;
      assert.equal(dm.params.stored, String(m.params.stored));
      assert.equal(dm.params.active, String(m.params.active));
      assert.equal(dm.kvCacheBytes, String(m.kvCacheBytes));
      assert.equal(dm.memory.inferenceBytes, String(m.memory.inferenceBytes));
      assert.equal(dm.tree.children[1]!.params.effective, String(m.tree.children[1]!.params.effective));
    });
    assert.equal(d.diagnostics.errors, 0);
    assert.doesNotThrow(() => JSON.stringify(d));
  });

  it('carries the shared-cache examples: Hogwild! workers, and the DPO pair\'s shared prompt with its budgets', () => {
    const hog = dashboardData(example('hogwild'), { seq: 8192 }, { source: 'hogwild.npas', sweep: false }).models.find((m) => m.name === 'HogwildQwQ32B_2')!;
    assert.deepEqual(hog.parallel, { streams: 2, cache: 'shared' });
    // Capybara's pair: a 712-token prompt and two responses of 1160 − 712 = 448 tokens.
    const dpo = dashboardData(example('dpo-prefix-sharing'), { seq: 1160, sharedPrefix: { tokens: 712, continuations: 2 } }, { source: 'dpo-prefix-sharing.npas', sweep: false }).models[0]!;
    assert.equal(dpo.sharedPrefix?.computedTokens, 712 + 2 * 448);
    assert.equal(dpo.sharedPrefix?.unsharedTokens, 2 * 1160);
    // Every constraint keeps its own shared_prefix: 13 results (stored, then each dataset shared and apart), all met.
    assert.equal(dpo.budgets.length, 13);
    assert.ok(dpo.budgets.every((b) => b.ok));
    assert.deepEqual(dpo.budgets.slice(1, 3).map((b) => b.constraint), ['flops.train(seq: 1160, shared_prefix: round(1160 * 1.59 / 2.59)) <= 31G', 'flops.train(seq: 1160, shared_prefix: 0) <= 45G']);
  });

  it('sweeps KV and memory over sequence length; the analysed length matches the report', () => {
    const text = example('cla-mlkv');
    const d = dashboardData(text, { seq: 3000 }, { source: 'x' });
    const m = d.models[0]!;
    const at = m.sweep.find((p) => p.seq === 3000)!;
    assert.equal(at.kvCacheBytes, m.kvCacheBytes);
    const seqs = m.sweep.map((p) => p.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
    // KV grows with the sequence for full attention.
    assert.ok(BigInt(m.sweep[m.sweep.length - 1]!.kvCacheBytes) > BigInt(m.sweep[0]!.kvCacheBytes));
    const r = analyze(text, { seq: 65536 });
    assert.equal(m.sweep.find((p) => p.seq === 65536)!.kvCacheBytes, String(r.models[0]!.kvCacheBytes));
  });

  it('reports spec errors instead of throwing', () => {
    const d = dashboardData('model M { x = Linear(4, ) }', {}, { source: 'bad.npas' });
    assert.ok(d.diagnostics.errors > 0);
  });
});

describe('architecture layout', () => {
  it('a stack of 999,999,999² instances is drawn as one run with its exact count, never row by row, even when asked to expand', () => {
    const src = 'model M { body = (RMSNorm(1) * 999999999) * 999999999 }\n';
    const model = dashboardData(src, {}, { source: 'exact', sweep: false }).models[0]!;
    const n = 999_999_999n * 999_999_999n;
    assert.equal(model.tree.children[0]!.count, n.toString());
    const l = layoutArchitecture(model, { collapsed: [] });
    const group = l.nodes.find((x) => x.id === 'g:body')!;
    assert.deepEqual([group.count, group.collapsible, group.collapsed], [n.toString(), false, true]);
    const runs = l.nodes.filter((x) => x.kind === 'run');
    assert.deepEqual(runs.map((r) => [r.label, r.index, r.count]), [[`body[0..${n - 1n}] ×${n}`, '0', n.toString()]]);
  });

  it('PERFT (examples/perft.npas): the routed units beside the frozen MoE, a unit inside each expert, what is frozen and what trains', () => {
    const d = dashboardData(example('perft'), {}, { source: 'perft', sweep: false });
    const draw = (name: string) => layoutArchitecture(d.models.find((m) => m.name === name)!).nodes;
    const layer = (name: string) => draw(name).find((n) => n.id === 'i:body:0')!.moe;
    const body = (name: string) => draw(name).find((n) => n.id === 'g:body')!.notes;
    // PERFT-R: OLMoE's 8 of 64 experts and the 2 of 4 routed units, each MoE on its own line.
    assert.deepEqual(layer('PERFT_R'), ['moe: 8/64 experts', 'perft: 2/4 experts']);
    assert.deepEqual(body('PERFT_R'), ['frozen', 'trained: perft']);
    // PERFT-E: the units ride with the experts, drawn on the frozen MoE's line.
    assert.deepEqual(layer('PERFT_E'), ['moe: 8/64 experts, a rank-16 unit in each']);
    assert.deepEqual(body('PERFT_E'), ['frozen', 'trained: moe.expert_adapter_down', 'trained: moe.expert_adapter_up']);
    // PERFT-D: always-on units, no routing of their own.
    assert.deepEqual(layer('PERFT_D'), ['moe: 8/64 experts']);
    assert.deepEqual(body('PERFT_D'), ['frozen', 'trained: perft']);
    assert.deepEqual(draw('PERFT_E').find((n) => n.id === 'm:embed')!.notes, ['frozen']);
  });

  const gemma = dashboardData(example('relaxed-recursive-gemma'), {}, { source: 'g', sweep: false });
  const rrg = gemma.models.find((m) => m.name === 'RecursiveGemma')!;

  it('places members in order, instances of a stack one per row, stores to the right beside their readers', () => {
    const l = layoutArchitecture(rrg);
    const ids = l.nodes.map((n) => n.id);
    assert.deepEqual(ids.slice(0, 4), ['m:embed', 'g:body', 'i:body:0', 'i:body:1']);
    const inst = l.nodes.filter((n) => n.kind === 'instance');
    for (let i = 1; i < inst.length; i++) assert.ok(inst[i]!.y > inst[i - 1]!.y, 'rows go down');
    const stores = l.nodes.filter((n) => n.kind === 'store');
    assert.equal(stores.length, 10);
    const right = Math.max(...inst.map((n) => n.x + n.w));
    assert.ok(stores.every((s) => s.x > right));
    for (let i = 1; i < stores.length; i++) {
      const [a, b] = [...stores].sort((p, q) => p.y - q.y).slice(i - 1, i + 1);
      assert.ok(b!.y >= a!.y + a!.h, 'stores do not overlap');
    }
    // 18 instance reads + 2 tie reads.
    assert.equal(l.links.filter((k) => k.kind === 'reads').length, 20);
    // Instance i is coloured like its store.
    const s3 = l.nodes.find((n) => n.id === 's:slot:body:3')!;
    assert.equal(l.nodes.find((n) => n.id === 'i:body:12')!.colour, s3.colour);
    assert.ok(l.width > 0 && l.height > 0);
  });

  it('is deterministic and stable across edits that keep the structure', () => {
    const a = layoutArchitecture(rrg);
    assert.deepEqual(layoutArchitecture(rrg), a);
    const edited = example('relaxed-recursive-gemma').replace(/d = 2048/, 'd = 1024').replace(/^/, '# a comment\n\n');
    const d2 = dashboardData(edited, {}, { source: 'g', sweep: false });
    const b = layoutArchitecture(d2.models.find((m) => m.name === 'RecursiveGemma')!);
    const shape = (l: typeof a) => ({ w: l.width, h: l.height, nodes: l.nodes.map((n) => [n.id, n.x, n.y, n.w, n.h, n.colour, n.label]), links: l.links.map((k) => [k.id, k.d]) });
    assert.deepEqual(shape(b), shape(a));
  });

  it('collapses a stack into its runs, linking each run to every store its instances read', () => {
    const l = layoutArchitecture(rrg, { collapsed: ['body'] });
    const runs = l.nodes.filter((n) => n.kind === 'run');
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.count, '18');
    assert.equal(l.links.filter((k) => k.source === runs[0]!.id).length, 9);
    assert.ok(l.nodes.find((n) => n.id === 'g:body')!.collapsed);
  });

  it('draws KV reuse as arcs from each consumer to its producer', () => {
    const d = dashboardData(example('cla-mlkv'), {}, { source: 'c', sweep: false });
    const l = layoutArchitecture(d.models.find((m) => m.name === 'Llama3_8B_CLA2')!);
    const kv = l.links.filter((k) => k.kind === 'kv');
    assert.equal(kv.length, 16);
    assert.equal(kv[0]!.source, 'i:body:1');
    assert.equal(kv[0]!.target, 'i:body:0');
    assert.equal(l.nodes.find((n) => n.id === 'i:body:0')!.kv, 'producer');
    assert.equal(l.nodes.find((n) => n.id === 'i:body:1')!.kv, 'consumer');
    const collapsed = layoutArchitecture(d.models.find((m) => m.name === 'Llama3_8B_CLA2')!, { collapsed: ['body'] });
    assert.equal(collapsed.nodes.find((n) => n.kind === 'run')!.kv, 'mixed');
  });

  it('ReXMoE (examples/rexmoe.npas, R4): 8 pool stores of 256 experts, each drawn beside and linked to its 4 layers, each layer 8/256 experts', () => {
    const d = dashboardData(example('rexmoe'), {}, { source: 'rexmoe', sweep: false });
    const m = d.models.find((x) => x.name === 'Rex_2_3B_R4')!;
    const l = layoutArchitecture(m, { collapsed: [] });
    const stores = l.nodes.filter((n) => n.kind === 'store');
    assert.deepEqual(stores.map((n) => n.label), Array.from({ length: 8 }, (_, k) => `body.moe.experts pool #${k}: 256 experts, routers per layer`));
    // Layers 4k … 4k + 3 read pool k (sequence(8) over 32 layers: the paper's groups of r = 4).
    for (let k = 0; k < 8; k++) {
      const readers = l.links.filter((x) => x.kind === 'reads' && x.target === stores[k]!.id).map((x) => x.source);
      assert.deepEqual(readers, [0, 1, 2, 3].map((j) => `i:body:${4 * k + j}`), `pool ${k}`);
    }
    assert.deepEqual(l.nodes.find((n) => n.id === 'i:body:5')!.moe, ['moe: 8/256 experts']);
    // The base model has no pool to draw.
    assert.equal(layoutArchitecture(d.models.find((x) => x.name === 'MoE_2_3B')!, { collapsed: [] }).nodes.filter((n) => n.kind === 'store').length, 0);
  });

  it('Chain-of-Experts (examples/chain-of-experts.npas): a layer of C iterations of top-K says so, not one top-C·K', () => {
    const d = dashboardData(example('chain-of-experts'), {}, { source: 'coe', sweep: false });
    const moe = (name: string): readonly string[] => layoutArchitecture(d.models.find((x) => x.name === name)!, { collapsed: [] }).nodes.find((n) => n.id === 'i:body:0')!.moe;
    // MoE_8_64: E = 63 routed experts, K = 7, C = 1; CoE_2_4_64: K = 3, C = 2, so 6 applied per token.
    assert.deepEqual(moe('MoE_8_64'), ['moe: 7/63 experts']);
    assert.deepEqual(moe('CoE_2_4_64'), ['moe: 6/63 experts in 2 iterations']);
  });

  it('labels MoE instances with active/total experts', () => {
    const d = dashboardData(example('moeut'), {}, { source: 'm', sweep: false });
    const l = layoutArchitecture(d.models[0]!);
    assert.deepEqual(l.nodes.find((n) => n.id === 'i:body:0')!.moe, ['vo_experts: 4/36 experts', 'ffn: 16/387 experts']);
  });

  it('collapses long stacks by default and lays out 10,000 instances symbolically when collapsed', () => {
    const text = `model Deep { d = 64\n block B { a = Attention(d, heads: 4)\n m = MLP(d, 256) }\n body = B * 10000\n share body: cycle(4) }`;
    const d = dashboardData(text, {}, { source: 'deep', sweep: false });
    const m = d.models[0]!;
    assert.deepEqual(defaultCollapsed(m), ['body']);
    assert.ok(10000 > EXPAND_LIMIT);
    const t0 = performance.now();
    const l = layoutArchitecture(m);
    assert.equal(l.nodes.filter((n) => n.kind === 'run').length, 1);
    const expanded = layoutArchitecture(m, { collapsed: [] });
    assert.equal(expanded.nodes.filter((n) => n.kind === 'instance').length, 10000);
    assert.equal(expanded.links.length, 10000);
    assert.ok(performance.now() - t0 < 2000, 'layout of 10,000 instances under 2 s');
  });
});

describe('dashboard data of a spec with more members than the dashboard lists', () => {
  it('keeps 20,000 members, sums the rest exactly into one node and marks the structure truncated (a written-out 10 MB spec made a 159 MB report)', async () => {
    const { checkDashboardData } = await import('../../../webview/protocol.js');
    // 21,000 members l_i = Linear(4, 4 + i) without bias: 4·(4 + i) parameters each, FLOPs 2·4·(4 + i) per token.
    const n = 21_000;
    const text = `model M {\n${Array.from({ length: n }, (_, i) => `  l${i} = Linear(4, ${4 + i})\n`).join('')}}\n`;
    const d = dashboardData(text, {}, { source: 'wide.npas', sweep: false });
    const m = d.models[0]!;
    const children = m.tree.children;
    assert.equal(children.length, 20_000);
    assert.equal(children[19_998]!.name, 'l19998');
    const more = children[19_999]!;
    assert.equal(more.name, '… 1,001 more members');
    let stored = 0n;
    for (let i = 19_999; i < n; i++) stored += 4n * BigInt(4 + i);
    assert.equal(more.params.stored, String(stored));
    assert.equal(more.flopsPerToken, String(2n * stored));
    let total = 0n;
    for (let i = 0; i < n; i++) total += 4n * BigInt(4 + i);
    assert.equal(m.params.stored, String(total));
    assert.equal(m.structure.members.length, 20_000);
    assert.equal(m.structure.truncated, true);
    const checked = checkDashboardData(JSON.parse(JSON.stringify(d)));
    assert.ok(checked.ok, checked.ok ? '' : checked.error);
  });
});
