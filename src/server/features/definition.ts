// Go to definition: LocationLinks (origin, whole declaration, its name) for clients that take
// them, plain Locations otherwise. A name an import brings in (and an import's path) leads to
// the file that declares it: its open document's positions, or its text as read from disk.

import type { Location, LocationLink } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { definitionAt, importedDefinitionAt } from '../../core/index.js';
import { toRange } from '../convert.js';
import { offsetOf, openDocument, type ServerContext } from '../context.js';
import { guard } from '../guard.js';

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
      if (targets.length === 0) return null;
      const uri = doc.uri;
      if (ctx.client.definitionLinks) {
        return targets.map((t) => ({ originSelectionRange: toRange(doc, t.originRange), targetUri: uri, targetRange: toRange(doc, t.targetRange), targetSelectionRange: toRange(doc, t.targetSelectionRange) }));
      }
      return targets.map((t) => ({ uri, range: toRange(doc, t.targetSelectionRange) }));
    }),
  );
}
