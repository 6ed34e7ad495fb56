// Hover: the numbers of the thing under the cursor, as Markdown with exact integers.
// - a model or variant name: stored / effective / active / trainable params, FLOPs (prefill per
//   token, decode at the settings' seq; a multiply-add = 2 FLOPs), KV cache at (seq, batch,
//   dtype), memory, roofline latency on the device, budgets;
// - a member binding or a path segment naming one: that node's numbers in every model and
//   variant that holds it (report ranges are binding ranges);
// - a block name: one instance's numbers; a constant or parameter: its exact value;
// - a layer kind, argument, strategy, keyword or builtin symbol: its signature and docs;
// - a budget constraint: the measured value against the limit; a number: its exact value.

import type { AnalysisResult } from '../analysis/analyze.js';
import { BUDGET_METRICS } from '../analysis/budgets.js';
import { findDevice } from '../analysis/devices.js';
import { resolvePrecision } from '../analysis/precision.js';
import { routedEffectiveBasis, routedEffectiveSummary } from '../analysis/routed-effective-params.js';
import { DTYPE_BITS, isDType } from '../analysis/dtypes.js';
import type { BudgetResult, ModelReport, NodeReport, ParallelReport, ParamCounts, SharedPrefixReport } from '../analysis/report-types.js';
import type { Factor, TransferTable } from '../parameterization/transfer.js';
import type { FactorizedWeightRow } from '../sharing/factorized-weights.js';
import { ACTIVATIONS } from '../layers/arg-specs.js';
import type { LayerKind } from '../layers/layer-kind.js';
import * as Q from '../numbers/rational.js';
import { NUMBER_SUFFIXES } from '../numbers/units.js';
import type { Value } from '../semantics/values.js';
import type { BlockDeclaration, Constraint, BudgetDeclaration, Statement, TextRange } from '../syntax/syntax-tree.js';
import { indexOf, instanceTotals, instancesIn, valueKind, type NodeOccurrence } from './analysis-index.js';
import { argumentMarkdown, layerMarkdown } from './layer-docs.js';
import { referenceAt, type Reference, type WeightReference } from './references.js';
import { renderValue } from './render-value.js';
import type { NameDefinition } from './scopes.js';
import { sourceTokens, tokenAt } from './source-tokens.js';
import { sameRange } from './syntax-walk.js';
import { compactCount, compactFlops, exactBytes, formatSeconds, groupDigits } from './text-format.js';
import { KEYWORD_DOCS, SHARE_MODIFIER_DOCS, findStatementMethod } from './vocabulary.js';
import { isShareModifier, type ShareModifier } from '../syntax/token.js';

export interface HoverResult {
  /** The span the hover is about (a name, a constraint…). */
  readonly range: TextRange;
  readonly markdown: string;
}

