// `npm run bench`: analysis time against layer count and spec size, reported as medians and
// growth ratios (timings vary by machine; ratios are what the targets are about).
// Targets (product brief): ≤ 5 ms for a 100-layer spec; a symbolic `Decoder * 10000` costs
// about what 22 layers cost; an index-dependent or written-out spec grows linearly.
import { analyze, analyzeSupernet, compile, dashboardData, enumerateSubnets, parseSubnetFilter } from '../src/core/index.js';
import { dashboardEdit } from './dashboard-edit.js';
import { elasticDecoderSpec } from '../test/fixtures/supernet-spec.js';
import { DECODER_FOOTER, DECODER_HEADER, writtenOutSpec } from '../test/fixtures/written-spec.js';
import { cpuMs, reportAgainstCheck } from '../test/fixtures/report-cost.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(text: string, runs = 15): number {
  analyze(text); // warm up
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = analyze(text);
    samples.push(performance.now() - t0);
    if (r.diagnostics.some((d) => d.severity === 'error')) throw new Error(`bench spec has errors: ${r.diagnostics[0]?.message}`);
  }
  return median(samples);
}

const header = DECODER_HEADER;
const footer = DECODER_FOOTER;
const repeated = (n: number): string => `${header}  body = Decoder * ${n}\n${footer}variant R of M { share body: cycle(2)\n share kv body: every(2) }\n`;
const indexed = (n: number): string => `${header}  body = [Decoder(window: if i % 2 == 0 then 512 else none) for i in 0..${n}]\n${footer}`;
const written = writtenOutSpec;

const counts = [22, 100, 1000, 10000];
const rows: string[] = [];
const report = (label: string, make: (n: number) => string): void => {
  const times = counts.map((n) => time(make(n), n >= 10000 ? 7 : 15));
  const base = times[0]!;
  rows.push(`${label.padEnd(34)} ${times.map((t, i) => `${counts[i]}: ${t.toFixed(3)} ms (×${(t / base).toFixed(2)})`).join('   ')}`);
};
report('symbolic repeat `Decoder * N`', repeated);
report('index-dependent comprehension', indexed);
report('written out, one line per layer', written);

console.log('analysis time (median), growth relative to 22 layers:');
for (const r of rows) console.log(`  ${r}`);
const sym22 = time(repeated(22));
const sym10k = time(repeated(10000), 7);
console.log(`\nsymbolic 10,000 vs 22 layers: ×${(sym10k / sym22).toFixed(2)} (target: about 1)`);
const idx1k = time(indexed(1000));
const idx10k = time(indexed(10000), 7);
console.log(`index-dependent 10,000 vs 1,000 layers: ×${(idx10k / idx1k).toFixed(2)} (linear growth: about 10)`);
const w100 = time(written(100));
console.log(`a 100-layer written-out spec: ${w100.toFixed(2)} ms (target ≤ 5 ms)`);

// `npas report` against `npas check` on the same written-out spec, in process (the file and the
// dashboard bundle are served from memory, so both figures are the commands' own work: one
// compilation each, plus the report's structure, sweep and HTML), at 1,000 and 10,000 layers.
// Target: ≤ 1.5× at 10,000; the report grows as the check does (linearly: about ×10 for ×10).
const big = written(10000);
const costs = new Map(([1_000, 10_000] as const).map((n) => [n, reportAgainstCheck(written(n), n >= 10_000 ? 7 : 15)]));
console.log('');
for (const [n, { check, report }] of costs) {
  console.log(`npas check on a ${n.toLocaleString('en-US')}-layer written-out spec: ${check.toFixed(0)} ms of CPU; npas report on it: ${report.toFixed(0)} ms (×${(report / check).toFixed(2)} of check${n >= 10_000 ? '; target ≤ 1.5' : ''})`);
}
const small = costs.get(1_000)!;
const large = costs.get(10_000)!;
console.log(`10,000 vs 1,000 layers: check ×${(large.check / small.check).toFixed(2)}, report ×${(large.report / small.report).toFixed(2)} (linear: about 10)`);

// Issue 12: distinct instances and variant chains must grow linearly too (they were quadratic:
// merging totals copied a growing map per instance, and each variant re-walked its chain).
const distinctWindows = (n: number): string => `${header}  body = [Decoder(window: i + 1) for i in 0..${n}]\n${footer}`;
const variantChain = (n: number): string => {
  let s = `${header}  body = Decoder * 4\n${footer}`;
  for (let i = 0; i < n; i++) s += `variant V${i} of ${i === 0 ? 'M' : `V${i - 1}`} { d = ${1024 + 64 * ((i % 5) + 1)} }\n`;
  return s;
};
const growthRow = (label: string, make: (n: number) => string, sizes: readonly number[]): void => {
  const times = sizes.map((n) => time(make(n), 3));
  const first = times[0]!;
  console.log(`  ${label.padEnd(34)} ${times.map((t, i) => `${sizes[i]}: ${t.toFixed(0)} ms (×${(t / first).toFixed(2)})`).join('   ')}`);
  console.log(`    ${sizes[sizes.length - 1]} vs ${sizes[0]}: ×${(times[times.length - 1]! / first).toFixed(2)} for ×${sizes[sizes.length - 1]! / sizes[0]!} the size (linear target: ≤ 10 for ×8)`);
};
console.log('\ndistinct instances and variant chains (median of 3):');
growthRow('distinct-window comprehension', distinctWindows, [2_500, 5_000, 10_000, 20_000]);
growthRow('variant chain (each of the last)', variantChain, [1_250, 2_500, 5_000, 10_000]);

