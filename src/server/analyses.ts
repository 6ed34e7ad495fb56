// One compilation per document version, one analysis of it per settings: every feature of a
// request asks here, so a keystroke costs one compilation however many features the client then
// asks for, and a settings change re-measures the same compilation without parsing again.
// Entries are keyed by URI and hold the version and settings generation they were built at.
// In the analysis worker (worker-main.ts) a compilation of a version the editor has already
// replaced stops mid-run (`AnalysisCancelled` from `get`; the handlers answer "content
// modified"), and a version whose analysis crashed the previous worker is refused, not retried.

import type { TextDocument } from 'vscode-languageserver-textdocument';
import { compile, type AnalysisResult, type Compilation, type Diagnostic } from '../core/index.js';
import { analysisOptions, type SettingsStore } from './settings.js';

export interface AnalyzedDocument {
  readonly uri: string;
  readonly version: number;
  readonly text: string;
  readonly compilation: Compilation;
  readonly analysis: AnalysisResult;
  /** Milliseconds the compilation and analysis took (logged for the keystroke budget). */
  readonly elapsedMs: number;
}

/** What the analysis worker knows about the editor's versions (document-versions.ts). */
export interface VersionSource {
  /** Whether the editor has sent a newer version of the document than `version`. */
  superseded(uri: string, version: number): boolean;
  /** Marks the document being analysed (undefined: none), for the host to blame after a crash. */
  analysing(uri: string | undefined): void;
}

export class AnalysisCache {
  private readonly entries = new Map<string, AnalyzedDocument & { readonly generation: number }>();
  /** Versions whose analysis killed the previous worker: reported, never analysed again. */
  private readonly refusals = new Map<string, { readonly version: number; readonly reason: string }>();
  /** How many analyses ran (tests check one per version and settings). */
  runs = 0;

  constructor(
    private readonly settings: SettingsStore,
    private readonly versions?: VersionSource,
  ) {}

  /**
   * The analysis of the document as it is now, computed at most once per version and settings.
   * Throws `AnalysisCancelled` when the editor sent a newer version while it ran.
   */
  get(doc: TextDocument): AnalyzedDocument {
    const cached = this.entries.get(doc.uri);
    if (cached && cached.version === doc.version && cached.generation === this.settings.generation) return cached;
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
      analysis = { ...compilation.analysis(analysisOptions(this.settings.current)), diagnostics: [crashDiagnostic(refusal.reason)] };
    } else {
      versions?.analysing(uri);
      try {
        // A settings change keeps the document's compilation: only the settings-dependent numbers are redone.
        compilation = cached?.compilation.text === text ? cached.compilation : compile(text, versions ? { cancelled: () => versions.superseded(uri, version) } : {});
        analysis = compilation.analysis(analysisOptions(this.settings.current));
      } finally {
        versions?.analysing(undefined);
      }
    }
    const entry = { uri, version, text: compilation.text, compilation, analysis, elapsedMs: performance.now() - started, generation: this.settings.generation };
    this.runs++;
    this.entries.set(uri, entry);
    return entry;
  }

  /** Whether the document's current version is analysed already. */
  has(doc: TextDocument): boolean {
    const cached = this.entries.get(doc.uri);
    return cached !== undefined && cached.version === doc.version && cached.generation === this.settings.generation;
  }

  /** The previous worker died analysing this version: report that instead of analysing it. */
  refuse(uri: string, version: number, reason: string): void {
    this.refusals.set(uri, { version, reason });
  }

  delete(uri: string): void {
    this.entries.delete(uri);
    this.refusals.delete(uri);
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