/** The hover at `offset`, or undefined where there is nothing to say. */
export function hoverAt(text: string, analysis: AnalysisResult, offset: number): HoverResult | undefined {
  const ref = referenceAt(analysis.file, offset);
  if (ref) {
    const markdown = hoverOf(ref, text, analysis);
    if (markdown) return { range: ref.range, markdown };
  }
  const token = tokenAt(sourceTokens(text).tokens, offset);
  if (token?.kind === 'param') {
    // The statement's keyword shows what it yields for the model (or variant) it is written in.
    const model = enclosingModel(analysis, offset);
    const table = model === undefined ? undefined : indexOf(analysis).model(model)?.parameterization;
    if (table) return { range: { start: token.start, end: token.end }, markdown: `\`param\` — ${KEYWORD_DOCS.param}\n\n${parameterizationMarkdown(table)}` };
  }
  if (token?.kind === 'factorize') {
    // The statement's keyword shows the weights it factorises and both executions' costs.
    const model = enclosingModel(analysis, offset);
    const rows = model === undefined ? undefined : indexOf(analysis).model(model)?.factorized?.filter((r) => r.statement.start <= offset && offset < r.statement.end);
    if (rows && rows.length > 0) return { range: { start: token.start, end: token.end }, markdown: `\`factorize\` — ${KEYWORD_DOCS.factorize}\n\n${factorizedMarkdown(rows)}` };
  }
  if (token?.kind === 'smash') {
    const model = enclosingModel(analysis, offset);
    const report = model === undefined ? undefined : analysis.models.find((m) => m.name === model);
    if (report?.smashed) return { range: { start: token.start, end: token.end }, markdown: `\`smash\` — ${KEYWORD_DOCS.smash}\n\n${smashedMarkdown(report.smashed)}` };
  }
  if (token?.kind === 'parallel') {
    const model = enclosingModel(analysis, offset);
    const report = model === undefined ? undefined : analysis.models.find((m) => m.name === model);
    if (report?.parallel) return { range: { start: token.start, end: token.end }, markdown: `\`parallel\` — ${KEYWORD_DOCS.parallel}\n\n${parallelMarkdown(report.parallel)}` };
  }
  if (token && KEYWORD_DOCS[token.kind]) return { range: { start: token.start, end: token.end }, markdown: `\`${token.kind}\` — ${KEYWORD_DOCS[token.kind]}` };
  const modifier = token ? shareModifierAt(analysis, token) : undefined;
  if (token && modifier) return { range: { start: token.start, end: token.end }, markdown: SHARE_MODIFIER_DOCS[modifier] };
  return undefined;
}

/** The model or variant whose declaration holds `offset` (a statement keyword's hover reports on it). */
function enclosingModel(analysis: AnalysisResult, offset: number): string | undefined {
  const decl = analysis.file.items.find((i) => (i.kind === 'Model' || i.kind === 'Variant') && i.range.start <= offset && offset < i.range.end);
  return decl && (decl.kind === 'Model' || decl.kind === 'Variant') ? decl.name.text : undefined;
}

/** The `kv`/`heads`/`experts` a `share` statement's modifier is, when `token` is one. */
function shareModifierAt(analysis: AnalysisResult, token: { readonly kind: string; readonly start: number; readonly end: number }): ShareModifier | undefined {
  if (token.kind !== 'Identifier') return undefined;
  let found: ShareModifier | undefined;
  const visit = (members: readonly { readonly kind: string }[]): void => {
    for (const m of members) {
      if (m.kind === 'Statement') {
        const s = m as Statement;
        if (s.modifier && s.modifier.range.start === token.start && s.modifier.range.end === token.end && isShareModifier(s.modifier.text)) found = s.modifier.text;
      } else if (m.kind === 'Block') visit((m as BlockDeclaration).members);
    }
  };
  for (const item of analysis.file.items) if (item.kind === 'Model' || item.kind === 'Variant' || item.kind === 'Block') visit(item.members);
  return found;
}

function hoverOf(ref: Reference, text: string, analysis: AnalysisResult): string | undefined {
  const index = indexOf(analysis);
  switch (ref.kind) {
    case 'model': {
      const report = index.model(ref.name);
      if (report) return modelMarkdown(report);
      return ref.decl ? `**${ref.decl.kind === 'Model' ? 'model' : 'variant'} ${ref.name}** — no report: fix the errors in its declaration first.` : `\`${ref.name}\` is not a model or variant of this file.`;
    }
    case 'definition':
      return definitionMarkdown(ref.definition, text, analysis, ref.overrides);
    case 'builtin':
      return builtinMarkdown(ref.name, ref.what, ref.layer);
    case 'argument': {
      const spec = ref.layer?.args.find((a) => a.name === ref.name);
      if (ref.layer && spec) return argumentMarkdown(ref.layer, spec);
      const param = ref.block?.parameters.find((p) => p.name.text === ref.name);
      if (ref.block && param) return `\`${ref.name}\` — parameter of block **${ref.block.name.text}**${param.defaultValue ? `, default \`${text.slice(param.defaultValue.range.start, param.defaultValue.range.end)}\`` : ' (required)'}`;
      return undefined;
    }
    case 'path':
      if (ref.target) return definitionMarkdown(ref.target, text, analysis, undefined);
      return ref.weight ? weightMarkdown(ref.weight, analysis) : undefined;
    case 'method': {
      const m = findStatementMethod(ref.name, ref.statement.keyword, ref.statement.modifier?.text);
      if (!m) return undefined;
      const args = m.args.length > 0 ? ['', ...m.args.map((a) => `- \`${a.name}\`${a.required ? ' (required)' : ''} — ${a.doc}`)] : [];
      return [`\`${m.call ? `${m.name}(${m.args.map((a) => a.name).join(', ')})` : m.name}\` — ${m.doc}`, ...args].join('\n');
    }
    case 'constraint':
      return constraintMarkdown(ref.constraint, ref.budget, text, analysis);
    case 'number':
      return numberMarkdown(ref.literal.digits, ref.literal.suffix);
  }
}

