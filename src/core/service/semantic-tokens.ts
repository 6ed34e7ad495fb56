// Semantic tokens: what each name means, beyond what the TextMate grammar can tell from its
// spelling. Every identifier is resolved with `referenceAt` (as hover and definition do), so
// a block, a layer kind, a constant, a member, a parameter, a strategy and a builtin symbol get
// different colours even where they are spelt alike; sharing statements' keywords and their
// `kv`/`heads` modifiers are marked as keywords. The server encodes these with the legend below.

import type { AnalysisResult } from '../analysis/analyze.js';
import type { TextRange } from '../syntax/syntax-tree.js';
import { indexOf } from './analysis-index.js';
import { overriddenRoot, resolvedIdentifiers } from './occurrences.js';
import type { Reference } from './references.js';
import type { NameDefinition } from './scopes.js';
import { forEachNode } from './syntax-walk.js';

/** The token types, in legend order (standard LSP names, so every theme colours them). */
export const SEMANTIC_TOKEN_TYPES = ['type', 'class', 'function', 'method', 'enumMember', 'variable', 'property', 'parameter', 'keyword'] as const;
export type SemanticTokenType = (typeof SEMANTIC_TOKEN_TYPES)[number];

/** The modifiers, in legend order (bit i of the LSP modifier set). */
export const SEMANTIC_TOKEN_MODIFIERS = ['declaration', 'readonly', 'defaultLibrary'] as const;
export type SemanticTokenModifier = (typeof SEMANTIC_TOKEN_MODIFIERS)[number];

export interface SemanticToken {
  readonly range: TextRange;
  readonly type: SemanticTokenType;
  readonly modifiers: readonly SemanticTokenModifier[];
}

/**
 * The tokens of a file in source order, one per name (never spanning lines):
 * models and variants `type`; blocks `class`, layer kinds `class` + defaultLibrary; builtin
 * functions `function`; strategies and methods (`cycle`, `lora`) `method`; builtin symbols
 * (`bf16`, `gelu`) `enumMember`; constants `variable` + readonly; layers, stacks and other
 * members `property`; parameters and named arguments `parameter`; loop variables `variable`;
 * weights and budget metrics `property` + defaultLibrary; sharing keywords `keyword`.
 */
export function semanticTokens(_text: string, analysis: AnalysisResult): SemanticToken[] {
  const file = analysis.file;
  const out: SemanticToken[] = [];
  const push = (range: TextRange, type: SemanticTokenType, ...modifiers: SemanticTokenModifier[]): void => {
    if (range.end > range.start) out.push({ range, type, modifiers });
  };
  forEachNode(file, (node) => {
    if (node.kind === 'Statement') {
      push(node.keywordRange, 'keyword');
      if (node.modifier) push(node.modifier.range, 'keyword');
    } else if (node.kind === 'Constraint') {
      for (const m of node.metric) push(m.range, 'property', 'defaultLibrary');
    }
  });
  for (const { range, text, reference } of resolvedIdentifiers(file, undefined)) {
    const classified = classify(reference, text, analysis);
    if (classified) push(range, classified.type, ...classified.modifiers);
  }
  // Keywords and identifiers come from two walks; LSP wants one list in order.
  return out.sort((a, b) => a.range.start - b.range.start);
}

function classify(ref: Reference, name: string, analysis: AnalysisResult): { type: SemanticTokenType; modifiers: SemanticTokenModifier[] } | undefined {
  const declaration = (declaring: boolean): SemanticTokenModifier[] => (declaring ? ['declaration'] : []);
  switch (ref.kind) {
    case 'model':
      return { type: 'type', modifiers: declaration(ref.declaring) };
    case 'definition':
      // A variant's override of a model parameter is that parameter.
      if (overriddenRoot(ref.definition, analysis.file).kind === 'parameter') return { type: 'parameter', modifiers: declaration(ref.declaring) };
      return definitionToken(ref.definition, ref.declaring, analysis);
    case 'builtin':
      if (ref.what === 'layer') return { type: 'class', modifiers: ['defaultLibrary'] };
      if (ref.what === 'function') return { type: 'function', modifiers: ['defaultLibrary'] };
      if (ref.what === 'symbol') return { type: 'enumMember', modifiers: ['defaultLibrary'] };
      return undefined;
    case 'argument':
      return { type: 'parameter', modifiers: [] };
    case 'path':
      if (ref.target) return definitionToken(ref.target, false, analysis);
      return ref.weight ? { type: 'property', modifiers: ['defaultLibrary'] } : undefined;
    case 'method':
      // `rank` in `lora(rank: 4)` is an argument of the method named by the reference.
      return ref.name === name ? { type: 'method', modifiers: ['defaultLibrary'] } : { type: 'parameter', modifiers: [] };
    case 'constraint':
      // Metric names are marked by the walk; a constraint's settings are left to the grammar.
      return undefined;
    case 'number':
      return undefined;
  }
}

function definitionToken(def: NameDefinition, declaring: boolean, analysis: AnalysisResult): { type: SemanticTokenType; modifiers: SemanticTokenModifier[] } {
  const modifiers: SemanticTokenModifier[] = declaring ? ['declaration'] : [];
  switch (def.kind) {
    case 'block':
      return { type: 'class', modifiers };
    case 'parameter':
      return { type: 'parameter', modifiers };
    case 'loop-variable':
      return { type: 'variable', modifiers };
    case 'binding': {
      // A binding is a constant or a module; the evaluation says which (a binding that never
      // evaluated, in an unused block, is a member unless it is at the top level).
      const value = indexOf(analysis).valuesOf(def.nameRange)[0]?.value;
      const constant = value ? value.kind !== 'module' && value.kind !== 'block' : def.owner === undefined;
      return constant ? { type: 'variable', modifiers: [...modifiers, 'readonly'] } : { type: 'property', modifiers };
    }
  }
}
