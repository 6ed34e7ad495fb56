// Quick fixes, only where the fix is knowable from the source:
// - a misspelt name, layer kind, argument, path member, metric, strategy, base model or
//   override → "Change to 'X'" for the closest candidates (edit distance); a misspelt name in
//   a selective import → the closest names the imported file defines;
// - a missing required argument → insert a `name: ` placeholder for the value;
// - a repeated argument, or a positional one past the last the callee takes → remove it;
// - a binding that hides a builtin layer kind → rename it, with every use (through rename);
// - lexical and syntax errors → syntax-fixes.ts;
// - a violated budget and everything else → nothing (the fix is a design decision).
// QUICK_FIX_CATALOGUE (quick-fix-catalogue.ts) lists which codes have a fix.
// Every fix is a list of text edits; the server wraps them in a WorkspaceEdit.

import type { AnalysisResult } from '../analysis/analyze.js';
import type { Compilation } from '../analysis/compilation.js';
import { BUDGET_METRICS } from '../analysis/budgets.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { LAYER_KINDS, findLayerKind } from '../layers/registry.js';
import { knownSymbols } from '../semantics/symbols.js';
import { BUILTIN_FUNCTIONS } from '../semantics/values.js';
import type { CallExpression, ImportDeclaration, Statement, TextRange } from '../syntax/syntax-tree.js';
import { pathCandidates } from './completion.js';
import { importedNames } from './imported-names.js';
import { suggestions } from './edit-distance.js';
import type { TextEdit } from './format.js';
import { fileScopes, lookup, scopeAt, visibleNames } from './scopes.js';
import { ancestorsAt, forEachNode, type TreeNode } from './syntax-walk.js';
import { methodsAt } from './vocabulary.js';
import { renameEdits } from './rename.js';
import { syntaxFixes } from './syntax-fixes.js';

export interface QuickFix {
  readonly title: string;
  readonly edits: readonly TextEdit[];
  /** The best of several fixes for one diagnostic. */
  readonly preferred: boolean;
}

/**
 * The fixes for one engine diagnostic of this analysis. With the compilation, names that
 * imports bring in are candidates too (a misspelt imported block, a selective import's name).
 */
