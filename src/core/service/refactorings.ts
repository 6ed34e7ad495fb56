// Refactorings as code actions, each one edit the editor applies (and undoes) at once: extract
// members into a block, inline a block, `X * N` ↔ comprehension, identical written-out layers →
// a stack, apply a sharing scheme to a stack, a variant's sharing imported into a new variant.
// Every one keeps the spec analysing cleanly; the stack and block rewrites keep every count, the
// sharing ones say in their title what they change.

import type { AnalysisResult } from '../analysis/analyze.js';
import type { TextRange } from '../syntax/syntax-tree.js';
import type { TextEdit } from './format.js';
import { extractBlock, inlineBlock } from './refactor-blocks.js';
import { applySharingScheme, importVariantSharing } from './refactor-sharing.js';
import { repeatedToStack, stackComprehension } from './refactor-stacks.js';

/** LSP's refactoring kinds, which editors group menus by. */
export type RefactoringKind = 'refactor' | 'refactor.extract' | 'refactor.inline' | 'refactor.rewrite';

export interface Refactoring {
  readonly title: string;
  readonly kind: RefactoringKind;
  readonly edits: readonly TextEdit[];
}

export interface RefactoringOptions {
  /**
   * Offer the refactorings whose titles preview a rewritten text's counts (sharing schemes,
   * imported sharing): each analyses the whole rewritten spec, so an editor asks for them when
   * the user opens the menu, not on every cursor move. Default true.
   */
  readonly previews?: boolean;
}

/** The refactorings available for a selection (or a cursor: an empty range). */
export function refactorings(text: string, analysis: AnalysisResult, range: TextRange, options: RefactoringOptions = {}): Refactoring[] {
  const cheap = [...extractBlock(text, analysis, range), ...inlineBlock(text, analysis, range), ...stackComprehension(text, analysis, range), ...repeatedToStack(text, analysis, range)];
  if (options.previews === false) return cheap;
  return [...cheap, ...applySharingScheme(text, analysis, range), ...importVariantSharing(text, analysis, range)];
}
