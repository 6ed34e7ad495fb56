// `npas/childProgram`: the texts Export ONNX and Run GPU Probe hand their child process (the CLI
// reading a spec file) so it compiles what the editor shows — the document and every file its
// imports reach, as this server's compilation of the document's current version read them (open
// documents first, then disk) — and the probed model's fingerprint in that text. The extension
// host writes scratch copies of them when something is unsaved, and compiles nothing itself.

import { modelFingerprint } from '../../core/index.js';
import { CHILD_PROGRAM_METHOD, type ChildProgramAnswer, type ChildProgramParams } from '../../protocol/lsp-extensions.js';
import type { ServerContext } from '../context.js';
import { guard } from '../guard.js';

export function registerChildProgram(ctx: ServerContext): void {
  ctx.connection.onRequest<ChildProgramAnswer | null, unknown>(
    CHILD_PROGRAM_METHOD,
    guard(CHILD_PROGRAM_METHOD, ctx.log.error, null, (params: ChildProgramParams): ChildProgramAnswer | null => {
      if (typeof params?.uri !== 'string' || (params.model !== undefined && typeof params.model !== 'string')) throw new TypeError(`${CHILD_PROGRAM_METHOD} needs { uri: string, model?: string }`);
      const doc = ctx.documents.get(params.uri);
      if (!doc) return null;
      const { compilation } = ctx.analyses.get(doc);
      const fingerprint = params.model === undefined ? undefined : modelFingerprint(compilation.text, compilation.file, params.model);
      return {
        version: doc.version,
        text: compilation.text,
        imported: compilation.imported.map((f) => ({ uri: f.source, text: f.text })),
        ...(fingerprint !== undefined ? { fingerprint } : {}),
      };
    }),
  );
}
