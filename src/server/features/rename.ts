// Rename: prepareRename answers the name's range and spelling, or an error whose message the
// client shows (a builtin, a weight, nothing here); the rename itself is one WorkspaceEdit, or
// the core's refusal (a clash, a keyword, not a name) as an error message.

import { ErrorCodes, ResponseError, type Range, type WorkspaceEdit } from 'vscode-languageserver/node';
import { prepareRename, renameEdits } from '../../core/index.js';
import { toRange, toTextEdit } from '../convert.js';
import { offsetOf, openDocument, type ServerContext } from '../context.js';
import { guard } from '../guard.js';

export function registerRename(ctx: ServerContext): void {
  ctx.connection.onPrepareRename(
    guard('textDocument/prepareRename', ctx.log.error, null, (params): { range: Range; placeholder: string } | ResponseError<void> | null => {
      const found = openDocument(ctx, params);
      if (!found) return null;
      const { doc, analyzed } = found;
      const result = prepareRename(analyzed.text, analyzed.analysis, offsetOf(doc, params.position));
      if (!result.ok) return new ResponseError(ErrorCodes.InvalidRequest, result.message);
      return { range: toRange(doc, result.range), placeholder: result.placeholder };
    }),
  );
  ctx.connection.onRenameRequest(
    guard('textDocument/rename', ctx.log.error, null, (params): WorkspaceEdit | ResponseError<void> | null => {
      const found = openDocument(ctx, params);
      if (!found) return null;
      const { doc, analyzed } = found;
      const result = renameEdits(analyzed.text, analyzed.analysis, offsetOf(doc, params.position), String(params.newName));
      if (!result.ok) return new ResponseError(ErrorCodes.InvalidRequest, result.message);
      return { changes: { [doc.uri]: result.edits.map((e) => toTextEdit(doc, e)) } };
    }),
  );
}
