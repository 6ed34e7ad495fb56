// One compilation per document version, one analysis of it per settings: every feature of a
// request asks here, so a keystroke costs one compilation however many features the client then
// asks for, and a settings change re-measures the same compilation without parsing again.
// Entries are keyed by URI and hold the version and settings generation they were built at.
// In the analysis worker (worker-main.ts) a compilation of a version the editor has already
// replaced stops mid-run (`AnalysisCancelled` from `get`; the handlers answer "content
// modified"), and a version whose analysis crashed the previous worker is refused, not retried.
// Imports (docs/language.md, "Imports") are read from the open documents first, then from
// disk, through one parse cache for the session: a keystroke in an importer parses that file
// only, and an entry is stale when a file it imports changed (`importersOf` names the open
// documents to re-diagnose when one does).

import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { compile, ParsedSources, type AnalysisResult, type Compilation, type Diagnostic, type ImportHost } from '../core/index.js';
import { analysisOptions, type SettingsStore } from './settings.js';

export interface AnalyzedDocument {
  readonly uri: string;
  readonly version: number;
  readonly text: string;
  readonly compilation: Compilation;
  /** The analysis, its diagnostics those located in this document (an imported file's are its own). */
  readonly analysis: AnalysisResult;
  /** Milliseconds the compilation and analysis took (logged for the keystroke budget). */
  readonly elapsedMs: number;
  /** Which analysis this is (one per run): a new one after a file it imports changed, at the same version. */
  readonly serial: number;
}

/** What the analysis worker knows about the editor's versions (document-versions.ts). */
export interface VersionSource {
  /** Whether the editor has sent a newer version of the document than `version`. */
  superseded(uri: string, version: number): boolean;
  /** Marks the document being analysed (undefined: none), for the host to blame after a crash. */
  analysing(uri: string | undefined): void;
}

/** The open documents, by URI (the server's `TextDocuments`). */
export interface OpenDocuments {
  get(uri: string): TextDocument | undefined;
}

/** A file an analysis imported, and the text it was compiled with. */
interface Dependency {
  readonly uri: string;
  readonly text: string;
  /** Whether the text came from an open document (else from disk). */
  readonly open: boolean;
}

type Entry = AnalyzedDocument & {
  readonly generation: number;
  readonly dependencies: readonly Dependency[];
  /** Whether the document has imports (a file it could not read may appear later). */
  readonly imports: boolean;
  readonly diskGeneration: number;
};

/** Largest file read from disk for an import: the engine refuses more text than this anyway. */
const MAX_IMPORT_BYTES = 64 * 1024 * 1024;

export class AnalysisCache {
  private readonly entries = new Map<string, Entry>();
  /** Versions whose analysis killed the previous worker: reported, never analysed again. */
  private readonly refusals = new Map<string, { readonly version: number; readonly reason: string }>();
  private readonly parsed = new ParsedSources();
  private readonly host: ImportHost;
  /** Files that are not open, compiled as their own main file for references and rename across files (the latest text of each). */
  private readonly closed = new Map<string, Compilation>();
  /** Bumped when files on disk may have changed (watched-file events, a document opened or closed). */
  private diskGeneration = 0;
  /** How many analyses ran (tests check one per version and settings). */
  runs = 0;

  constructor(
    private readonly settings: SettingsStore,
    private readonly versions?: VersionSource,
    private readonly documents: OpenDocuments = { get: () => undefined },
  ) {
    this.host = { read: (uri) => this.documents.get(uri)?.getText() ?? readFromDisk(uri), cache: this.parsed };
  }

