// Go to definition: LocationLinks (origin, whole declaration, its name) for clients that take
// them, plain Locations otherwise. A name an import brings in (and an import's path) leads to
// the file that declares it: its open document's positions, or its text as read from disk; so
// does a member or parameter declared in another file (a variant's override of an imported
// model's parameter, a sharing path into an imported model, a named argument of an imported
// block), through the same resolution references and rename use.

import type { Location, LocationLink } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { definitionAt, importedDefinitionAt, occurrencesInFile, programSymbolAt, type Compilation } from '../../core/index.js';
import { toRange } from '../convert.js';
import { offsetOf, openDocument, type ServerContext } from '../context.js';
import { guard } from '../guard.js';
import { documentOf, programLookup } from '../program-files.js';

export function registerDefinition(ctx: ServerContext): void {
  ctx.connection.onDefinition(
    guard('textDocument/definition', ctx.log.error, null, (params): LocationLink[] | Location[] | null => {
      const found = openDocument(ctx, params);
      if (!found) return null;
      const { doc, analyzed } = found;
      const offset = offsetOf(doc, params.position);
      const imported = importedDefinitionAt(analyzed.compilation, offset);
      if (imported) {
        const target = TextDocument.create(imported.source, 'npas', 0, analyzed.compilation.imported.find((f) => f.source === imported.source)?.text ?? '');
        const targetRange = toRange(target, imported.targetRange);
        const targetSelectionRange = toRange(target, imported.targetSelectionRange);
        if (ctx.client.definitionLinks) return [{ originSelectionRange: toRange(doc, imported.originRange), targetUri: imported.source, targetRange, targetSelectionRange }];
        return [{ uri: imported.source, range: targetSelectionRange }];
      }
      const targets = definitionAt(analyzed.text, analyzed.analysis, offset);
      if (targets.length === 0) return memberInAnotherFile(ctx, doc, analyzed.compilation, offset);
      const uri = doc.uri;
      if (ctx.client.definitionLinks) {
        return targets.map((t) => ({ originSelectionRange: toRange(doc, t.originRange), targetUri: uri, targetRange: toRange(doc, t.targetRange), targetSelectionRange: toRange(doc, t.targetSelectionRange) }));
      }
      return targets.map((t) => ({ uri, range: toRange(doc, t.targetSelectionRange) }));
    }),
  );
}

/** The declaration in another file of the member or parameter at `offset`, or null. */
function memberInAnotherFile(ctx: ServerContext, doc: TextDocument, compilation: Compilation, offset: number): LocationLink[] | Location[] | null {
  const lookup = programLookup(ctx);
  const file = { source: doc.uri, compilation };
  const symbol = programSymbolAt(file, offset, lookup);
  const declaring = symbol && symbol.source !== doc.uri ? lookup(symbol.source) : undefined;
  const origin = symbol && occurrencesInFile(file, symbol, lookup).find((o) => o.range.start <= offset && offset <= o.range.end);
  if (!symbol || !declaring || !origin) return null;
  const target = documentOf(ctx, declaring);
  const range = toRange(target, symbol.nameRange);
  if (ctx.client.definitionLinks) return [{ originSelectionRange: toRange(doc, origin.range), targetUri: symbol.source, targetRange: range, targetSelectionRange: range }];
  return [{ uri: symbol.source, range }];
}