// ---------------------------------------------------------------------------------------------
// Models
// ---------------------------------------------------------------------------------------------

/** The full report of a model or variant. */
export function modelMarkdown(m: ModelReport): string {
  const o = m.options;
  const p = resolvePrecision(o);
  const per = m.flops.unit === 'token' ? 'token' : 'sample';
  const title = m.kind === 'model' ? `**model ${m.name}**` : `**variant ${m.name}** of ${m.base ?? '?'}`;
  const lines = [
    title,
    '',
    paramsTable(m.params),
    ...(m.routedEffective ? ['', `**Routed effective params**: ${routedEffectiveSummary(m.routedEffective)} (${routedEffectiveBasis(m.routedEffective)})`] : []),
    ...(m.tasks ? ['', tasksLine(m.tasks)] : []),
    '',
    `**FLOPs** (a multiply-add = 2 FLOPs) at seq ${groupDigits(o.seq)}:`,
    `- prefill: ${groupDigits(m.flops.prefillPerToken)} per ${per} (${compactFlops(m.flops.prefillPerToken)}/${per}; ${groupDigits(m.flops.prefill)} for ${o.batch > 1 ? `${groupDigits(o.batch)} × ` : ''}${groupDigits(o.seq)} tokens)`,
    `- decode: ${groupDigits(m.flops.decode)} per step attending to ${groupDigits(o.seq)} cached positions${o.batch > 1 ? ` (${groupDigits(o.batch)} sequences)` : ''}`,
    `- training: ${groupDigits(m.flops.trainPerToken)} per ${per}`,
    ...(m.flops.setup !== undefined ? [`- setup, once before serving: ${groupDigits(m.flops.setup)} (${compactFlops(m.flops.setup)}; Arrow's prototypes)`] : []),
    '',
    `**KV cache** at seq ${groupDigits(o.seq)}, batch ${groupDigits(o.batch)}, ${p.kv}: ${exactBytes(m.kvCacheBytes)}`,
    '',
    `**Memory** (weights ${p.weights}, activations ${p.activations}): weights ${exactBytes(m.memory.weightBytes)}; inference (weights + KV) ${exactBytes(m.memory.inferenceBytes)}; training ${exactBytes(m.memory.trainingBytes)}`,
    '',
    `**Roofline on ${m.latency.device}** (compute ${p.compute}): prefill ${formatSeconds(m.latency.prefill.seconds)} (${m.latency.prefill.bound}-bound), decode step ${formatSeconds(m.latency.decode.seconds)} (${m.latency.decode.bound}-bound)`,
  ];
  for (const r of m.routing) {
    // Under a skewed load each expert has its own probability p_i of being in a token's top-k.
    const law = r.load ? `Σ_i 1 − (1 − p_i)^B, ${r.load.hotExperts} hot experts taking ${r.load.hotShare} of the selections` : 'E·(1 − (1 − k/E)^B), uniform routing';
    if (r.draws === 1) lines.push(`- experts read per decode step at batch ${groupDigits(o.batch)}: ${r.expectedDistinct} of ${r.experts} (top-${r.topK}; ${law})`);
    else lines.push(`- experts read per decode step at batch ${groupDigits(o.batch)}: ${r.draws} × ${r.expectedDistinct} of ${r.experts} (${r.draws} iterations of top-${r.topK}; ${law}), ${r.touched} distinct over the C·B selections`);
    // A prefill step's B·S tokens choose alike: the roofline's prefill reads only these of the stored experts.
    lines.push(`- experts read per prefill at batch ${groupDigits(o.batch)} × ${groupDigits(o.seq)} tokens: ${r.prefillTouched} of ${r.experts} per layer (the same law over ${r.draws > 1 ? 'C·' : ''}B·S selections)`);
  }
  for (const pool of m.pools) {
    lines.push(
      `- expert pools of \`${pool.stack}\`: ${groupDigits(pool.pools)} pools of ${groupDigits(pool.experts)} experts for ${groupDigits(pool.layers)} layers — stored ${groupDigits(pool.storedExperts)} experts, active ${groupDigits(pool.activeExperts)} per token; ` +
        `a decode step at batch ${groupDigits(o.batch)} touches ${pool.touchedExperts} (the union of the layers' selections, Σ E·(1 − (1 − k/E)^(g·B)); ${groupDigits(pool.touchedParams)} params) and reads ${pool.readExperts}`,
    );
  }
  if (m.budgets.length > 0) {
    lines.push('', '**Budgets**:');
    for (const b of m.budgets) lines.push(`- ${b.ok ? '✅' : '❌'} \`${b.constraint}\` — measured ${budgetNumber(b.constraint, b.value)}`);
  }
  if (m.parallel) lines.push('', parallelMarkdown(m.parallel));
  if (m.sharedPrefix) lines.push('', sharedPrefixMarkdown(m.sharedPrefix));
  if (m.smashed) lines.push('', smashedMarkdown(m.smashed));
  if (m.parameterization) lines.push('', parameterizationMarkdown(m.parameterization));
  return lines.join('\n');
}