  /**
   * The analysis of the document as it is now, computed at most once per version, settings and
   * imported texts. Throws `AnalysisCancelled` when the editor sent a newer version while it ran.
   */
  get(doc: TextDocument): AnalyzedDocument {
    const cached = this.entries.get(doc.uri);
    const importsCurrent = cached !== undefined && this.importsCurrent(cached);
    if (cached && importsCurrent && cached.version === doc.version && cached.generation === this.settings.generation) return cached;
    const text = doc.getText();
    const started = performance.now();
    const refusal = this.refusals.get(doc.uri);
    const { uri, version } = doc;
    const versions = this.versions;
    let compilation: Compilation;
    let analysis: AnalysisResult;
    if (refusal?.version === version) {
      // Nothing of the text is analysed: an empty compilation carries the one diagnostic.
      compilation = compile('');
      analysis = { ...compilation.analysis(analysisOptions(this.settings.current, this.settings.devices)), diagnostics: [crashDiagnostic(refusal.reason)] };
    } else {
      versions?.analysing(uri);
      try {
        // A settings change keeps the document's compilation: only the settings-dependent numbers are redone.
        compilation =
          importsCurrent && cached.compilation.text === text
            ? cached.compilation
            : compile(text, { source: uri, imports: this.host, ...(versions ? { cancelled: () => versions.superseded(uri, version) } : {}) });
        const full = compilation.analysis(analysisOptions(this.settings.current, this.settings.devices));
        analysis = compilation.imported.length === 0 ? full : { ...full, diagnostics: full.diagnostics.filter((d) => d.source === undefined || d.source === uri) };
      } finally {
        versions?.analysing(undefined);
      }
    }
    const dependencies = compilation.imported.map((f) => ({ uri: f.source, text: f.text, open: this.documents.get(f.source) !== undefined }));
    const imports = compilation.file.items.some((i) => i.kind === 'Import');
    this.runs++;
    const entry: Entry = { uri, version, text: compilation.text, compilation, analysis, elapsedMs: performance.now() - started, serial: this.runs, generation: this.settings.generation, dependencies, imports, diskGeneration: this.diskGeneration };
    this.entries.set(uri, entry);
    return entry;
  }

  /**
   * A file that is not open (an open document's import), compiled as its own main file with its
   * imports followed as a document's are: references and rename ask what its names mean.
   * Kept per file while its text and the files it imports are unchanged.
   */
  compileClosed(uri: string, text: string): Compilation {
    const hit = this.closed.get(uri);
    if (hit && hit.text === text && hit.imported.every((f) => this.host.read(f.source) === f.text)) return hit;
    const compilation = compile(text, { source: uri, imports: this.host });
    this.closed.set(uri, compilation);
    return compilation;
  }

  /** Whether the document's current version is analysed already. */
  has(doc: TextDocument): boolean {
    const cached = this.entries.get(doc.uri);
    return cached !== undefined && cached.version === doc.version && cached.generation === this.settings.generation && this.importsCurrent(cached);
  }

  /** The analysed documents that import `uri` (directly or through other files). */
  importersOf(uri: string): string[] {
    return [...this.entries.values()].filter((e) => e.dependencies.some((d) => d.uri === uri)).map((e) => e.uri);
  }

  /** The analysed documents that import anything. */
  withImports(): string[] {
    return [...this.entries.values()].filter((e) => e.imports).map((e) => e.uri);
  }

  /**
   * Files may have changed beyond the open documents' edits (a file saved by another program, a
   * document opened or closed): every analysis with imports is redone on its next use — the
   * parse cache keeps the files that did not change parsed.
   */
  diskChanged(): void {
    this.diskGeneration++;
  }

  /** The previous worker died analysing this version: report that instead of analysing it. */
  refuse(uri: string, version: number, reason: string): void {
    this.refusals.set(uri, { version, reason });
  }

  delete(uri: string): void {
    this.entries.delete(uri);
    this.closed.delete(uri);
    this.refusals.delete(uri);
  }

  /** Whether every file an entry imported still has the text it was compiled with. */
  private importsCurrent(entry: Entry): boolean {
    if (entry.imports && entry.diskGeneration !== this.diskGeneration) return false;
    for (const d of entry.dependencies) {
      const open = this.documents.get(d.uri);
      if (open ? open.getText() !== d.text : d.open) return false;
    }
    return true;
  }
}

/** A `file:` URI's text on disk; undefined for other schemes, a missing, unreadable or oversized file. */
function readFromDisk(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    const path = fileURLToPath(uri);
    if (statSync(path).size > MAX_IMPORT_BYTES) return undefined;
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function crashDiagnostic(reason: string): Diagnostic {
  return {
    code: 'npas-analysis-crashed',
    severity: 'error',
    message: `the analysis of this version stopped the language server's analysis worker (${reason}); it was restarted and this version is not analysed again: edit the spec to analyse it anew`,
    range: { start: 0, end: 0 },
  };
}
