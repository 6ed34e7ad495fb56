// Signature help while typing a call's arguments: a layer kind's signature with every argument's
// type, default and doc (from its schema in the layer registry, as hover shows them), or a
// block's parameters with their defaults as written. The active parameter is the named argument
// being written (`heads: |`), else the next positional one. The call is found from the tokens
// before the cursor, so it works on half-written text.

import type { AnalysisResult } from '../analysis/analyze.js';
import { findLayerKind } from '../layers/registry.js';
import type { LayerKind } from '../layers/layer-kind.js';
import type { BlockDeclaration } from '../syntax/syntax-tree.js';
import { enclosingCall } from './completion-context.js';
import { argumentLine, layerSignature } from './layer-docs.js';
import { lookup, scopeAt } from './scopes.js';

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

/** The signature of the layer or block call around `offset`, if any. */
export function signatureHelpAt(text: string, analysis: AnalysisResult, offset: number): SignatureHelpResult | undefined {
  const site = enclosingCall(text, offset);
  if (!site || site.call.callee.includes('.')) return undefined;
  const { scope } = scopeAt(analysis.file, site.call.calleeOffset);
  const def = lookup(scope, site.call.callee);
  if (def?.kind === 'block') return blockHelp(def.block, text, site.argumentName, site.call.positional);
  if (def) return undefined;
  const kind = findLayerKind(site.call.callee);
  return kind ? layerHelp(kind, site.argumentName, site.call.positional) : undefined;
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

function blockHelp(block: BlockDeclaration, text: string, argumentName: string | undefined, positional: number): SignatureHelpResult {
  const parts = block.parameters.map((p) => (p.defaultValue ? `${p.name.text} = ${text.slice(p.defaultValue.range.start, p.defaultValue.range.end)}` : p.name.text));
  const label = `${block.name.text}(${parts.join(', ')})`;
  const parameters: SignatureParameter[] = [];
  let at = block.name.text.length + 1;
  for (let i = 0; i < parts.length; i++) {
    const p = block.parameters[i]!;
    parameters.push({
      label: [at, at + parts[i]!.length],
      documentation: p.defaultValue ? `\`${p.name.text}\` (optional, default \`${text.slice(p.defaultValue.range.start, p.defaultValue.range.end)}\`) — a parameter of block ${block.name.text}.` : `\`${p.name.text}\` (required) — a parameter of block ${block.name.text}.`,
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
