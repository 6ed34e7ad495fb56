// One parse and analysis per document version and settings: every feature of a request asks
// here, so a keystroke costs one `analyze` however many features the client then asks for.
// Entries are keyed by URI and hold the version and settings generation they were built at.

import type { TextDocument } from 'vscode-languageserver-textdocument';
import { analyze, type AnalysisResult } from '../core/index.js';
import { analysisOptions, type SettingsStore } from './settings.js';

export interface AnalyzedDocument {
  readonly uri: string;
  readonly version: number;
  readonly text: string;
  readonly analysis: AnalysisResult;
  /** Milliseconds `analyze` took (logged for the keystroke budget). */
  readonly elapsedMs: number;
}

export class AnalysisCache {
  private readonly entries = new Map<string, AnalyzedDocument & { readonly generation: number }>();
  /** How many analyses ran (tests check one per version). */
  runs = 0;

  constructor(private readonly settings: SettingsStore) {}

  /** The analysis of the document as it is now, computed at most once per version and settings. */
  get(doc: TextDocument): AnalyzedDocument {
    const cached = this.entries.get(doc.uri);
    if (cached && cached.version === doc.version && cached.generation === this.settings.generation) return cached;
    const text = doc.getText();
    const started = performance.now();
    const analysis = analyze(text, analysisOptions(this.settings.current));
    const entry = { uri: doc.uri, version: doc.version, text, analysis, elapsedMs: performance.now() - started, generation: this.settings.generation };
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
