// Completion: what may be written at the cursor, by site (see completion-context.ts):
// layer kinds with signature snippets and names in scope in expressions; the arguments of the
// enclosing call that are not given yet (`heads: `); enum values after `act: `; units after a
// number; keywords at the start of a member; strategies after `share X:` and `share kv X:`;
// adapters after `relax`; module members in paths; budget metrics in a budget body.

import type { AnalysisResult } from '../analysis/analyze.js';
import type { Compilation, ImportedDeclaration } from '../analysis/compilation.js';
import { BUDGET_METRICS } from '../analysis/budgets.js';
import { DEVICE_NAMES } from '../analysis/devices.js';
import { DTYPE_BITS, DTYPE_NAMES } from '../analysis/dtypes.js';
import { PRECISION_CLASSES, PRECISION_CLASS_DOCS } from '../analysis/precision.js';
import { LAYER_KINDS, findLayerKind } from '../layers/registry.js';
import type { LayerKind } from '../layers/layer-kind.js';
import { NUMBER_SUFFIXES } from '../numbers/units.js';
import { BUILTIN_FUNCTIONS } from '../semantics/values.js';
import type { TextRange } from '../syntax/syntax-tree.js';
import { indexOf } from './analysis-index.js';
import { completionContext, type CallSite } from './completion-context.js';
import { argumentLine, describeArgType, layerSignature, layerSnippet } from './layer-docs.js';
import { blocksOf } from './references.js';
import { fileScopes, lookup, scopeAt, visibleNames, type NameDefinition, type OwnerDeclaration } from './scopes.js';
import { importedNames } from './imported-names.js';
import { renderValue } from './render-value.js';
import { MEMBER_KEYWORDS, TOP_LEVEL_KEYWORDS, findStatementMethod, methodsAt, type StatementMethod } from './vocabulary.js';
import { appendAll } from '../collections/append-all.js';

export type CompletionKind =
  | 'layer' | 'argument' | 'constant' | 'module' | 'block' | 'parameter' | 'variable' | 'model'
  | 'keyword' | 'symbol' | 'unit' | 'strategy' | 'metric' | 'function' | 'weight';

export interface CompletionEntry {
  readonly label: string;
  readonly kind: CompletionKind;
  /** One line beside the label (a signature, a type, a value). */
  readonly detail?: string;
  /** Markdown. */
  readonly documentation?: string;
  /** What to insert; a snippet with `${1:…}` placeholders when `snippet` is set. */
  readonly insertText: string;
  readonly snippet: boolean;
  /** Orders groups: arguments before names before layer kinds… */
  readonly sortText: string;
}

export interface CompletionResult {
  /** The span every entry replaces (the word or unit suffix being typed). */
  readonly replace: TextRange;
  readonly items: readonly CompletionEntry[];
}

/**
 * Completion entries at `offset`. With the document's `compilation`, the names its imports bring
 * in are offered too (docs/language.md, "Imports"): constants and blocks in expressions, models
 * and variants after `variant X of` and `budget`.
 */
