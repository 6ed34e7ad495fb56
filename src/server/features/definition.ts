// Go to definition: LocationLinks (origin, whole declaration, its name) for clients that take
// them, plain Locations otherwise.

import type { Location, LocationLink } from 'vscode-languageserver/node';
import { definitionAt } from '../../core/index.js';
import { toRange } from '../convert.js';
import { offsetOf, openDocument, type ServerContext } from '../context.js';
import { guard } from '../guard.js';

export function registerDefinition(ctx: ServerContext): void {
  ctx.connection.onDefinition(
    guard('textDocument/definition', ctx.log.error, null, (params): LocationLink[] | Location[] | null => {
      const found = openDocument(ctx, params);
      if (!found) return null;
      const { doc, analyzed } = found;
      const targets = definitionAt(analyzed.text, analyzed.analysis, offsetOf(doc, params.position));
      if (targets.length === 0) return null;
      const uri = doc.uri;
      if (ctx.client.definitionLinks) {
        return targets.map((t) => ({ originSelectionRange: toRange(doc, t.originRange), targetUri: uri, targetRange: toRange(doc, t.targetRange), targetSelectionRange: toRange(doc, t.targetSelectionRange) }));
      }
      return targets.map((t) => ({ uri, range: toRange(doc, t.targetSelectionRange) }));
    }),
  );
}
