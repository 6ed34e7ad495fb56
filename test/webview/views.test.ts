// The views rendered into jsdom: expected elements, text alternatives, keyboard reachability,
// no style attributes, and normalised SVG snapshots (test/webview/__snapshots__).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dashboardData, type DashboardData, type Range } from '../../src/core/index.js';
import { checkDashboardData } from '../../webview/protocol.js';
import type { DashboardState } from '../../src/protocol/webview-messages.js';
import { initialState } from '../../webview/protocol.js';
import { renderAllocation } from '../../webview/views/allocation.js';
import { renderArchitecture } from '../../webview/views/architecture.js';
import { renderBudget } from '../../webview/views/budget.js';
import type { View, ViewContext } from '../../webview/views/context.js';
import { renderPlan } from '../../webview/views/plan.js';
import { renderProbe } from '../../webview/views/probe.js';
import { paretoFront, renderVariants } from '../../webview/views/variants.js';
import { exampleData, matchSnapshot, normaliseSvg, page } from './dom.js';
import { elasticDecoderSpec } from '../fixtures/supernet-spec.js';

interface Harness {
  root: HTMLElement;
  document: Document;
  revealed: Range[];
  state: () => DashboardState;
  draw: () => void;
}

function mount(view: View, data: DashboardData, modelName: string, patch: Partial<DashboardState> = {}): Harness {
  const { root, document } = page();
  let state: DashboardState = { ...initialState(), data, model: modelName, ...patch };
  const revealed: Range[] = [];
  const draw = (): void => {
    const ctx: ViewContext = {
      document,
      data,
      model: data.models.find((m) => m.name === state.model)!,
      state,
      update: (p) => {
        state = { ...state, ...p };
        draw();
      },
      reveal: (r) => revealed.push(r),
      hover: () => undefined,
    };
    view(root, ctx);
  };
  draw();
  return { root, document, revealed, state: () => state, draw };
}

function assertCleanDom(root: HTMLElement): void {
  assert.equal(root.querySelectorAll('[style]').length, 0, 'no style attributes');
  assert.equal(root.querySelectorAll('script, foreignObject, iframe').length, 0);
}

const CASES: [string, string][] = [
  ['relaxed-recursive-gemma', 'RelaxedRecursiveGemma'],
  ['moeut', 'MoEUT244M'],
  ['widenet', 'WideNetB'],
  ['cla-mlkv', 'Llama3_8B_CLA2'],
  ['deepseek-v2', 'DeepSeekV2Lite'],
  ['ssn-wrn-28-10', 'WRN28_10_SSN10'],
];

