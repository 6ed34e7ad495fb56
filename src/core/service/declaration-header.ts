// Which model or variant's declaration line a position is on, read from the syntax tree (the
// editor's "Allocate N parameters to NAME…" is offered there): the line of `model NAME` or
// `variant NAME of BASE`, from its start to the end of the name.

import type { SourceFile } from '../syntax/syntax-tree.js';
import { lineEnd, lineStart } from './refactor-text.js';

export interface DeclarationHeader {
  readonly name: string;
  readonly kind: 'model' | 'variant';
}

/** The model or variant whose declaration line holds `offset`, if any. */
export function declarationHeaderAt(text: string, file: SourceFile, offset: number): DeclarationHeader | undefined {
  for (const item of file.items) {
    if (item.kind !== 'Model' && item.kind !== 'Variant') continue;
    if (item.name.text === '') continue; // a declaration the parser recovered without a name
    if (offset >= lineStart(text, item.range.start) && offset <= lineEnd(text, item.name.range.end)) {
      return { name: item.name.text, kind: item.kind === 'Model' ? 'model' : 'variant' };
    }
  }
  return undefined;
}
