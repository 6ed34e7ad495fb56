// One compilation per document version, one analysis of it per settings: every feature of a
// request asks here, so a keystroke costs one compilation however many features the client then
// asks for, and a settings change re-measures the same compilation without parsing again.
// Entries are keyed by URI and hold the version and settings generation they were built at.

import type { TextDocument } from 'vscode-languageserver-textdocument';
import { compile, type AnalysisResult, type Compilation } from '../core/index.js';
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

export class AnalysisCache {
  private readonly entries = new Map<string, AnalyzedDocument & { readonly generation: number }>();
  /** How many analyses ran (tests check one per version and settings). */
  runs = 0;

  constructor(private readonly settings: SettingsStore) {}

  /** The analysis of the document as it is now, computed at most once per version and settings. */
  get(doc: TextDocument): AnalyzedDocument {
    const cached = this.entries.get(doc.uri);
    if (cached && cached.version === doc.version && cached.generation === this.settings.generation) return cached;
    const text = doc.getText();
    const started = performance.now();
    // A settings change keeps the document's compilation: only the settings-dependent numbers are redone.
    const compilation = cached?.compilation.text === text ? cached.compilation : compile(text);
    const analysis = compilation.analysis(analysisOptions(this.settings.current));
    const entry = { uri: doc.uri, version: doc.version, text: compilation.text, compilation, analysis, elapsedMs: performance.now() - started, generation: this.settings.generation };
    this.runs++;
    this.entries.set(doc.uri, entry);
    return entry;
  }

  /** Whether the document's current version is analysed already. */
  has(doc: TextDocument): boolean {
    const cached = this.entries.get(doc.uri);
    return cached !== undefined && cached.version === doc.version && cached.generation === this.settings.generation;
  }

  delete(uri: string): void {
    this.entries.delete(uri);
  }
}
