// Folding and selection ranges, both read from the syntax tree by the core: folding regions
// become line spans (one line's region is dropped by the core), selection ranges a linked list
// from the innermost node outwards.

import { FoldingRangeKind, type FoldingRange, type SelectionRange } from 'vscode-languageserver/node';
import { foldingRegions, selectionRanges } from '../../core/index.js';
import { toPosition, toRange } from '../convert.js';
import { offsetOf, openDocument, type ServerContext } from '../context.js';
import { guard } from '../guard.js';

export function registerStructureRanges(ctx: ServerContext): void {
  ctx.connection.onFoldingRanges(
    guard('textDocument/foldingRange', ctx.log.error, [], (params): FoldingRange[] => {
      const found = openDocument(ctx, params);
      if (!found) return [];
      const { doc, analyzed } = found;
      return foldingRegions(analyzed.text, analyzed.analysis.file).map((r) => {
        const range: FoldingRange = { startLine: toPosition(doc, r.start).line, endLine: toPosition(doc, r.end).line };
        if (r.kind === 'comment') range.kind = FoldingRangeKind.Comment;
        else if (r.kind === 'marker') range.kind = FoldingRangeKind.Region;
        return range;
      });
    }),
  );
  ctx.connection.onSelectionRanges(
    guard('textDocument/selectionRange', ctx.log.error, [], (params): SelectionRange[] => {
      const found = openDocument(ctx, params);
      if (!found) return [];
      const { doc, analyzed } = found;
      return params.positions.map((position) => {
        const spans = selectionRanges(analyzed.analysis.file, offsetOf(doc, position));
        let parent: SelectionRange | undefined;
        for (let i = spans.length - 1; i >= 0; i--) parent = parent ? { range: toRange(doc, spans[i]!), parent } : { range: toRange(doc, spans[i]!) };
        return parent ?? { range: { start: position, end: position } };
      });
    }),
  );
}