export function quickFixes(text: string, analysis: AnalysisResult, diagnostic: Diagnostic, compilation?: Compilation): QuickFix[] {
  const range = diagnostic.range;
  /** "Change to 'X'" for the candidates closest to the text at `target` (the diagnostic's range by default). */
  const replaceWith = (candidates: Iterable<string>, target: TextRange = range): QuickFix[] =>
    suggestions(text.slice(target.start, target.end), candidates).map((c, i) => ({ title: `Change to '${c}'`, edits: [{ range: target, newText: c }], preferred: i === 0 }));
  const written = text.slice(range.start, range.end);
  const file = analysis.file;
  const chain = ancestorsAt(file, range.start);
  switch (diagnostic.code) {
    case 'npas-name-unknown': {
      const { scope } = scopeAt(file, range.start);
      const imported = compilation ? importedNames(compilation) : [];
      return replaceWith([...visibleNames(scope).map((d) => d.name), ...imported, ...LAYER_KINDS.keys(), ...BUILTIN_FUNCTIONS, ...knownSymbols()]);
    }
    case 'npas-import-name': {
      // `from "lib.npas" import Decodr`: the names that file defines or imports.
      const decl = innermost<ImportDeclaration>(chain, 'Import');
      return decl && compilation ? replaceWith(importedNames(compilation, decl)) : [];
    }
    case 'npas-layer-unknown-arg': {
      const call = innermost<CallExpression>(chain, 'Call');
      if (!call) return [];
      const given = new Set(call.args.map((a) => a.name?.text).filter((n): n is string => n !== undefined));
      return replaceWith(parametersOf(call, text, analysis).map((p) => p.name).filter((n) => !given.has(n)));
    }
    case 'npas-layer-missing-arg':
    case 'npas-block-arg':
      return missingArgument(diagnostic, text, analysis);
    case 'npas-layer-duplicate-arg':
    case 'npas-layer-too-many-args':
      return removeArgument(diagnostic, text, analysis);
    case 'npas-name-shadows-builtin':
      return renameAway(text, analysis, diagnostic);
    case 'npas-syntax-unexpected-char':
    case 'npas-syntax-unterminated-string':
    case 'npas-syntax-bad-number':
    case 'npas-syntax-expected':
      return syntaxFixes(text, diagnostic);
    case 'npas-share-target': {
      const path = chain.find((n) => n.kind === 'Path');
      if (!path || path.kind !== 'Path') return [];
      // The diagnostic spans a segment with its dot (`.atn`); the fix replaces the name.
      const segment = path.segments.find((s) => s.range.start === range.start && s.range.end === range.end);
      if (!segment || segment.kind !== 'PathName') return [];
      const prefix = path.segments.slice(0, path.segments.indexOf(segment)).flatMap((s) => (s.kind === 'PathName' ? [s.name.text] : []));
      const owner = [...chain].reverse().find((n) => n.kind === 'Model' || n.kind === 'Variant' || n.kind === 'Block');
      if (!owner || (owner.kind !== 'Model' && owner.kind !== 'Variant' && owner.kind !== 'Block')) return [];
      return replaceWith(pathCandidates(owner, prefix, analysis), segment.name.range);
    }
    case 'npas-budget-metric':
      return written.includes('(') || written.includes(':') ? [] : replaceWith(BUDGET_METRICS.keys());
    case 'npas-share-strategy': {
      const statement = innermost<Statement>(chain, 'Statement');
      if (!statement || !/^[A-Za-z_]\w*$/.test(written)) return [];
      const methods = methodsAt({ keyword: statement.keyword, modifier: statement.modifier?.text });
      return replaceWith(methods.map((m) => m.name));
    }
    case 'npas-model-unknown':
    case 'npas-budget-target': {
      // A variant cannot derive from itself.
      const self = chain.find((n) => n.kind === 'Variant');
      return replaceWith([...fileScopes(file).declarations.keys()].filter((n) => self?.kind !== 'Variant' || n !== self.name.text));
    }
    case 'npas-override-unknown': {
      const variant = chain.find((n) => n.kind === 'Variant');
      if (!variant || variant.kind !== 'Variant') return [];
      const scope = fileScopes(file).scopeOf(variant);
      return replaceWith([...scope.names.values()].filter((d) => d.kind === 'binding' && d.owner !== variant).map((d) => d.name));
    }
    default:
      return [];
  }
}

function innermost<T extends TreeNode>(chain: readonly TreeNode[], kind: T['kind']): T | undefined {
  for (let i = chain.length - 1; i >= 0; i--) if (chain[i]!.kind === kind) return chain[i] as T;
  return undefined;
}

/** The parameters of what a call instantiates: a layer kind's arguments or a block's parameters. */
function parametersOf(call: CallExpression, _text: string, analysis: AnalysisResult): { name: string; required: boolean; positional: boolean }[] {
  if (call.callee.kind !== 'Name') return [];
  const { scope } = scopeAt(analysis.file, call.callee.range.start);
  const def = lookup(scope, call.callee.name.text);
  if (def?.kind === 'block') return def.block.parameters.map((p) => ({ name: p.name.text, required: !p.defaultValue, positional: true }));
  if (def) return [];
  return (findLayerKind(call.callee.name.text)?.args ?? []).map((a) => ({ name: a.name, required: a.required, positional: a.positional }));
}

/**
 * Removes the argument a diagnostic spans, with the comma before it: a repeated argument, or a
 * positional argument past the last one the callee takes. A positional argument after named
 * ones has no obvious fix (it may belong earlier) and gets none.
 */
