// Rename: prepareRename answers the name's range and spelling, or an error whose message the
// client shows (a builtin, a weight, nothing here); the rename itself is one WorkspaceEdit, or
// the core's refusal (a clash, a keyword, not a name) as an error message. A top-level name
// (constant, block, model, variant) is renamed in the file that declares it and in every file
// of the program that imports it — from its declaration or from a use in an importer; so is a
// member or parameter other files name (a variant's override, a sharing path, a named argument).

import { ErrorCodes, ResponseError, type Range, type TextEdit, type WorkspaceEdit } from 'vscode-languageserver/node';
import { occurrencesInFile, prepareRename, programRenameEdits, programSymbolAt, renameEdits } from '../../core/index.js';
import { toRange, toTextEdit } from '../convert.js';
import { offsetOf, openDocument, type ServerContext } from '../context.js';
import { guard } from '../guard.js';
import { documentOf, programFiles, programLookup } from '../program-files.js';

export function registerRename(ctx: ServerContext): void {
  ctx.connection.onPrepareRename(
    guard('textDocument/prepareRename', ctx.log.error, null, (params): { range: Range; placeholder: string } | ResponseError<void> | null => {
      const found = openDocument(ctx, params);
      if (!found) return null;
      const { doc, analyzed } = found;
      const offset = offsetOf(doc, params.position);
      const file = { source: doc.uri, compilation: analyzed.compilation };
      const lookup = programLookup(ctx);
      const symbol = programSymbolAt(file, offset, lookup);
      if (symbol && symbol.source !== doc.uri) {
        // A name declared in another file: renamed where it is declared, and here.
        const here = occurrencesInFile(file, symbol, lookup).find((o) => o.range.start <= offset && offset <= o.range.end);
        if (here) return { range: toRange(doc, here.range), placeholder: symbol.name };
      }
      const result = prepareRename(analyzed.text, analyzed.analysis, offset);
      if (!result.ok) return new ResponseError(ErrorCodes.InvalidRequest, result.message);
      return { range: toRange(doc, result.range), placeholder: result.placeholder };
    }),
  );
  ctx.connection.onRenameRequest(
    guard('textDocument/rename', ctx.log.error, null, (params): WorkspaceEdit | ResponseError<void> | null => {
      const found = openDocument(ctx, params);
      if (!found) return null;
      const { doc, analyzed } = found;
      const offset = offsetOf(doc, params.position);
      const newName = String(params.newName);
      const lookup = programLookup(ctx);
      const symbol = programSymbolAt({ source: doc.uri, compilation: analyzed.compilation }, offset, lookup);
      if (symbol) {
        // The files that spell the old name change; those that spell the new one are checked too.
        const files = [...new Map([...programFiles(ctx, symbol.name), ...programFiles(ctx, newName)].map((f) => [f.source, f])).values()];
        const result = programRenameEdits(files, symbol, newName, lookup);
        if (!result.ok) return new ResponseError(ErrorCodes.InvalidRequest, result.message);
        const changes: Record<string, TextEdit[]> = {};
        for (const { source, edits } of result.edits) {
          const target = documentOf(ctx, files.find((f) => f.source === source)!);
          changes[source] = edits.map((e) => toTextEdit(target, e));
        }
        return { changes };
      }
      const result = renameEdits(analyzed.text, analyzed.analysis, offset, newName);
      if (!result.ok) return new ResponseError(ErrorCodes.InvalidRequest, result.message);
      return { changes: { [doc.uri]: result.edits.map((e) => toTextEdit(doc, e)) } };
    }),
  );
}
