// Signature help while typing a call's arguments: a layer kind's signature with every argument's
// type, default and doc (from its schema in the layer registry, as hover shows them), a block's
// parameters with their defaults as written, or a sharing statement's method (`cycle(n)`,
// `lora(rank, …)`, from the statement vocabulary completion uses). The active parameter is the named argument
// being written (`heads: |`), else the next positional one. The call is found from the tokens
// before the cursor, so it works on half-written text.

import type { AnalysisResult } from '../analysis/analyze.js';
import { findLayerKind } from '../layers/registry.js';
import type { LayerKind } from '../layers/layer-kind.js';
import type { Compilation } from '../analysis/compilation.js';
import type { BlockDeclaration, Statement, TextRange } from '../syntax/syntax-tree.js';
import { enclosingCall } from './completion-context.js';
import { argumentLine, layerSignature } from './layer-docs.js';
import { lookup, scopeAt } from './scopes.js';
import { ancestorsAt } from './syntax-walk.js';
import { methodsAt, type StatementMethod } from './vocabulary.js';

export interface SignatureParameter {
  /** `[start, end)` of the parameter inside `SignatureInfo.label`. */
  readonly label: readonly [number, number];
  /** Markdown. */
  readonly documentation: string;
}

export interface SignatureInfo {
  /** `Attention(d, heads, kv_heads?, …)`. */
  readonly label: string;
  /** Markdown. */
  readonly documentation: string;
  readonly parameters: readonly SignatureParameter[];
}

export interface SignatureHelpResult {
  readonly signature: SignatureInfo;
  /** The parameter being written, or undefined when the call has no such parameter. */
  readonly activeParameter: number | undefined;
}

/**
 * The signature of the layer or block call around `offset`, if any. With the document's
 * `compilation`, a block its imports bring in is read from the file that declares it.
 */
export function signatureHelpAt(text: string, analysis: AnalysisResult, offset: number, compilation?: Compilation): SignatureHelpResult | undefined {
  const site = enclosingCall(text, offset);
  if (!site || site.call.callee.includes('.')) return undefined;
  const { scope } = scopeAt(analysis.file, site.call.calleeOffset);
  const def = lookup(scope, site.call.callee);
  if (def?.kind === 'block') return blockHelp(def.block, (r) => text.slice(r.start, r.end), site.argumentName, site.call.positional);
  if (def) return undefined;
  const imported = compilation?.file === analysis.file ? importedBlock(compilation, site.call.callee) : undefined;
  if (imported) return blockHelp(imported.block, imported.source, site.argumentName, site.call.positional);
  const statement = ancestorsAt(analysis.file, site.call.calleeOffset).find((n): n is Statement => n.kind === 'Statement');
  if (statement) {
    const method = statementMethod(statement, site.call.callee, site.call.calleeOffset);
    return method?.call ? methodHelp(method, site.argumentName, site.call.positional) : undefined;
  }
  const kind = findLayerKind(site.call.callee);
  return kind ? layerHelp(kind, site.argumentName, site.call.positional) : undefined;
}

/** The method a statement's call names, looked up in the vocabulary of its position (`map` of `share` is not `map` of `share kv`). */
function statementMethod(statement: Statement, name: string, offset: number): StatementMethod | undefined {
  const inRelax = statement.relax !== undefined && offset >= statement.relax.range.start;
  return methodsAt({ keyword: statement.keyword, modifier: statement.modifier?.text, relax: inRelax }).find((m) => m.name === name);
}

