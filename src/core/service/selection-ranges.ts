// Selection ranges (expand selection): from the name or literal under the cursor outwards
// through every syntax node that contains it, each span once, up to the whole file. A call's
// argument list is a step between an argument and the call.

import type { SourceFile, TextRange } from '../syntax/syntax-tree.js';
import { ancestorsAt, sameRange } from './syntax-walk.js';

/** The spans around `offset`, innermost first, each strictly containing the one before. */
export function selectionRanges(file: SourceFile, offset: number): TextRange[] {
  const chain = ancestorsAt(file, offset);
  const out: TextRange[] = [];
  for (let i = chain.length - 1; i >= 0; i--) {
    const node = chain[i]!;
    add(out, node.range);
    // After an argument, its call's `( … )` before the whole call.
    if (node.kind === 'Argument' && chain[i - 1]?.kind === 'Call') {
      const call = chain[i - 1]!;
      if (call.kind === 'Call') add(out, call.argsRange);
    }
  }
  return out;
}

function add(out: TextRange[], range: TextRange): void {
  const last = out[out.length - 1];
  if (last && (sameRange(last, range) || range.start > last.start || range.end < last.end)) return;
  out.push(range);
}
