// The files of one compilation on one line of offsets, as rustc's SourceMap and Go's FileSet
// lay them: the compiled file keeps offsets 0…, and each imported file is parsed at its own
// base far beyond any file's length, so a range anywhere in the compilation — in a diagnostic,
// a binding, a model's name — says by its offsets alone which file it lies in. Evaluation, its
// diagnostics and its caches need no file field on each of the tree's many ranges; `locate`
// turns a range back into (file, offsets in that file) at the boundary.

import type { TextRange } from '../syntax/syntax-tree.js';
import type { SourceId, SourceRange } from './source-id.js';

/**
 * The distance between two files' bases: above the largest text analysed (MAX_SPEC_CHARS,
 * 16 MiB), and small enough that 2²⁷ files fit below 2⁵³.
 */
export const SOURCE_SLOT_SIZE = 2 ** 26;

/** One file of a compilation: its id, text and where its offsets start. */
export interface SourceEntry {
  readonly source: SourceId | undefined;
  readonly text: string;
  readonly base: number;
}

/** Whether a range lies in the compiled file itself (not in a file it imports). */
export function inCompiledFile(range: TextRange): boolean {
  return range.start < SOURCE_SLOT_SIZE;
}

export class SourceSet {
  private readonly bySlot = new Map<number, SourceEntry>();

  constructor(readonly main: SourceEntry) {
    this.bySlot.set(0, main);
  }

  add(entry: SourceEntry): void {
    this.bySlot.set(entry.base / SOURCE_SLOT_SIZE, entry);
  }

  /** The file a range lies in (the compiled file for a range of offsets below the first slot). */
  entryOf(range: TextRange): SourceEntry {
    return this.bySlot.get(Math.floor(range.start / SOURCE_SLOT_SIZE)) ?? this.main;
  }

  /** Whether a range lies in the compiled file itself. */
  isMain(range: TextRange): boolean {
    return inCompiledFile(range);
  }

  /** A range as offsets into its own file, with that file's id (undefined for an unnamed compiled file). */
  locate(range: TextRange): { readonly source: SourceId | undefined; readonly range: TextRange } {
    const entry = this.entryOf(range);
    return { source: entry.source, range: entry.base === 0 ? range : { start: range.start - entry.base, end: range.end - entry.base } };
  }

  /** `locate` for a file with an id (imported files always have one). */
  sourceRange(range: TextRange): SourceRange | undefined {
    const { source, range: local } = this.locate(range);
    return source === undefined ? undefined : { source, start: local.start, end: local.end };
  }

  /** Every file, the compiled one first. */
  entries(): SourceEntry[] {
    return [...this.bySlot.values()];
  }
}