function removeArgument(diagnostic: Diagnostic, text: string, analysis: AnalysisResult): QuickFix[] {
  const chain = ancestorsAt(analysis.file, diagnostic.range.start);
  const call = [...chain].reverse().find((n): n is CallExpression => n.kind === 'Call' && n.args.some((a) => a.range.start === diagnostic.range.start && a.range.end === diagnostic.range.end));
  if (!call) return [];
  const i = call.args.findIndex((a) => a.range.start === diagnostic.range.start);
  const arg = call.args[i]!;
  if (diagnostic.code === 'npas-layer-too-many-args') {
    const before = call.args.slice(0, i);
    if (arg.name || before.some((a) => a.name)) return [];
    if (before.length < parametersOf(call, text, analysis).filter((p) => p.positional).length) return [];
  }
  const next = call.args[i + 1];
  const range = i > 0 ? { start: call.args[i - 1]!.range.end, end: arg.range.end } : { start: arg.range.start, end: next ? next.range.start : arg.range.end };
  const what = arg.name ? `the repeated '${arg.name.text}'` : `the extra argument '${text.slice(arg.range.start, arg.range.end)}'`;
  return [{ title: `Remove ${what}`, edits: [{ range, newText: '' }], preferred: true }];
}

/**
 * Renames a binding that hides a builtin layer kind, and its uses, to the first free name. A
 * call of the name (`MLP(d, 4 * d)`, even in the binding's own value) meant the layer kind — a
 * binding's value cannot be called — and keeps its spelling, so it refers to the layer kind again.
 */
function renameAway(text: string, analysis: AnalysisResult, diagnostic: Diagnostic): QuickFix[] {
  const name = text.slice(diagnostic.range.start, diagnostic.range.end);
  const callees = new Set<number>();
  forEachNode(analysis.file, (node) => {
    if (node.kind === 'Call' && node.callee.kind === 'Name') callees.add(node.callee.name.range.start);
  });
  const lower = name.toLowerCase();
  const candidates = [lower, `${lower}_layer`, `${lower}_1`, `${lower}_2`].filter((c) => !findLayerKind(c));
  for (const candidate of candidates) {
    const result = renameEdits(text, analysis, diagnostic.range.start, candidate, (r) => callees.has(r.start));
    if (result.ok) return [{ title: `Rename '${name}' to '${candidate}'`, edits: result.edits, preferred: true }];
  }
  return [];
}

/** Inserts `name: ` for a required argument the call does not give (the value is the user's to write). */
function missingArgument(diagnostic: Diagnostic, text: string, analysis: AnalysisResult): QuickFix[] {
  const range = diagnostic.range;
  // The diagnostic spans the argument list `( … )`.
  if (text.charAt(range.start) !== '(' || text.charAt(range.end - 1) !== ')') return [];
  const chain = ancestorsAt(analysis.file, range.start);
  const call = [...chain].reverse().find((n): n is CallExpression => n.kind === 'Call' && n.argsRange.start === range.start && n.argsRange.end === range.end);
  if (!call) return [];
  const params = parametersOf(call, text, analysis);
  const given = new Set<string>();
  let positional = 0;
  for (const a of call.args) {
    if (a.name) given.add(a.name.text);
    else positional++;
  }
  for (const p of params) {
    if (positional === 0) break;
    if (p.positional) {
      given.add(p.name);
      positional--;
    }
  }
  const missing = params.filter((p) => p.required && !given.has(p.name)).map((p) => p.name);
  // The engine reports each missing argument separately and names it in quotes.
  const named = /'([A-Za-z_]\w*)'/.exec(diagnostic.message)?.[1];
  const chosen = named && missing.includes(named) ? [named] : missing.slice(0, 1);
  const last = call.args[call.args.length - 1];
  return chosen.map((name) => {
    const at = last ? last.range.end : range.start + 1;
    return { title: `Add the argument '${name}: '`, edits: [{ range: { start: at, end: at }, newText: `${last ? ', ' : ''}${name}: ` }], preferred: true };
  });
}
