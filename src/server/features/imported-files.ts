// `npas/importedFiles`: the files an open document's compilation read through its imports —
// the compilation the server keeps for its current version, so the answer is what its
// diagnostics, hovers and dashboard data were computed from. The dashboard follows a document
// and updates when one of these is edited (src/extension/dashboard-panel.ts).

import { IMPORTED_FILES_METHOD, type ImportedFilesParams, type ImportedFilesResult } from '../../protocol/lsp-extensions.js';
import type { ServerContext } from '../context.js';
import { guard } from '../guard.js';

export function registerImportedFiles(ctx: ServerContext): void {
  ctx.connection.onRequest(
    IMPORTED_FILES_METHOD,
    guard(IMPORTED_FILES_METHOD, ctx.log.error, null, (params: ImportedFilesParams): ImportedFilesResult => {
      if (typeof params?.uri !== 'string') throw new TypeError(`${IMPORTED_FILES_METHOD} needs { uri: string }`);
      const doc = ctx.documents.get(params.uri);
      if (!doc) return { uri: params.uri, files: [] };
      return { uri: params.uri, files: ctx.analyses.get(doc).compilation.imported.map((f) => f.source) };
    }),
  );
}