/** What a `parallel` statement makes of the model (docs/language.md, "Parallel streams"). */
export function parallelMarkdown(p: ParallelReport): string {
  const what = p.cache === 'shared' ? `${p.streams} workers over one shared KV cache (prompt prefilled once)` : `${p.streams} streams, a KV cache each`;
  const merge = p.merge ? `; they merge before \`${p.merge}\`, which runs once` : '';
  const stores: string[] = [];
  if (p.prefixParams > 0n) stores.push(`${groupDigits(p.prefixParams)} prefix params (${p.prefixTokens} tokens per stream and attention layer)`);
  if (p.aggregatorParams > 0n) stores.push(`${groupDigits(p.aggregatorParams)} aggregator params`);
  return `**Parallel streams**: ${what}${merge}. FLOPs${p.cache === 'shared' ? ' of a decode step' : ', activations and KV'} ×${p.streams}; the weights are stored once and a decode step reads them once${stores.length > 0 ? `; stores ${stores.join(' and ')}` : ''}.`;
}

/** What the settings' shared prompt saves (docs/language.md, "Shared prompts"). */
export function sharedPrefixMarkdown(s: SharedPrefixReport): string {
  const C = (s.computedTokens - s.tokens) / s.continuations;
  const saved = (shared: bigint, apart: bigint): string => (shared > 0n && apart > shared ? ` (${ratio(apart, shared)}× less)` : '');
  return [
    `**Shared prompt**: ${groupDigits(s.tokens)} tokens shared by ${groupDigits(s.continuations)} continuations of ${groupDigits(C)} tokens; each continuation attends to the prompt and to itself only (block-sparse mask).`,
    `- tokens computed per sequence: ${groupDigits(s.computedTokens)} instead of ${groupDigits(s.unsharedTokens)}`,
    `- prefill FLOPs: ${groupDigits(s.prefillFlops)} instead of ${groupDigits(s.unsharedPrefillFlops)}${saved(s.prefillFlops, s.unsharedPrefillFlops)}`,
    `- KV cache: ${exactBytes(s.kvCacheBytes)} instead of ${exactBytes(s.unsharedKvCacheBytes)}${saved(s.kvCacheBytes, s.unsharedKvCacheBytes)}`,
  ].join('\n');
}