// Variant chains where each variant adds a sharing statement (issue 12's remaining case). Variant
// k carries k statements, so resolving and walking each variant's own statements costs O(k): the
// chain is Θ(N²) in statement resolutions by construction; the rows show the growth per
// doubling (×4 is quadratic, ×2 linear). The work budget charges each statement per variant
// carrying it, so such a chain is refused past ~1,400 variants (docs/diagnostics.md); a chain
// isolating one more instance per variant (`freeze body[k]`, k growing) past ~280.
const statementChain = (statement: (i: number) => string) => (n: number): string => {
  let s = `${header}  body = Decoder * 8\n${footer}`;
  for (let i = 0; i < n; i++) s += `variant V${i} of ${i === 0 ? 'M' : `V${i - 1}`} { ${statement(i)} }\n`;
  return s;
};
console.log('\nvariant chains adding a statement per variant (median of 3; growth per doubling):');
const chainSizes = [125, 250, 500, 1_000];
growthRow('each variant freezes body again', statementChain(() => 'freeze body'), chainSizes);
growthRow('alternating freeze / train norm', statementChain((i) => (i % 2 === 0 ? 'freeze norm' : 'train norm')), chainSizes);
growthRow('freeze body[k mod 8]', statementChain((i) => `freeze body[${i % 8}]`), chainSizes);

// Supernets (issue 15's "a supernet of at least 10⁶ subnets enumerates its budget-feasible Pareto
// front in seconds"): measuring the choices (3 compilations each) and walking every class of
// subnets under a filter, with the front and the best 20 by FLOPs.
// The last case adds a model-wide width (`elastic d: [768, 1024]`): every class is walked once per width.
const supernetSpec = (depths: string, widths: string | undefined): string =>
  elasticDecoderSpec({ vocab: 32_000, d: 1024, headDim: 64, depth: 24, model: 'Elastic', choices: 'expand: [2, 3, 4], heads: [8, 16]', depths, ...(widths ? { widths } : {}) });
console.log('\nsupernets: measure the choices, then enumerate under a filter with the front and the best 20 by FLOPs (median of 3):');
for (const [depths, widths, where] of [
  ['[6, 7, 8]', undefined, 'params.active <= 150M and latency.decode <= 2ms'],
  ['[12, 18, 24]', undefined, 'params.active <= 400M and latency.decode <= 2ms'],
  ['[12, 18, 24]', '[768, 1024]', 'params.active <= 400M and latency.decode <= 2ms'],
] as const) {
  const samples: number[] = [];
  let line = '';
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const c = compile(supernetSpec(depths, widths));
    const s = analyzeSupernet(c, 'Elastic', c.settings({ seq: 4096 }));
    if ('error' in s) throw new Error(s.error);
    const filter = parseSubnetFilter(where);
    if ('error' in filter) throw new Error(filter.error);
    const r = enumerateSubnets(s.supernet, { where: filter.constraints, by: 'flops.prefill', top: 20 });
    if ('error' in r) throw new Error(r.error);
    samples.push(performance.now() - t0);
    line = `${s.supernet.subnets.toLocaleString('en-US')} subnets (${r.classes.toLocaleString('en-US')} classes), ${r.feasibleSubnets.toLocaleString('en-US')} feasible, front of ${r.front.length}`;
  }
  console.log(`  depths ${depths.padEnd(13)}${widths ? ` widths ${widths}` : ''} where ${where}: ${line}: ${median(samples).toFixed(0)} ms`);
}

// With the dashboard open, an edit to the 10,000-layer written-out spec on the extension host's
// thread: the language server (a child process here, its analysis in a worker thread) answers
// `npas/dashboardData` with the data encoded; the host sends the edit and the request and
// forwards the answer to the page undecoded, and runs no engine code (dashboard-panel.ts
// computes locally only when no server runs). Beside it, the engine's dashboardData of that spec
// on one thread (what an edit cost the host before the server answered) and decoding the data
// (what it cost the host before the answer was encoded; the page's share now).
void (async () => {
  const settings = { seq: 4096, batch: 1, dtype: 'bf16' as const, device: 'H100' };
  const engine: number[] = [];
  for (let i = 0; i <= 5; i++) {
    const c = cpuMs(() => dashboardData(big, settings, { source: 'big.npas' }).models.length);
    if (i > 0) engine.push(c);
  }
  const edit = await dashboardEdit(big, { line: 2, from: 6, to: 10, values: ['1088', '1024'] }, 7);
  console.log(`\nwith the dashboard open, an edit to the 10,000-layer written-out spec (median of 7, \`node dist/server.js --stdio\` answering npas/dashboardData):`);
  console.log(`  extension host's thread: ${edit.hostCpuMs.toFixed(1)} ms of CPU per edit — sending the edit and the request, receiving the ${(edit.answerBytes / 1024).toFixed(0)} KiB encoded answer and forwarding it to the page undecoded; no engine call, no decoding`);
  console.log(`  decoding that data (the page's share; the host's before the answer was encoded): ${edit.decodeMs.toFixed(1)} ms of CPU`);
  console.log(`  the engine's dashboardData of it on one thread (the host's cost before npas/dashboardData): ${median(engine).toFixed(0)} ms of CPU`);
  console.log(`  the data arrives ${edit.roundTripMs.toFixed(0)} ms after the edit (the server's worker analyses meanwhile)`);
})();
