// The files of the program a request spans, for references, highlights and rename across
// imports (src/core/service/program-occurrences.ts): every open document, and every file an
// open document's imports reach (read as the imports were: open documents first, then disk),
// each compiled as its own main file. Only files whose text holds the name are compiled, so a
// rename of `Decoder` does not analyse a library that never spells it. A file no open document
// reaches is not known to the server, so its uses are not found (docs/editor.md, "Rename").
// `programLookup` finds any one of those files by its id, for resolving names across them.

import { TextDocument } from 'vscode-languageserver-textdocument';
import type { ProgramFile, ProgramLookup } from '../core/index.js';
import type { ServerContext } from './context.js';

/** The program's files that spell `name`. */
export function programFiles(ctx: ServerContext, name: string): ProgramFile[] {
  const out = new Map<string, ProgramFile>();
  const reached = new Map<string, string>();
  for (const doc of ctx.documents.all()) {
    const analyzed = ctx.analyses.get(doc);
    for (const f of analyzed.compilation.imported) if (!ctx.documents.get(f.source)) reached.set(f.source, f.text);
    if (analyzed.text.includes(name)) out.set(doc.uri, { source: doc.uri, compilation: analyzed.compilation });
  }
  for (const [uri, text] of reached) if (!out.has(uri) && text.includes(name)) out.set(uri, { source: uri, compilation: ctx.analyses.compileClosed(uri, text) });
  return [...out.values()];
}

/**
 * Any file of the program by its id, compiled on demand: an open document's analysis, else a
 * file an open document's imports reach. Cross-file members and parameters are resolved through
 * it (a variant of a variant of a library's model reads each file on the way, whatever it spells).
 */
export function programLookup(ctx: ServerContext): ProgramLookup {
  return (source) => {
    const open = ctx.documents.get(source);
    if (open) return { source, compilation: ctx.analyses.get(open).compilation };
    for (const doc of ctx.documents.all()) {
      const reached = ctx.analyses.get(doc).compilation.imported.find((f) => f.source === source);
      if (reached) return { source, compilation: ctx.analyses.compileClosed(source, reached.text) };
    }
    return undefined;
  };
}

/** The document positions of a program file convert against: its open document, else its text as compiled. */
export function documentOf(ctx: ServerContext, file: { readonly source: string; readonly compilation: { readonly text: string } }): TextDocument {
  return ctx.documents.get(file.source) ?? TextDocument.create(file.source, 'npas', 0, file.compilation.text);
}