/** apart / shared to two decimals (a display of two exact counts). */
function ratio(apart: bigint, shared: bigint): string {
  const hundredths = (apart * 100n + shared / 2n) / shared;
  return `${hundredths / 100n}.${String(hundredths % 100n).padStart(2, '0')}`;
}

/** What `smash` statements make of the model (docs/language.md, "Token smashing"). */
export function smashedMarkdown(smashed: NonNullable<ModelReport['smashed']>): string {
  const members = smashed.map((s) => `\`${s.member}\` (${s.tokensPerEntry} tokens per KV entry)`).join(', ');
  return `**Token smashing**: ${members} run over ⌈S / r⌉ positions — FLOPs, attention and the KV cache per position; a decode step runs them and reads their weights once per r tokens. Stored counts are unchanged.`;
}

/** The parameterisation per weight class (every weight of a class follows its rule; `npas param` lists each). */
export function parameterizationMarkdown(t: TransferTable): string {
  const factor = (f: Factor | undefined, none: string): string => {
    if (!f) return none;
    const value = f.formula === '1' ? '1' : `${f.formula} = ${shortNumber(f.value)}`;
    return f.target !== undefined ? `${value} → ${shortNumber(f.target)}` : value;
  };
  const alpha = t.alpha !== undefined ? `, α = ${t.alpha}` : '';
  const lines = [
    `**Parameterisation** \`${t.scheme}\`${alpha}: width ${t.width} (base ${t.baseWidth}, m_N = ${shortNumber(t.widthRatio)}), depth ${t.depth} (base ${t.baseDepth}, m_L = ${shortNumber(t.depthRatio)})`,
    '',
    '| class | e.g. | init std | Adam LR | multiplier | residual | weight decay |',
    '|:--|:--|:--|:--|:--|:--|:--|',
  ];
  const seen = new Set<string>();
  for (const r of t.rows) {
    if (seen.has(r.weightClass)) continue;
    seen.add(r.weightClass);
    lines.push(`| ${r.weightClass} | \`${r.path}\` | ${factor(r.initStd, 'norm 1, bias 0')} | ${factor(r.lr, '')} | ${factor(r.output, '')} | ${factor(r.residual, '')} | ${factor(r.weightDecay, 'none')} |`);
  }
  return lines.join('\n');
}

/** The weights a `factorize` statement stores as factors, and what each execution costs (a multiply-add = 2 FLOPs). */
export function factorizedMarkdown(rows: readonly FactorizedWeightRow[]): string {
  const lines = [
    '| weight | method | stored / dense | materialise per step | per token: dense · factors | counted |',
    '|:--|:--|--:|--:|:--|:--|',
  ];
  for (const r of rows) {
    const copies = r.copies > 1 ? ` ×${r.copies}` : '';
    const central = r.centralShared && r.centralShared !== 'own' ? ` (central ${groupDigits(r.centralElements)} once per ${r.centralShared === 'layers' ? 'weight across layers' : 'layer across experts'})` : '';
    const perToken = r.chainMacsPerToken === undefined ? 'a convolution: dense' : `${compactFlops(2n * r.denseMacsPerToken)} · ${compactFlops(2n * r.chainMacsPerToken)}${r.chainSetupMacs > 0n ? ` (+${compactFlops(2n * r.chainSetupMacs)}/step)` : ''}, ${r.cheaperPerToken === 'factors' ? 'factors cheaper' : 'dense cheaper'}`;
    const counted = r.execution === 'factors' ? 'factors applied per token' : r.materialisedBecause === 'sparse mask' ? 'W materialised (its sparse mask replaces entries of W: W must exist), dense matmul' : `W materialised, dense matmul${r.factorsCheaperBelowTokens > 1n ? ` (factors would train cheaper below ${groupDigits(r.factorsCheaperBelowTokens)} tokens per step)` : ''}`;
    lines.push(`| \`${r.path}\` ${[r.dOut, r.dIn, ...r.kernel].join('×')}${copies} | ${r.method} | ${groupDigits(r.factorElements)} / ${groupDigits(r.denseElements)}${central} | ${compactFlops(2n * r.reconstructMacs)} | ${perToken} | ${counted} |`);
  }
  lines.push('', 'FLOPs and the roofline count, per weight, the execution that costs no more at any token count: the factors applied to each token (their setup once per step) when that is no dearer per token and per step, else W materialised from its factors (once per training step, 6 × its MACs in training FLOPs; once at inference) and the dense matmul. A multiply-add is 2 FLOPs.');
  return lines.join('\n');
}

