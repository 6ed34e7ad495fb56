// Document symbols (the outline): models, variants, budgets, blocks and their members,
// hierarchical, each with its whole range and its name as the selection range. Members show
// what they evaluated to: a layer its kind, a stack its length, a constant its value.

import type { AnalysisResult } from '../analysis/analyze.js';
import type { Binding, BlockDeclaration, Member, Parameter, Statement, TextRange } from '../syntax/syntax-tree.js';
import { indexOf } from './analysis-index.js';
import { moduleLabel, renderValue } from './render-value.js';
import { groupDigits } from './text-format.js';

export type OutlineKind =
  | 'model' | 'variant' | 'budget' | 'block' | 'constant' | 'layer' | 'stack' | 'module'
  | 'parameter' | 'constraint' | 'statement';

export interface OutlineSymbol {
  readonly name: string;
  readonly detail: string;
  readonly kind: OutlineKind;
  /** The whole declaration. */
  readonly range: TextRange;
  /** The name (inside `range`). */
  readonly selectionRange: TextRange;
  readonly children: readonly OutlineSymbol[];
}

/** The outline of a file, in source order. */
export function documentSymbols(text: string, analysis: AnalysisResult): OutlineSymbol[] {
  const index = indexOf(analysis);
  const out: OutlineSymbol[] = [];

  const binding = (b: Binding): OutlineSymbol | undefined => {
    if (b.name.text === '') return undefined;
    const value = index.valuesOf(b.name.range)[0]?.value;
    let kind: OutlineKind = 'constant';
    let detail = '';
    if (value?.kind === 'module') {
      const n = value.node;
      kind = n.kind === 'layer' ? 'layer' : n.kind === 'stack' ? 'stack' : 'module';
      detail = n.kind === 'stack' ? `${groupDigits(n.length)} × ${n.runs.length === 1 ? moduleLabel(n.runs[0]!.node) : 'modules'}` : moduleLabel(n);
    } else if (value?.kind === 'block') {
      kind = 'module';
      detail = value.decl.name.text;
    } else if (value) detail = renderValue(value, true);
    else if (b.value.kind === 'Call' && b.value.callee.kind === 'Name') {
      // Not evaluated (an error upstream): the callee as written still says what it is.
      kind = 'layer';
      detail = b.value.callee.name.text;
    }
    if (b.tiedTo) detail += ` tied ${text.slice(b.tiedTo.range.start, b.tiedTo.range.end)}`;
    return { name: b.name.text, detail, kind, range: b.range, selectionRange: b.name.range, children: [] };
  };
  const parameter = (p: Parameter): OutlineSymbol | undefined =>
    p.name.text === '' ? undefined : { name: p.name.text, detail: p.defaultValue ? `= ${clip(text.slice(p.defaultValue.range.start, p.defaultValue.range.end))}` : 'required', kind: 'parameter', range: p.range, selectionRange: p.name.range, children: [] };
  const statement = (s: Statement): OutlineSymbol => {
    const written = clip(text.slice(s.range.start, s.range.end).replace(/\s+/g, ' '));
    return { name: written, detail: '', kind: 'statement', range: s.range, selectionRange: s.keywordRange, children: [] };
  };
  const members = (ms: readonly Member[]): OutlineSymbol[] => {
    const list: OutlineSymbol[] = [];
    for (const m of ms) {
      const sym = m.kind === 'Binding' ? binding(m) : m.kind === 'Block' ? block(m) : statement(m);
      if (sym) list.push(sym);
    }
    return list;
  };
  const block = (b: BlockDeclaration): OutlineSymbol | undefined => {
    if (b.name.text === '') return undefined;
    const params = b.parameters.map(parameter).filter((p): p is OutlineSymbol => p !== undefined);
    return { name: b.name.text, detail: b.parameters.length > 0 ? `block(${b.parameters.map((p) => p.name.text).join(', ')})` : 'block', kind: 'block', range: b.range, selectionRange: b.name.range, children: [...params, ...members(b.members)] };
  };

  for (const item of analysis.file.items) {
    switch (item.kind) {
      case 'Binding': {
        const sym = binding(item);
        if (sym) out.push(sym);
        break;
      }
      case 'Block': {
        const sym = block(item);
        if (sym) out.push(sym);
        break;
      }
      case 'Model':
      case 'Variant': {
        if (item.name.text === '') break;
        const report = index.model(item.name.text);
        const stored = report ? ` · ${groupDigits(report.params.stored)} params stored` : '';
        const params = item.kind === 'Model' ? item.parameters.map(parameter).filter((p): p is OutlineSymbol => p !== undefined) : [];
        out.push({
          name: item.name.text,
          detail: item.kind === 'Model' ? `model${stored}` : `variant of ${item.base.text}${stored}`,
          kind: item.kind === 'Model' ? 'model' : 'variant',
          range: item.range,
          selectionRange: item.name.range,
          children: [...params, ...members(item.members)],
        });
        break;
      }
      case 'Budget': {
        if (item.target.text === '') break;
        const report = index.model(item.target.text);
        const constraints = item.constraints.map((c): OutlineSymbol => {
          const result = report?.budgets.find((b) => b.range.start === c.range.start && b.range.end === c.range.end);
          const metric = c.metric[0];
          return {
            name: clip(text.slice(c.range.start, c.range.end)),
            detail: result ? (result.ok ? 'met' : 'violated') : '',
            kind: 'constraint',
            range: c.range,
            selectionRange: metric ? { start: metric.range.start, end: c.metric[c.metric.length - 1]!.range.end } : c.range,
            children: [],
          };
        });
        out.push({ name: item.target.text, detail: 'budget', kind: 'budget', range: item.range, selectionRange: item.target.range, children: constraints });
        break;
      }
    }
  }
  return out;
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 79)}…` : s;
}
