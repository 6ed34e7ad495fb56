// Hover: the core's Markdown for the thing under the cursor (see core/service/hover.ts), and,
// on a model or variant that a probe measured (its declaration line, a variant's base, a
// budget's target), the measurement beside the roofline (probe-markdown.ts). A name an import
// brings in shows what the file that declares it says (core/service/imported-names.ts).

import type { Hover } from 'vscode-languageserver/node';
import { hoverAt, importedHoverAt, type SourceFile, type TextRange } from '../../core/index.js';
import { toRange } from '../convert.js';
import { offsetOf, openDocument, type ServerContext } from '../context.js';
import { guard } from '../guard.js';
import { measurementMarkdown } from '../probe-markdown.js';

export function registerHover(ctx: ServerContext): void {
  ctx.connection.onHover(
    guard('textDocument/hover', ctx.log.error, null, (params): Hover | null => {
      const found = openDocument(ctx, params);
      if (!found) return null;
      const { doc, analyzed } = found;
      const offset = offsetOf(doc, params.position);
      // A name an import brings in is described from the file that declares it.
      const h = importedHoverAt(analyzed.compilation, offset) ?? hoverAt(analyzed.text, analyzed.analysis, offset);
      const named = ctx.probes.hasAny(doc.uri) ? modelNamedAt(analyzed.analysis.file, offset) : undefined;
      const shown = named && ctx.probes.get(doc.uri, named.name, doc.version, analyzed.text, analyzed.analysis.file);
      if (!h && !shown) return null;
      const markdown = [h?.markdown, shown && measurementMarkdown(shown.measurement, shown.stale)].filter((x) => x).join('\n\n---\n\n');
      return { contents: { kind: ctx.client.markdown ? 'markdown' : 'plaintext', value: markdown }, range: toRange(doc, h?.range ?? named!.range) };
    }),
  );
}

/**
 * The model or variant a position names: anywhere on a declaration's head (`model Name`,
 * `variant Name` — the keyword included), a variant's base, or a budget's target.
 */
export function modelNamedAt(file: SourceFile, offset: number): { name: string; range: TextRange } | undefined {
  const within = (r: TextRange): boolean => r.start <= offset && offset <= r.end;
  for (const item of file.items) {
    if (!within(item.range)) continue;
    if ((item.kind === 'Model' || item.kind === 'Variant') && item.name.text !== '' && within({ start: item.range.start, end: item.name.range.end })) return { name: item.name.text, range: item.name.range };
    if (item.kind === 'Variant' && item.base.text !== '' && within(item.base.range)) return { name: item.base.text, range: item.base.range };
    if (item.kind === 'Budget' && item.target.text !== '' && within(item.target.range)) return { name: item.target.text, range: item.target.range };
  }
  return undefined;
}