function shortNumber(x: number): string {
  return Number(x.toPrecision(4)).toString();
}

function paramsTable(p: ParamCounts): string {
  return [
    '| params | |',
    '|:--|--:|',
    `| stored | ${groupDigits(p.stored)} |`,
    `| effective | ${groupDigits(p.effective)} |`,
    `| active | ${groupDigits(p.active)} |`,
    `| trainable | ${groupDigits(p.trainable)} |`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Bindings, blocks, parameters
// ---------------------------------------------------------------------------------------------

function definitionMarkdown(def: NameDefinition, text: string, analysis: AnalysisResult, overrides: NameDefinition | undefined): string | undefined {
  const index = indexOf(analysis);
  const source = (r: TextRange): string => codeBlock(text.slice(r.start, r.end));
  const overrideNote = overrides ? `\n\nOverrides \`${text.slice(overrides.range.start, overrides.range.end).split('\n')[0]}\`.` : '';
  switch (def.kind) {
    case 'binding': {
      const evaluations = index.valuesOf(def.nameRange);
      const first = evaluations[0];
      if (first && (first.value.kind === 'module' || first.value.kind === 'block')) {
        const occurrences = index.nodesAt(def.range);
        const head = `**${def.name}** · ${renderValue(first.value)}`;
        return [head, source(def.range), nodeTable(occurrences, def.owner?.kind === 'Block' ? `per instance of block ${def.owner.name.text}` : undefined)].join('\n\n') + overrideNote;
      }
      if (first) return [`**${def.name}** · ${valueKind(first.value)}`, source(def.range), valuesLine(evaluations)].join('\n\n') + overrideNote;
      return [`**${def.name}**`, source(def.range), '_not evaluated (unused, or an error stopped it)_'].join('\n\n') + overrideNote;
    }
    case 'parameter': {
      const where = def.owner.kind === 'Model' ? `model ${def.owner.name.text}` : `block ${def.owner.name.text}`;
      const evaluations = index.valuesOf(def.nameRange);
      const value = evaluations.length > 0 ? valuesLine(evaluations) : def.parameter.defaultValue ? `default: \`${text.slice(def.parameter.defaultValue.range.start, def.parameter.defaultValue.range.end)}\`` : 'required';
      return [`**${def.name}** · parameter of ${where}`, value].join('\n\n');
    }
    case 'block':
      return blockMarkdown(def.block, analysis);
    case 'loop-variable': {
      const c = def.comprehension;
      const from = c.from ? text.slice(c.from.range.start, c.from.range.end) : '0';
      return `**${def.name}** · loop variable, from ${from} up to (excluding) ${text.slice(c.to.range.start, c.to.range.end)}`;
    }
  }
}

/** `= 8,192`, or one line per model where the value differs (`d = 512` in a variant). */
function valuesLine(evaluations: readonly { model: string | undefined; value: Value }[]): string {
  const distinct = new Map<string, string[]>();
  for (const e of evaluations) {
    const v = renderValue(e.value);
    const models = distinct.get(v) ?? [];
    if (e.model && !models.includes(e.model)) models.push(e.model);
    distinct.set(v, models);
  }
  if (distinct.size === 1) return `= **${[...distinct.keys()][0]!}**`;
  const lines = ['Values:'];
  for (const [v, models] of distinct) lines.push(`- **${v}**${models.length > 0 ? ` in ${models.join(', ')}` : ''}`);
  return lines.join('\n');
}

/** Numbers of a report node per model or variant holding it (first instance each). */
function nodeTable(occurrences: readonly NodeOccurrence[], note: string | undefined): string {
  const rows = new Map<string, NodeReport>();
  for (const o of occurrences) if (!rows.has(o.model.name)) rows.set(o.model.name, o.node);
  if (rows.size === 0) return '_no numbers: the model holding it has errors_';
  const lines = ['| | stored | effective | active | trainable | FLOP/token |', '|:--|--:|--:|--:|--:|--:|'];
  for (const [model, n] of rows) {
    const count = n.kind === 'stack' ? ` (×${groupDigits(n.count)})` : '';
    lines.push(`| ${model}${count} | ${groupDigits(n.params.stored)} | ${groupDigits(n.params.effective)} | ${groupDigits(n.params.active)} | ${groupDigits(n.params.trainable)} | ${groupDigits(n.flopsPerToken)} |`);
  }
  lines.push('', `${note ? `${note}; ` : ''}FLOP/token: forward, a multiply-add = 2 FLOPs, attention's context term excluded.`);
  return lines.join('\n');
}

/** One instance of a block in each model that uses it, and how many instances there are. */
function blockMarkdown(block: BlockDeclaration, analysis: AnalysisResult): string {
  const occurrences = indexOf(analysis).nodesAt(block.range).filter((o) => o.node.kind === 'block');
  const params = block.parameters.map((p) => p.name.text).join(', ');
  const head = `**block ${block.name.text}**${block.parameters.length > 0 ? `(${params})` : ''}`;
  if (occurrences.length === 0) return `${head}\n\n_not instantiated by any model_`;
  const perModel = new Map<string, NodeOccurrence>();
  for (const o of occurrences) if (!perModel.has(o.model.name)) perModel.set(o.model.name, o);
  const lines = [head, '', '| one instance in | params | FLOP/token | instances |', '|:--|--:|--:|--:|'];
  for (const [model, o] of perModel) {
    const one = instanceTotals(o.node);
    const instances = instancesIn(occurrences, o.model);
    lines.push(`| ${model} | ${groupDigits(one.params)} | ${groupDigits(one.flops)} | ${instances === undefined ? '—' : groupDigits(instances)} |`);
  }
  lines.push('', 'params: the weights one instance applies (before sharing between instances); FLOP/token: forward, a multiply-add = 2 FLOPs, attention\'s context term excluded.');
  return lines.join('\n');
}

function weightMarkdown(w: WeightReference, analysis: AnalysisResult): string | undefined {
  const value = indexOf(analysis).valuesOf(w.layerBinding.nameRange)[0]?.value;
  if (!value || value.kind !== 'module' || value.node.kind !== 'layer') return undefined;
  const spec = value.node.cost.weights.find((x) => x.name === w.weight);
  if (!spec) return `\`${value.node.layerKind}\` has no weight \`${w.weight}\` (it has ${value.node.cost.weights.map((x) => x.name).join(', ') || 'none'})`;
  const size = spec.shape.reduce((a, b) => a * BigInt(b), 1n) * BigInt(spec.copies);
  const copies = spec.copies > 1 ? ` × ${groupDigits(spec.copies)} copies (${groupDigits(spec.activeCopies)} active)` : '';
  return `**${w.layerBinding.name}.${w.weight}** · ${spec.role} weight of ${value.node.layerKind}\n\nshape ${spec.shape.map((d) => groupDigits(d)).join(' × ')}${copies} = **${groupDigits(size)}** params`;
}

// ---------------------------------------------------------------------------------------------
// Budgets, builtins, numbers
// ---------------------------------------------------------------------------------------------

function constraintMarkdown(c: Constraint, budget: BudgetDeclaration, text: string, analysis: AnalysisResult): string {
  const written = text.slice(c.range.start, c.range.end);
  const metric = c.metric.map((m) => m.text).join('.');
  const spec = BUDGET_METRICS.get(metric);
  const report = indexOf(analysis).model(budget.target.text);
  const result: BudgetResult | undefined = report?.budgets.find((b) => sameRange(b.range, c.range));
  const lines = [`**budget ${budget.target.text}** · \`${written}\``];
  if (spec) lines.push('', `\`${metric}\`: ${spec.doc}${spec.args.length > 0 ? ` (settings: ${spec.args.join(', ')})` : ''}`);
  if (result) {
    lines.push('', `measured **${budgetNumber(metric, result.value)}** ${c.operator} limit **${budgetNumber(metric, result.limit)}** — ${result.ok ? '✅ met' : '❌ violated'}`);
  } else if (!spec) lines.push('', `unknown metric \`${metric}\``);
  else lines.push('', '_not measured: the constraint or its target has errors_');
  return lines.join('\n');
}

/** A budget value in its metric's unit: a count, bytes, or seconds (decimal strings). */
function budgetNumber(constraintOrMetric: string, value: string): string {
  const metric = /^[a-z_.]+/.exec(constraintOrMetric)?.[0] ?? '';
  const unit = BUDGET_METRICS.get(metric)?.unit ?? 'count';
  if (unit === 'bytes' && /^\d+$/.test(value)) return exactBytes(BigInt(value));
  if (unit === 'seconds') return formatSeconds(Number(value));
  return groupDigits(value);
}

const FUNCTION_DOCS: Readonly<Record<string, string>> = {
  min: '`min(a, b, …)` — the smallest of its arguments (same unit).',
  max: '`max(a, b, …)` — the largest of its arguments (same unit).',
  ceil: '`ceil(x)` — the smallest integer ≥ x.',
  floor: '`floor(x)` — the largest integer ≤ x.',
  round: '`round(x)` — the nearest integer, halves away from zero.',
  abs: '`abs(x)` — the absolute value.',
};

function builtinMarkdown(name: string, what: 'layer' | 'function' | 'symbol' | 'unknown', layer: LayerKind | undefined): string | undefined {
  if (what === 'layer' && layer) return layerMarkdown(layer);
  if (what === 'function') return FUNCTION_DOCS[name];
  if (what !== 'symbol') return undefined;
  if (isDType(name)) return `\`${name}\` — element type, ${DTYPE_BITS[name]} bits per element`;
  const device = findDevice(name);
  if (device && device.name === name) {
    return `\`${name}\` — ${device.description}: ${compactFlops(device.peakFlops.bf16)}/s bf16 dense, ${compactCount(device.bandwidth)}B/s memory bandwidth\n\nSource: ${device.source}`;
  }
  if (ACTIVATIONS.includes(name)) return `\`${name}\` — activation function (no parameters)`;
  return `\`${name}\` — builtin name`;
}

function numberMarkdown(digits: string, suffix: string): string | undefined {
  const mantissa = Q.parseDecimal(digits);
  const meaning = NUMBER_SUFFIXES.get(suffix);
  if (!mantissa || !meaning) return undefined;
  const value = Q.mul(mantissa, meaning.scale);
  return `= **${renderValue({ kind: 'number', value, unit: meaning.unit })}**`;
}

function codeBlock(source: string): string {
  return ['```npas', source.length > 400 ? `${source.slice(0, 400)}…` : source, '```'].join('\n');
}

/** The model hover's tasks line: what each task owns alone and what all share (per-task subsets listed task by task). */
function tasksLine(t: NonNullable<ModelReport['tasks']>): string {
  if (!t.byTask) return `**Tasks**: ${groupDigits(t.tasks)} — each task owns ${groupDigits(t.perTask)} stored params (its adapters), all share ${groupDigits(t.shared)}: stored = shared + tasks × per task`;
  const each = t.byTask.map((own, i) => `task ${i} ${groupDigits(own)}`).join(', ');
  return `**Tasks**: ${groupDigits(t.tasks)}, each owning its own adapters (for_tasks) — ${each}; all share ${groupDigits(t.shared)}: stored = shared + Σ per task`;
}