function methodHelp(method: StatementMethod, argumentName: string | undefined, positional: number): SignatureHelpResult {
  // Only a method's first argument may be positional (`cycle(9)`); the rest are named.
  const parts = method.args.map((a, i) => (method.positional && i === 0 ? a.name : a.required ? `${a.name}: …` : `${a.name}?: …`));
  const label = `${method.name}(${parts.join(', ')})`;
  const parameters: SignatureParameter[] = [];
  let at = method.name.length + 1;
  method.args.forEach((a, i) => {
    parameters.push({ label: [at, at + parts[i]!.length], documentation: `\`${a.name}\` (${a.required ? 'required' : 'optional'}${method.positional && i === 0 ? ', positional' : ''}) — ${a.doc}` });
    at += parts[i]!.length + 2;
  });
  const active = argumentName !== undefined ? method.args.findIndex((a) => a.name === argumentName) : method.positional && positional === 0 ? 0 : -1;
  return { signature: { label, documentation: method.doc, parameters }, activeParameter: active >= 0 ? active : undefined };
}

function layerHelp(kind: LayerKind, argumentName: string | undefined, positional: number): SignatureHelpResult {
  const label = layerSignature(kind);
  // The signature lists the arguments in schema order after `Name(`, separated by `, `.
  const parameters: SignatureParameter[] = [];
  let at = kind.name.length + 1;
  for (const a of kind.args) {
    const start = label.indexOf(a.name, at);
    const end = nextSeparator(label, start);
    parameters.push({ label: [start, end], documentation: argumentLine(a) });
    at = end;
  }
  const active = argumentName !== undefined ? kind.args.findIndex((a) => a.name === argumentName) : nthPositional(kind.args.map((a) => a.positional), positional);
  return { signature: { label, documentation: kind.doc, parameters }, activeParameter: active >= 0 ? active : undefined };
}

/** A block an import brings in under `name`: its declaration as parsed in its file, and that file's text by the tree's ranges. */
function importedBlock(compilation: Compilation, name: string): { block: BlockDeclaration; source: (r: TextRange) => string } | undefined {
  const d = compilation.importedDeclaration(name);
  const file = d?.kind === 'block' ? compilation.imported.find((f) => f.source === d.nameRange.source) : undefined;
  if (!d || !file) return undefined;
  // An imported file is parsed at its offset base (imports/parsed-sources.ts).
  const block = file.file.items.find((i): i is BlockDeclaration => i.kind === 'Block' && i.name.range.start - file.base === d.nameRange.start);
  return block && { block, source: (r) => file.text.slice(r.start - file.base, r.end - file.base) };
}

function blockHelp(block: BlockDeclaration, source: (range: TextRange) => string, argumentName: string | undefined, positional: number): SignatureHelpResult {
  const parts = block.parameters.map((p) => (p.defaultValue ? `${p.name.text} = ${source(p.defaultValue.range)}` : p.name.text));
  const label = `${block.name.text}(${parts.join(', ')})`;
  const parameters: SignatureParameter[] = [];
  let at = block.name.text.length + 1;
  for (let i = 0; i < parts.length; i++) {
    const p = block.parameters[i]!;
    parameters.push({
      label: [at, at + parts[i]!.length],
      documentation: p.defaultValue ? `\`${p.name.text}\` (optional, default \`${source(p.defaultValue.range)}\`) — a parameter of block ${block.name.text}.` : `\`${p.name.text}\` (required) — a parameter of block ${block.name.text}.`,
    });
    at += parts[i]!.length + 2;
  }
  const active = argumentName !== undefined ? block.parameters.findIndex((p) => p.name.text === argumentName) : positional < block.parameters.length ? positional : -1;
  return { signature: { label, documentation: `block ${block.name.text}: positional or named arguments, one per parameter.`, parameters }, activeParameter: active >= 0 ? active : undefined };
}

/** The index of the `n`-th (from 0) positional argument of a schema, or −1. */
function nthPositional(positional: readonly boolean[], n: number): number {
  let seen = 0;
  for (let i = 0; i < positional.length; i++) {
    if (!positional[i]) continue;
    if (seen === n) return i;
    seen++;
  }
  return -1;
}

/** Where a parameter ends in a signature label: at the next `, ` or the closing `)`. */
function nextSeparator(label: string, from: number): number {
  const comma = label.indexOf(', ', from);
  return comma >= 0 ? comma : label.length - 1;
}