describe('architecture view', () => {
  for (const [file, model] of CASES) {
    it(`${file}: ${model} — stores, links and a text alternative; snapshot`, () => {
      const data = exampleData(file);
      const h = mount(renderArchitecture, data, model);
      const svg = h.root.querySelector('svg.npas-architecture')!;
      assert.ok(svg);
      const m = data.models.find((x) => x.name === model)!;
      assert.equal(svg.querySelectorAll('g.npas-store').length, m.structure.stores.length);
      assert.ok(svg.querySelectorAll('g.npas-node').length >= m.structure.members.length);
      for (const g of svg.querySelectorAll('g.npas-node')) {
        assert.equal(g.getAttribute('tabindex'), '0');
        assert.ok((g.getAttribute('aria-label') ?? '').length > 0);
      }
      const summary = h.document.getElementById(svg.getAttribute('aria-describedby')!);
      assert.ok(summary && summary.textContent!.includes(model));
      assertCleanDom(h.root);
      matchSnapshot(`architecture-${file}-${model}`, normaliseSvg(svg.outerHTML));
    });
  }

  it('layer classes: a hybrid tells attention, recurrent and expert rows apart by glyph, with a legend naming the layer kinds', () => {
    // Qwen3-Next: 36 Gated DeltaNet layers and 12 attention layers, MoE in every one.
    const data = exampleData('qwen3-next');
    const m = data.models.find((x) => x.name === 'Qwen3Next80B')!;
    assert.deepEqual(m.structure.classes, [
      { id: 'attention', kinds: ['Attention'] },
      { id: 'recurrent', kinds: ['GatedDeltaNet'] },
      { id: 'experts', kinds: ['MoE'] },
    ]);
    const h = mount(renderArchitecture, data, 'Qwen3Next80B', { collapsed: { Qwen3Next80B: [] } });
    const legend = [...h.root.querySelectorAll('.npas-class-legend')].map((e) => e.textContent);
    assert.deepEqual(legend, ['▲ attention: Attention', '■ recurrent state (no KV cache): GatedDeltaNet', '◆ mixture of experts: MoE']);
    const glyphs = (id: string) => [...h.root.querySelectorAll(`g.npas-node[data-id="${id}"] text.npas-class`)].map((e) => e.textContent).join('');
    assert.equal(glyphs('i:body:0'), '■◆', 'a Gated DeltaNet layer with its MoE');
    assert.equal(glyphs('i:body:3'), '▲◆', 'a full-attention layer with its MoE');
    assert.equal(glyphs('m:embed'), '');
    assert.equal(h.root.querySelectorAll('g.npas-instance text.npas-class-recurrent').length, 36);
    assert.equal(h.root.querySelectorAll('g.npas-instance text.npas-class-attention').length, 12);
    assert.match(h.root.querySelector('g.npas-node[data-id="i:body:0"]')!.getAttribute('aria-label')!, /keeps a recurrent state/);
    assertCleanDom(h.root);
    // A model of one class (a dense transformer) draws no glyphs and no class legend.
    const dense = exampleData('relaxed-recursive-gemma');
    const plain = mount(renderArchitecture, dense, 'RecursiveGemma');
    assert.equal(plain.root.querySelectorAll('text.npas-class, .npas-class-legend').length, 0);
  });

  it('factorised weights: each factorised layer carries its method as a note (TT-VGG16 fc6, fc7)', () => {
    const h = mount(renderArchitecture, exampleData('tt-vgg16'), 'VGG16_TT4_TT4');
    const label = (id: string): string => h.root.querySelector(`g.npas-node[data-id="${id}"]`)!.getAttribute('aria-label') ?? '';
    const notes = [...h.root.querySelectorAll('g.npas-node')].map((n) => n.textContent ?? '').filter((t) => t.includes('TT 6 cores r=4'));
    assert.equal(notes.length, 2, 'fc6 and fc7 each show their tensor train');
    assert.doesNotMatch(label('m:fc8'), /TT/);
    assertCleanDom(h.root);
  });

  it('click reveals the declaration; Space and a click on a stack header collapse and expand it', () => {
    const data = exampleData('relaxed-recursive-gemma');
    const h = mount(renderArchitecture, data, 'RecursiveGemma');
    const win = h.document.defaultView!;
    const inst = h.root.querySelector<SVGGElement>('g.npas-node[data-id="i:body:3"]')!;
    inst.dispatchEvent(new win.MouseEvent('click', { bubbles: true }));
    assert.equal(h.revealed.length, 1);
    const body = data.models.find((m) => m.name === 'RecursiveGemma')!.structure.members.find((m) => m.name === 'body')!;
    assert.deepEqual(h.revealed[0], body.range);
    const header = h.root.querySelector<SVGGElement>('g.npas-node[data-id="g:body"]')!;
    assert.equal(header.getAttribute('aria-expanded'), 'true');
    header.dispatchEvent(new win.KeyboardEvent('keydown', { key: ' ', bubbles: true }));
    assert.deepEqual(h.state().collapsed, { RecursiveGemma: ['body'] });
    assert.equal(h.root.querySelectorAll('g.npas-run').length, 1);
    assert.equal(h.root.querySelector('g.npas-node[data-id="g:body"]')!.getAttribute('aria-expanded'), 'false');
    h.root.querySelector('g.npas-node[data-id="g:body"]')!.dispatchEvent(new win.MouseEvent('click', { bubbles: true }));
    assert.deepEqual(h.state().collapsed, { RecursiveGemma: [] });
    assert.equal(h.root.querySelectorAll('g.npas-instance').length, 21);
    const store = h.root.querySelector<SVGGElement>('g.npas-node[data-id="s:slot:body:0"]')!;
    store.dispatchEvent(new win.KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    assert.equal(h.revealed.length, 2);
  });

  it('hover text gives the numbers of the report behind a node', async () => {
    const { hoverText } = await import('../../webview/views/architecture.js');
    const { layoutArchitecture } = await import('../../src/core/index.js');
    const m = exampleData('relaxed-recursive-gemma').models.find((x) => x.name === 'RecursiveGemma')!;
    const l = layoutArchitecture(m);
    const embed = hoverText(l.nodes.find((n) => n.id === 'm:embed')!, m);
    assert.match(embed, /stored 524,288,000/);
    const inst = hoverText(l.nodes.find((n) => n.id === 'i:body:0')!, m);
    // 1,981,882,368 effective over 18 instances.
    assert.match(inst, /effective 110,104,576 per instance/);
  });
});

describe('budget view', () => {
  it('treemap of stored params whose cells add up to the model, totals and a table beside, memory chart with limits and the device ceiling', () => {
    const data = exampleData('relaxed-recursive-gemma');
    const h = mount(renderBudget, data, 'RecursiveGemma');
    const m = data.models.find((x) => x.name === 'RecursiveGemma')!;
    const cells = h.root.querySelectorAll('svg.npas-treemap g.npas-cell');
    assert.ok(cells.length >= 3);
    const rows = [...h.root.querySelectorAll('table.npas-components tbody tr')];
    const total = rows.find((r) => r.getAttribute('data-name') === '(total)')!;
    assert.equal(total.querySelector('[data-field="stored"]')!.textContent, '1,515,231,232');
    assert.equal(total.querySelector('[data-field="effective"]')!.textContent, '3,030,460,416');
    assert.ok(h.root.querySelector('svg.npas-memory path.npas-kv-line'));
    assert.ok(h.root.querySelector('svg.npas-memory line.npas-ceiling'));
    const kvBudgets = m.budgets.filter((b) => b.metric === 'kv').length;
    assert.equal(h.root.querySelectorAll('svg.npas-memory line.npas-limit').length, kvBudgets + m.budgets.filter((b) => b.metric.startsWith('memory.')).length);
    assert.equal(h.root.querySelectorAll('table.npas-sweep tbody tr').length, m.sweep.length);
    assertCleanDom(h.root);
    matchSnapshot('budget-relaxed-recursive-gemma-RecursiveGemma', normaliseSvg([...h.root.querySelectorAll('svg')].map((s) => s.outerHTML).join('\n')));
  });

  it('draws the recurrent state of Mamba layers beside the KV cache, with its budget line', () => {
    const data = exampleData('mamba');
    const h = mount(renderBudget, data, 'Mamba130M');
    assert.ok(h.root.querySelector('svg.npas-memory path.npas-state-line'));
    assert.equal(h.root.querySelector('svg.npas-memory path.npas-kv-line'), null, 'no KV cache to draw');
    const heads = [...h.root.querySelectorAll('table.npas-sweep thead th')].map((th) => th.textContent);
    assert.deepEqual(heads, ['seq', 'KV cache', 'recurrent state', 'weights', 'weights + KV + state']);
    // The state is constant in the sequence length: 1.41 MiB in every row.
    const cells = [...h.root.querySelectorAll('table.npas-sweep tbody tr')].map((tr) => tr.querySelectorAll('td')[2]!.textContent);
    assert.equal(new Set(cells).size, 1);
    assert.ok(h.root.querySelectorAll('svg.npas-memory line.npas-limit').length >= 2, 'the kv and state budgets are drawn');
    // A model without recurrent layers keeps its four columns.
    const plain = mount(renderBudget, exampleData('relaxed-recursive-gemma'), 'RecursiveGemma');
    assert.equal(plain.root.querySelectorAll('table.npas-sweep thead th').length, 4);
  });

  it('draws KV budget lines when the spec has them', () => {
    const data = exampleData('cla-mlkv');
    const m = data.models.find((x) => x.budgets.some((b) => b.metric === 'kv'));
    if (!m) return;
    const h = mount(renderBudget, data, m.name);
    assert.ok(h.root.querySelectorAll('line.npas-limit').length >= 1);
  });
});

describe('budget view: parameterisation', () => {
  it('factorised weights: stored share against the dense W and both executions per token, the counted one marked', () => {
    // a: 64×64 as [8, 8] × [8, 8] at rank 2 stores 1·8·8·2 + 2·8·8·1 = 256 of 4,096 (6.25%) and
    // applies its cores in 2·(8·128 + 8·128) = 4,096 FLOPs per token against the dense 8,192:
    // the factors are counted. conv: FedPara R = 2 on a 10×6×3×3 kernel has no chain: W is
    // materialised, 2·(4·9 + 2·16) = 136 of 540 stored.
    const data = dashboardData(
      `model P {
  a    = Linear(64, 64)
  conv = Conv2d(6, 10, 3, size: 8, bias: false)
  factorize a: tensor_train(rank: 2, modes_out: [8, 8], modes_in: [8, 8])
  factorize conv: fedpara(rank: 2)
}
`,
      {},
      { source: 'p.npas' },
    );
    assert.ok(checkDashboardData(JSON.parse(JSON.stringify(data))).ok, 'the payload passes the webview validation');
    const h = mount(renderBudget, data, 'P');
    const rows = [...h.root.querySelectorAll('table.npas-factorized-table tbody tr')];
    assert.deepEqual(rows.map((r) => r.getAttribute('data-path')), ['a.weight', 'conv.weight']);
    const field = (r: Element, f: string): string => r.querySelector(`[data-field="${f}"]`)!.textContent!;
    assert.deepEqual([field(rows[0]!, 'stored'), field(rows[0]!, 'dense'), field(rows[0]!, 'execution')], ['256', '4,096', 'factors applied per token']);
    assert.deepEqual([field(rows[1]!, 'stored'), field(rows[1]!, 'dense'), field(rows[1]!, 'execution')], ['136', '540', 'W materialised (a kernel: no chain), dense matmul']);
    const drawn = h.root.querySelector('svg.npas-factorized g.npas-factor-row[data-path="a.weight"]')!;
    assert.ok(drawn.classList.contains('npas-execution-factors'));
    assert.equal(drawn.querySelector('rect.npas-chain')!.classList.contains('npas-counted'), true);
    assert.equal(drawn.querySelector('rect.npas-dense')!.classList.contains('npas-not-counted'), true);
    // The chain's bar is half the dense one's (4,096 against 8,192 FLOPs per token).
    assert.equal(Number(drawn.querySelector('rect.npas-chain')!.getAttribute('width')) * 2, Number(drawn.querySelector('rect.npas-dense')!.getAttribute('width')));
    assert.match(drawn.getAttribute('aria-label')!, /stores 256 of the dense 4,096; factors applied per token/);
    assert.equal(h.root.querySelector('svg.npas-factorized g[data-path="conv.weight"] rect.npas-chain'), null, 'a kernel has no chain');
    assert.equal(h.root.querySelector('table.npas-multipliers'), null, 'no param statement, no multipliers');
    assertCleanDom(h.root);
  });

  it('factorised weights under a sparse mask: the row and the drawing say W is materialised because of the mask', () => {
    // FedPara R = 2 on 64×64 applies its factors in R²(m + n) = 512 MACs per token (1,024 FLOPs)
    // against the dense 8,192 FLOPs — but b's FISH mask writes entries of W: W must exist, so the
    // dense matmul is counted, and the rows say why (the report's materialisedBecause).
    const data = dashboardData(
      `model P {
  a = Linear(64, 64)
  b = Linear(64, 64)
  factorize a: fedpara(rank: 2)
  factorize b: fedpara(rank: 2)
  adapt b: sparse(elements: 16)
}
`,
      {},
      { source: 'p.npas' },
    );
    const json = JSON.parse(JSON.stringify(data));
    assert.ok(checkDashboardData(json).ok, 'the payload passes the webview validation');
    const m = json.models.find((x: { name: string }) => x.name === 'P');
    assert.deepEqual(m.parameterisation.factorized.map((f: { path: string; materialisedBecause: string | null }) => [f.path, f.materialisedBecause]), [['a.weight', null], ['b.weight', 'sparse mask']]);
    m.parameterisation.factorized[1].materialisedBecause = 'a hunch';
    assert.equal(checkDashboardData(json).ok, false, 'an unknown reason is rejected');
    const h = mount(renderBudget, data, 'P');
    const rows = [...h.root.querySelectorAll('table.npas-factorized-table tbody tr')];
    const field = (r: Element, f: string): string => r.querySelector(`[data-field="${f}"]`)!.textContent!;
    assert.deepEqual(rows.map((r) => field(r, 'execution')), ['factors applied per token', 'W materialised (sparse mask: W must exist), dense matmul']);
    const drawn = h.root.querySelector('svg.npas-factorized g.npas-factor-row[data-path="b.weight"]')!;
    assert.ok(drawn.classList.contains('npas-execution-dense'));
    assert.match(drawn.getAttribute('aria-label')!, /W materialised \(sparse mask: W must exist\), dense matmul/);
    assertCleanDom(h.root);
  });

  it('μP multipliers per weight class (μTransfer GPT-3 6.7B from its width-256 proxy): m_N = 16', () => {
    // Tensor Programs V, Table 3 (Adam): hidden weights' init std ∝ 1/√fan_in → ×16^-1/2 = 0.25,
    // their LR ∝ 1/fan_in → ×1/16 = 0.0625; the output (readout) multiplier 1/m_N = 0.0625; input
    // weights keep init and LR (×1). The proxy (width 256, the base) has every factor 1.
    const data = exampleData('mutransfer-gpt3');
    const h = mount(renderBudget, data, 'GPT3_6_7B');
    const row = (c: string): Element => h.root.querySelector(`table.npas-multipliers tbody tr[data-class="${c}"]`)!;
    const field = (c: string, f: string): string => row(c).querySelector(`[data-field="${f}"]`)!.textContent!;
    assert.match(field('hidden', 'lr'), /= 0\.0625$/);
    assert.match(field('hidden', 'initStd'), /= 0\.25$/);
    assert.match(field('output', 'output'), /= 0\.0625$/);
    assert.equal(field('input', 'lr'), '1');
    const proxy = mount(renderBudget, data, 'Proxy40M');
    const values = [...proxy.root.querySelectorAll('table.npas-multipliers tbody td[data-field="lr"]')].map((td) => td.textContent);
    assert.ok(values.length >= 3 && values.every((v) => v === '1' || /= 1$/.test(v!)), values.join(' | '));
    assertCleanDom(h.root);
  });
});

describe('variants view: supernet', () => {
  // Decoder(expand, heads: 4) over d = 64, head_dim 16 (docs/layers.md): RMSNorm 64, attention
  // q, k, v, o 4·(4·16)·64 = 16,384, gated MLP 3·64·(64·expand): 41,024 at expand 2, 65,600 at 4.
  // The rest: embedding and untied head 2·1,000·64 and the final norm 64 = 128,064.
  const instance = (expand: number): bigint => 64n + 16384n + 3n * 64n * BigInt(64 * expand);
  const REST = 2n * 1000n * 64n + 64n;
  const spec = (choices: string, depths: string): string => elasticDecoderSpec({ vocab: 1000, d: 64, headDim: 16, depth: 2, model: 'Net', choices, depths });

  it('draws the Pareto front of active parameters against decode FLOPs, with the size of the space', () => {
    // expand in [2, 4] at depth 1 or 2: 2 + 2² = 6 subnets in 2 + 3 = 5 classes. More active
    // parameters always cost more decode FLOPs here, so every class is on the front; by decode
    // FLOPs: depth 1 expand 2, depth 1 expand 4, depth 2 (2, 2), (2, 4), (4, 4).
    const data = dashboardData(spec('expand: [2, 4], heads: [4]', '[1, 2]'), {}, { source: 'net.npas' });
    assert.ok(checkDashboardData(JSON.parse(JSON.stringify(data))).ok, 'the payload passes the webview validation');
    const h = mount(renderVariants, data, 'Net');
    assert.match(h.root.querySelector('.npas-supernet-size')!.textContent!, /^6 subnets in 5 classes; the supernet stores 259,264 parameters$/);
    assert.equal(REST + 2n * instance(4), 259264n);
    const active = [...h.root.querySelectorAll('table.npas-supernet-table tbody td[data-field="active"]')].map((td) => BigInt(td.textContent!.replace(/,/g, '')));
    assert.deepEqual(active, [REST + instance(2), REST + instance(4), REST + 2n * instance(2), REST + instance(2) + instance(4), REST + 2n * instance(4)]);
    assert.equal(h.root.querySelectorAll('svg.npas-supernet-front circle.npas-pareto').length, 5);
    assert.ok(h.root.querySelector('svg.npas-supernet-front path.npas-front'));
    assert.match(h.root.querySelector('table.npas-supernet-table tbody tr td[data-field="choices"]')!.textContent!, /^body depth 1: expand: 2 ×1$/);
    assertCleanDom(h.root);
  });

  it('names a model-wide width and draws each width\'s subnets on one front', () => {
    // Width d in [32, 64] for the whole model (d a parameter, Decoder declared inside the model),
    // expand in [2, 4] for the 1 layer: 2 × 2 = 4 subnets in 4 classes. Per docs/layers.md at width w:
    // RMSNorm w, attention 4·(4·16)·w, gated MLP 3·w·(e·w); rest 2·1,000·w + w.
    const at = (w: number, e: number): bigint => BigInt(2 * 1000 * w + w) + BigInt(w + 4 * 64 * w + 3 * w * e * w);
    const data = dashboardData(elasticDecoderSpec({ vocab: 1000, d: 64, headDim: 16, depth: 1, model: 'Net', choices: 'expand: [2, 4], heads: [4]', depths: '', widths: '[32, 64]' }), {}, { source: 'net.npas' });
    assert.ok(checkDashboardData(JSON.parse(JSON.stringify(data))).ok, 'the payload passes the webview validation');
    const h = mount(renderVariants, data, 'Net');
    assert.equal(h.root.querySelector('.npas-supernet-size')!.textContent, `4 subnets in 4 classes; the supernet stores ${at(64, 4).toLocaleString('en-US')} parameters`);
    assert.equal(h.root.querySelector('.npas-supernet-global')!.textContent, 'd: 32, 64 — one value for the whole model (every layer using d follows)');
    const active = [...h.root.querySelectorAll('table.npas-supernet-table tbody td[data-field="active"]')].map((td) => BigInt(td.textContent!.replace(/,/g, '')));
    assert.deepEqual(active, [at(32, 2), at(32, 4), at(64, 2), at(64, 4)]);
    const choices = [...h.root.querySelectorAll('table.npas-supernet-table tbody td[data-field="choices"]')].map((td) => td.textContent);
    assert.deepEqual(choices, ['d: 32; body depth 1: expand: 2 ×1', 'd: 32; body depth 1: expand: 4 ×1', 'd: 64; body depth 1: expand: 2 ×1', 'd: 64; body depth 1: expand: 4 ×1']);
    assertCleanDom(h.root);
  });

  it('says why no front is drawn when the space has more classes than the dashboard walks per update', () => {
    // expand in 1…6 at depth 40: C(40 + 5, 5) = 1,221,759 classes, above the 200,000 per update.
    const data = dashboardData(spec('expand: [1, 2, 3, 4, 5, 6], heads: [4]', '[40]'), {}, { source: 'net.npas' });
    const h = mount(renderVariants, data, 'Net');
    assert.match(h.root.querySelector('.npas-supernet-error')!.textContent!, /^1,221,759 subnet classes: more than the dashboard walks/);
    // Sized without measuring: 6⁴⁰ subnets.
    assert.equal(h.root.querySelector('.npas-supernet-size')!.textContent, `${(6n ** 40n).toLocaleString('en-US')} subnets in 1,221,759 classes`);
    assert.equal(h.root.querySelector('svg.npas-supernet-front'), null);
    // A model without a supernet draws no supernet section.
    const plain = mount(renderVariants, exampleData('cla-mlkv'), exampleData('cla-mlkv').models[0]!.name);
    assert.equal(plain.root.querySelector('.npas-supernet-section'), null);
  });
});

describe('variants view', () => {
  it('scatter with the Pareto front and a sortable table of every model', () => {
    const data = exampleData('cla-mlkv');
    const h = mount(renderVariants, data, data.models[0]!.name);
    assert.equal(h.root.querySelectorAll('circle.npas-point').length, data.models.length);
    const front = paretoFront(data.models, 'kv');
    assert.equal(h.root.querySelectorAll('circle.npas-pareto').length, front.length);
    assert.ok(front.includes('Pythia160M_MLKV2'));
    const names = (): string[] => [...h.root.querySelectorAll('table.npas-variants-table tbody tr')].map((r) => r.getAttribute('data-name')!);
    assert.deepEqual(names(), data.models.map((m) => m.name).sort());
    const win = h.document.defaultView!;
    h.root.querySelector<HTMLButtonElement>('button[data-sort="stored"]')!.dispatchEvent(new win.MouseEvent('click', { bubbles: true }));
    const byStored = [...data.models].sort((a, b) => (BigInt(a.params.stored) < BigInt(b.params.stored) ? -1 : 1)).map((m) => m.name);
    assert.deepEqual(names(), byStored);
    h.root.querySelector<HTMLButtonElement>('button[data-sort="stored"]')!.dispatchEvent(new win.MouseEvent('click', { bubbles: true }));
    assert.deepEqual(names(), [...byStored].reverse());
    assert.equal(h.root.querySelector('th[aria-sort="descending"] button')!.getAttribute('data-sort'), 'stored');
    const select = h.root.querySelector<HTMLSelectElement>('#npas-variants-axis')!;
    select.value = 'flops';
    select.dispatchEvent(new win.Event('change', { bubbles: true }));
    assert.equal(h.state().variantsAxis, 'flops');
    assertCleanDom(h.root);
    matchSnapshot('variants-cla-mlkv', normaliseSvg(h.root.querySelector('svg.npas-scatter')!.outerHTML));
  });

  it('the Pareto front keeps exactly the non-dominated models', () => {
    const mk = (name: string, stored: number, kv: number) => ({ ...exampleData('moeut').models[0]!, name, params: { stored: String(stored), effective: '0', active: '0', trainable: '0' }, kvCacheBytes: String(kv) });
    const ms = [mk('a', 10, 5), mk('b', 5, 10), mk('c', 10, 10), mk('d', 4, 12), mk('e', 10, 5)];
    assert.deepEqual(paretoFront(ms, 'kv'), ['a', 'b', 'd', 'e']);
  });
});

describe('allocation and probe panes', () => {
  it('say plainly that there is nothing yet', () => {
    const data = exampleData('moeut');
    const a = mount(renderAllocation, data, 'MoEUT244M');
    assert.match(a.root.textContent!, /No allocation yet/);
    assert.equal(a.root.querySelector('[role="status"]') !== null, true);
    const p = mount(renderProbe, data, 'MoEUT244M');
    assert.match(p.root.textContent!, /No probe results yet/);
  });
});

describe('plan pane', () => {
  const spec = `${readFileSync(join(__dirname, '..', '..', 'examples', 'reference-llms.npas'), 'utf8')}
plan Llama2_7B {
  gpus = 8
  tp = 2
  pp = 2
  zero = 1
  global_batch = 16
  memory.per_gpu <= 80GB
}
plan Llama2_7B {
  gpus = 8
  tp = 3
}
`;
  const data = dashboardData(spec, {}, { source: 'plans.npas' });

  it('draws each plan: stacked memory per stage against the device, the step parts, a table of the same bytes', () => {
    const h = mount(renderPlan, data, 'Llama2_7B');
    const sections = h.root.querySelectorAll('.npas-plan-section');
    assert.equal(sections.length, 2);
    const first = sections[0]!;
    // Two pipeline stages, each a stack of the non-zero classes; one device ceiling.
    assert.equal(first.querySelectorAll('svg.npas-plan-memory .npas-plan-stage').length, 2);
    assert.equal(first.querySelectorAll('svg.npas-plan-memory line.npas-ceiling').length, 1);
    const plan = data.models.find((m) => m.name === 'Llama2_7B')!.plans[0]!;
    const rows = [...first.querySelectorAll('table.npas-plan-table tbody tr')];
    assert.equal(rows.length, 2);
    assert.match(rows[0]!.textContent!, /embed, body\[0\.\.15\]/);
    // The data is the core's plan: the same bytes as npas plan at these settings.
    assert.equal(plan.stages[0]!.bytes.total, String(['weights', 'gradients', 'optimizer', 'activations', 'loss', 'buffers'].reduce((a, k) => a + BigInt((plan.stages[0]!.bytes as unknown as Record<string, string>)[k]!), 0n)));
    assert.ok(first.querySelectorAll('svg.npas-plan-step rect').length >= 3);
    // The refused plan says why, and its title reveals the declaration.
    const second = sections[1]!;
    assert.match(second.textContent!, /refused/);
    assert.match(second.textContent!, /tp × pp × cp × dp = 3 × 1 × 1 × 2 = 6, but the cluster has 8 GPUs/);
    (second.querySelector('.npas-plan-title') as HTMLElement).dispatchEvent(new h.document.defaultView!.MouseEvent('click', { bubbles: true }));
    assert.equal(h.revealed.length, 1);
    assert.equal(spec.slice(h.revealed[0]!.start, h.revealed[0]!.end), 'Llama2_7B');
    assertCleanDom(h.root);
  });

  it('says how to add a plan when the model has none', () => {
    const h = mount(renderPlan, data, 'GPT2');
    assert.match(h.root.textContent!, /GPT2 has no plan declaration/);
  });

  it('the protocol accepts the plans and refuses a tampered one', () => {
    assert.equal(checkDashboardData(JSON.parse(JSON.stringify(data))).ok, true);
    const bad = JSON.parse(JSON.stringify(data)) as { models: { plans: { stages: { bytes: { total: string } }[] }[] }[] };
    const target = bad.models.find((m) => m.plans.length > 0)!;
    target.plans[0]!.stages[0]!.bytes.total = '1e9';
    assert.equal(checkDashboardData(bad).ok, false);
  });
});

describe('budget view: shared prompt', () => {
  it('draws the block-sparse mask of a prompt shared by two continuations and its savings (hand-derived KV)', () => {
    // seq 100, a 60-token prompt and k = 2 continuations of 40: a packed sequence computes
    // 60 + 2·40 = 140 tokens against 2·100 = 200 apart. Two attention layers of width 64 (4 heads
    // of 16, no GQA) cache K and V, 2·64 bf16 elements = 256 B per token and layer: 140·2·256 =
    // 71,680 B shared against 200·2·256 = 102,400 B apart.
    const spec = `model S {
  body = Attention(64, heads: 4) * 2
}
`;
    const data = dashboardData(spec, { seq: 100, batch: 1, dtype: 'bf16', sharedPrefix: { tokens: 60, continuations: 2 } }, { source: 's.npas' });
    assert.ok(checkDashboardData(JSON.parse(JSON.stringify(data))).ok, 'the payload passes the webview validation');
    const sp = data.models[0]!.sharedPrefix!;
    assert.deepEqual([sp.computedTokens, sp.unsharedTokens, sp.kvCacheBytes, sp.unsharedKvCacheBytes], [140, 200, '71680', '102400']);
    assert.ok(BigInt(sp.prefillFlops) < BigInt(sp.unsharedPrefillFlops));
    const h = mount(renderBudget, data, 'S');
    const field = (row: string, f: string): string => h.root.querySelector(`table.npas-shared-prompt-table tr[data-row="${row}"] [data-field="${f}"]`)!.textContent!;
    assert.deepEqual([field('tokens', 'shared'), field('tokens', 'apart'), field('tokens', 'fewer')], ['140', '200', '×1.43']);
    assert.equal(field('kv', 'fewer'), '×1.43');
    // The mask to scale (220 px for 140 tokens): the prompt's triangle, and per continuation a
    // full block over the prompt's 60 columns and a triangle over its own 40.
    const svg = h.root.querySelector('svg.npas-shared-prompt')!;
    assert.equal(svg.querySelectorAll('path.npas-mask-prompt').length, 1);
    const blocks = [...svg.querySelectorAll('rect.npas-mask-continuation')];
    assert.equal(blocks.length, 2);
    const px = (t: number): number => (t * 220) / 140;
    assert.ok(Math.abs(Number(blocks[1]!.getAttribute('y')) - px(100)) < 1e-9 && Math.abs(Number(blocks[1]!.getAttribute('width')) - px(60)) < 1e-9);
    assert.equal(svg.querySelectorAll('path.npas-mask-continuation').length, 2);
    assertCleanDom(h.root);
    // Without the setting nothing is drawn.
    const plain = mount(renderBudget, dashboardData(spec, { seq: 100 }, { source: 's.npas' }), 'S');
    assert.equal(plain.root.querySelector('svg.npas-shared-prompt'), null);
  });

  it('the webview rejects a shared prompt whose counts are not exact', () => {
    const data = JSON.parse(JSON.stringify(dashboardData('model S {\n  a = Attention(64, heads: 4)\n}\n', { seq: 100, sharedPrefix: { tokens: 60, continuations: 2 } }, { source: 's.npas' }))) as { models: { sharedPrefix: Record<string, unknown> }[] };
    data.models[0]!.sharedPrefix.kvCacheBytes = 1.5;
    const checked = checkDashboardData(data);
    assert.ok(!checked.ok && /sharedPrefix has a count that is not exact/.test(checked.error));
  });
});