export function completionsAt(text: string, analysis: AnalysisResult, offset: number, compilation?: Compilation): CompletionResult {
  const { site, replace } = completionContext(text, analysis.file, offset);
  const nextChar = text.charAt(replace.end);
  const items: CompletionEntry[] = [];
  switch (site.kind) {
    case 'none':
      break;
    case 'unit':
      for (const [suffix, meaning] of NUMBER_SUFFIXES) {
        if (suffix === '') continue;
        items.push(entry(suffix, 'unit', '1', { detail: unitDetail(suffix, meaning.unit) }));
      }
      break;
    case 'top-level':
      for (const k of TOP_LEVEL_KEYWORDS) items.push(entry(k.keyword, 'keyword', '1', { insertText: k.snippet, snippet: true, documentation: k.doc }));
      break;
    case 'member':
      appendAll(items, memberStart(site.owner, analysis));
      break;
    case 'metric':
      for (const [name, spec] of BUDGET_METRICS) {
        if (!name.startsWith(site.prefix)) continue;
        const rest = name.slice(site.prefix.length);
        items.push(entry(rest, 'metric', '1', { detail: `${spec.unit}${spec.args.length > 0 ? ` · (${spec.args.join(', ')})` : ''}`, documentation: spec.doc }));
      }
      break;
    case 'path':
      appendAll(items, pathMembers(site.owner, site.prefix, analysis));
      if (site.constants) appendAll(items, modelConstants(site.owner, analysis));
      if (site.modifiers) {
        items.push(entry('kv', 'keyword', '0', { documentation: 'Share KV producers: `share kv STACK: every(n) | map([…]) | tied`.' }));
        items.push(entry('heads', 'keyword', '0', { documentation: 'Share head slices: `share heads PATH: pairs(n)`.' }));
        items.push(entry('experts', 'keyword', '0', { documentation: 'Pool the routed experts of MoE layers across the stack, routers per layer: `share experts STACK.moe: sequence(M) | cycle(M) | all | map([…])`.' }));
      }
      break;
    case 'method':
      for (const m of methodsAt(site.slot)) items.push(methodEntry(m, nextChar));
      break;
    case 'argument':
      appendAll(items, argumentNames(site.call, analysis));
      // Budget metric settings are always named; other calls also take positional values.
      if (!site.call.metric) appendAll(items, expressionItems(text, analysis, offset, nextChar, compilation));
      break;
    case 'argument-value':
      appendAll(items, argumentValues(text, site.call, site.argument, analysis, offset, nextChar, compilation));
      break;
    case 'model-name':
      for (const [name, decl] of fileScopes(analysis.file).declarations) items.push(entry(name, 'model', '1', { detail: decl.kind === 'Model' ? 'model' : `variant of ${decl.base.text}` }));
      for (const d of importedEntries(compilation, analysis, ['model', 'variant'])) items.push(entry(d.name, 'model', '1', { detail: `${d.kind} from ${fileName(d.nameRange.source)}` }));
      break;
    case 'precision-class':
      for (const c of PRECISION_CLASSES) items.push(entry(c, 'keyword', '0', { insertText: `${c}: `, detail: 'tensor class', documentation: PRECISION_CLASS_DOCS[c] }));
      break;
    case 'precision-dtype':
      for (const d of DTYPE_NAMES) items.push(entry(d, 'symbol', '0', { detail: `${DTYPE_BITS[d]} bits per element` }));
      if (site.cls === 'master') items.push(entry('none', 'symbol', '0', { detail: 'no master copy' }));
      break;
    case 'expression':
      appendAll(items, expressionItems(text, analysis, offset, nextChar, compilation));
      break;
  }
  return { replace, items: dedupe(items) };
}

function entry(label: string, kind: CompletionKind, group: string, extra: Partial<Omit<CompletionEntry, 'label' | 'kind'>> = {}): CompletionEntry {
  return { label, kind, insertText: extra.insertText ?? label, snippet: extra.snippet ?? false, sortText: `${group}:${label}`, ...(extra.detail !== undefined ? { detail: extra.detail } : {}), ...(extra.documentation !== undefined ? { documentation: extra.documentation } : {}) };
}

function dedupe(items: readonly CompletionEntry[]): CompletionEntry[] {
  const seen = new Set<string>();
  return items.filter((i) => {
    const key = `${i.kind}:${i.label}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const UNIT_DETAILS: Readonly<Record<string, string>> = {
  K: '× 10³', M: '× 10⁶', G: '× 10⁹', B: '× 10⁹ (billions)', T: '× 10¹²',
  Ki: '× 2¹⁰ = 1,024', Mi: '× 2²⁰', Gi: '× 2³⁰', Ti: '× 2⁴⁰',
  KB: '10³ bytes', MB: '10⁶ bytes', GB: '10⁹ bytes', TB: '10¹² bytes',
  KiB: '2¹⁰ bytes', MiB: '2²⁰ bytes', GiB: '2³⁰ bytes', TiB: '2⁴⁰ bytes', bytes: 'bytes',
  s: 'seconds', ms: 'milliseconds', us: 'microseconds',
};

function unitDetail(suffix: string, unit: string): string {
  return UNIT_DETAILS[suffix] ?? unit;
}

// ---------------------------------------------------------------------------------------------
// Expressions and names
// ---------------------------------------------------------------------------------------------

function expressionItems(text: string, analysis: AnalysisResult, offset: number, nextChar: string, compilation: Compilation | undefined): CompletionEntry[] {
  const out: CompletionEntry[] = [];
  const { scope } = scopeAt(analysis.file, offset);
  const visible = visibleNames(scope);
  for (const def of visible) {
    // The binding being written cannot refer to itself (its range may stop before the cursor
    // when the value is still missing: `x = |`).
    if (def.kind === 'binding' && def.range.start <= offset && (offset <= def.range.end || /^[ \t]*$/.test(text.slice(def.range.end, offset)))) continue;
    out.push(nameEntry(def, analysis));
  }
  // What the imports bring in, unless a name of this file's shadows it.
  const shadowed = new Set(visible.map((d) => d.name));
  for (const d of importedEntries(compilation, analysis, ['constant', 'block'])) {
    if (shadowed.has(d.name)) continue;
    const from = `from ${fileName(d.nameRange.source)}`;
    out.push(entry(d.name, d.kind === 'block' ? 'block' : 'constant', '2', { detail: d.value ? `${renderValue(d.value, true)} — ${from}` : `${d.kind} ${from}` }));
  }
  const call = nextChar === '(';
  for (const kind of LAYER_KINDS.values()) {
    out.push(entry(kind.name, 'layer', '3', { detail: layerSignature(kind), documentation: kind.doc, insertText: call ? kind.name : layerSnippet(kind), snippet: !call }));
  }
  for (const f of BUILTIN_FUNCTIONS) out.push(entry(f, 'function', '4', { insertText: call ? f : `${f}($1)`, snippet: !call }));
  for (const k of ['if', 'true', 'false', 'none', 'not']) {
    out.push(entry(k, 'keyword', '5', k === 'if' ? { insertText: 'if ${1:cond} then ${2:a} else ${3:b}', snippet: true } : {}));
  }
  return out;
}

function nameEntry(def: NameDefinition, analysis: AnalysisResult): CompletionEntry {
  switch (def.kind) {
    case 'binding': {
      const value = indexOf(analysis).valuesOf(def.nameRange)[0]?.value;
      const isModule = value?.kind === 'module' || value?.kind === 'block';
      return entry(def.name, isModule ? 'module' : 'constant', '2', value ? { detail: renderValue(value, true) } : {});
    }
    case 'block':
      return entry(def.name, 'block', '2', { detail: `block${def.block.parameters.length > 0 ? `(${def.block.parameters.map((p) => p.name.text).join(', ')})` : ''}` });
    case 'parameter':
      return entry(def.name, 'parameter', '2', { detail: `parameter of ${def.owner.name.text}` });
    case 'loop-variable':
      return entry(def.name, 'variable', '2', { detail: 'loop variable' });
  }
}

// ---------------------------------------------------------------------------------------------
// Calls
// ---------------------------------------------------------------------------------------------

interface ArgumentInfo {
  readonly name: string;
  readonly positional: boolean;
  readonly required: boolean;
  readonly detail: string;
  readonly doc: string;
  readonly values: readonly string[];
}

/** The arguments a call site accepts, in order, from the layer kind, block, metric or method. */
function argumentsOf(call: CallSite, analysis: AnalysisResult): ArgumentInfo[] {
  if (call.metric) {
    const spec = BUDGET_METRICS.get(call.callee);
    return (spec?.args ?? []).map((name) => ({
      name,
      positional: false,
      required: false,
      detail: name.endsWith('dtype') ? 'element type' : name === 'device' ? 'device profile' : name === 'shared_prefix' ? 'integer ≥ 0' : 'positive integer',
      doc:
        ({ seq: 'Sequence length S.', src_seq: 'Source (encoder) length.', batch: 'Batch size.', shared_prefix: 'Prompt tokens P shared by the continuations, computed and cached once (prefix sharing; 0 for none).', continuations: 'Continuations k of the shared prompt, each seq − P tokens (default 2: chosen and rejected).', dtype: 'Element type of weights, activations and KV cache.', device: 'Device profile for the roofline.' } as Record<string, string>)[name] ??
        (name.endsWith('_dtype') ? `Element type of the ${name.slice(0, -'_dtype'.length)} class alone.` : ''),
      values: name.endsWith('dtype') ? [...Object.keys(DTYPE_BITS), ...(name === 'master_dtype' ? ['none'] : [])] : name === 'device' ? DEVICE_NAMES : [],
    }));
  }
  if (call.statement) {
    const m = findStatementMethod(call.callee, call.statement);
    return (m?.args ?? []).map((a, i) => ({ name: a.name, positional: m?.positional === true && i === 0, required: a.required, detail: a.required ? 'required' : 'optional', doc: a.doc, values: a.values ?? [] }));
  }
  const { scope } = scopeAt(analysis.file, call.calleeOffset);
  const def = lookup(scope, call.callee);
  if (def?.kind === 'block') {
    return def.block.parameters.map((p) => ({ name: p.name.text, positional: true, required: !p.defaultValue, detail: p.defaultValue ? 'block parameter, has a default' : 'block parameter, required', doc: '', values: [] }));
  }
  const kind: LayerKind | undefined = def ? undefined : findLayerKind(call.callee);
  if (!kind) return [];
  return kind.args.map((a) => ({
    name: a.name,
    positional: a.positional,
    required: a.required,
    detail: `${describeArgType(a.type)}${a.default !== undefined ? ` = ${String(a.default)}` : a.required ? ' (required)' : ''}`,
    doc: argumentLine(a),
    values: a.type.kind === 'enum' ? a.type.values : a.type.kind === 'bool' ? ['true', 'false'] : [],
  }));
}

function argumentNames(call: CallSite, analysis: AnalysisResult): CompletionEntry[] {
  const args = argumentsOf(call, analysis);
  // Positional arguments already written fill the first positional parameters.
  const taken = new Set(call.named);
  let positional = call.positional;
  for (const a of args) {
    if (positional === 0) break;
    if (a.positional) {
      taken.add(a.name);
      positional--;
    }
  }
  return args
    .filter((a) => !taken.has(a.name))
    .map((a, i) => entry(a.name, 'argument', `0${String(i).padStart(3, '0')}${a.required ? 'a' : 'b'}`, { detail: a.detail, documentation: a.doc, insertText: `${a.name}: ` }));
}

function argumentValues(text: string, call: CallSite, argument: string, analysis: AnalysisResult, offset: number, nextChar: string, compilation: Compilation | undefined): CompletionEntry[] {
  const info = argumentsOf(call, analysis).find((a) => a.name === argument);
  const values = info?.values ?? [];
  // Enumerations and booleans take only their values; anything else is an expression.
  if (values.length === 0) return expressionItems(text, analysis, offset, nextChar, compilation);
  return values.map((v) => entry(v, v === 'true' || v === 'false' || v === 'none' ? 'keyword' : 'symbol', '0', { detail: `${call.callee} ${argument}` }));
}

// ---------------------------------------------------------------------------------------------
// Members, paths, statements
// ---------------------------------------------------------------------------------------------

function memberStart(owner: OwnerDeclaration | undefined, analysis: AnalysisResult): CompletionEntry[] {
  const out: CompletionEntry[] = [];
  const inBlock = owner?.kind === 'Block';
  for (const k of MEMBER_KEYWORDS) {
    // Sharing statements belong in models and variants.
    if (inBlock && k.keyword !== 'block') continue;
    out.push(entry(k.keyword, 'keyword', '1', { insertText: k.snippet, snippet: true, documentation: k.doc }));
  }
  if (owner?.kind === 'Variant') {
    // A variant overrides its base's constants and modules by name.
    for (const def of fileScopes(analysis.file).scopeOf(owner).names.values()) {
      if (def.kind !== 'binding' || def.owner === owner) continue;
      out.push(entry(def.name, 'constant', '0', { detail: `override ${def.owner?.kind === 'Block' ? '' : def.owner?.name.text ?? ''}`.trim(), insertText: `${def.name} = ` }));
    }
  }
  return out;
}

/** Model members for the first segment of a path; the members (or weights) of what the prefix names after it. */
function pathMembers(owner: OwnerDeclaration | undefined, prefix: readonly string[], analysis: AnalysisResult): CompletionEntry[] {
  if (!owner) return [];
  const scopes = fileScopes(analysis.file);
  const index = indexOf(analysis);
  let names: NameDefinition[] = [...scopes.scopeOf(owner).names.values()].filter((d) => d.kind === 'binding');
  let current: NameDefinition | undefined;
  for (const seg of prefix) {
    current = names.find((d) => d.name === seg);
    if (!current) return [];
    const blocks = blocksOf(current, analysis.file, 0);
    names = blocks.flatMap((b) => [...scopes.scopeOf(b).names.values()].filter((d) => d.kind === 'binding' && d.owner === b));
  }
  const out: CompletionEntry[] = [];
  for (const def of names) {
    const value = index.valuesOf(def.nameRange)[0]?.value;
    // Only modules are path targets; constants are not.
    if (value && value.kind !== 'module' && value.kind !== 'block') continue;
    out.push(entry(def.name, 'module', '1', value ? { detail: renderValue(value, true) } : {}));
  }
  if (current && names.length === 0) {
    // After a layer: its weights (`body.attn.q`).
    const value = index.valuesOf(current.nameRange)[0]?.value;
    if (value?.kind === 'module' && value.node.kind === 'layer') {
      for (const w of value.node.cost.weights) out.push(entry(w.name, 'weight', '1', { detail: `${w.role} ${w.shape.join('×')}` }));
    }
  }
  return out;
}

/** The owner model's own constants and parameters (not the file's, which no variant overrides), for `elastic NAME: [v1, v2]`. */
function modelConstants(owner: OwnerDeclaration | undefined, analysis: AnalysisResult): CompletionEntry[] {
  if (!owner || (owner.kind !== 'Model' && owner.kind !== 'Variant')) return [];
  const index = indexOf(analysis);
  const out: CompletionEntry[] = [];
  for (const def of fileScopes(analysis.file).scopeOf(owner).names.values()) {
    // A variant's scope holds its base model's names too (their owner is that model).
    if (def.kind !== 'binding' && def.kind !== 'parameter') continue;
    if (def.owner?.kind !== 'Model' && def.owner?.kind !== 'Variant') continue;
    const value = index.valuesOf(def.nameRange)[0]?.value;
    if (def.kind === 'binding' && (!value || value.kind === 'module' || value.kind === 'block')) continue;
    out.push(entry(def.name, def.kind === 'parameter' ? 'parameter' : 'constant', '1', { detail: 'a model-wide choice: `elastic ' + def.name + ': [v1, v2]`' }));
  }
  return out;
}

function methodEntry(m: StatementMethod, nextChar: string): CompletionEntry {
  const label = !m.call ? m.name : m.name === 'map' ? 'map([])' : `${m.name}()`;
  const insert = m.call && nextChar !== '(' ? m.snippet : m.name;
  return entry(label, 'strategy', '1', { detail: m.call ? `${m.name}(${m.args.map((a) => a.name).join(', ')})` : undefined, documentation: m.doc, insertText: insert, snippet: m.call && nextChar !== '(' });
}

/** The names a path segment may take after `prefix`: module members, or a layer's weights. */
export function pathCandidates(owner: OwnerDeclaration, prefix: readonly string[], analysis: AnalysisResult): string[] {
  return pathMembers(owner, prefix, analysis).map((e) => e.label);
}

/** The declarations of the given kinds that the compilation's imports bring in, each once, in name order. */
function importedEntries(compilation: Compilation | undefined, analysis: AnalysisResult, kinds: readonly ImportedDeclaration['kind'][]): ImportedDeclaration[] {
  if (!compilation || compilation.file !== analysis.file) return [];
  return importedNames(compilation)
    .sort()
    .map((name) => compilation.importedDeclaration(name))
    .filter((d): d is ImportedDeclaration => d !== undefined && kinds.includes(d.kind));
}

function fileName(source: string): string {
  return source.slice(source.lastIndexOf('/') + 1);
}
