// The host's cache of parsed imported files, kept across compilations (the language server
// keeps one for its whole session, the CLI one per command): on each keystroke in a file only
// that file is parsed again, and a library it imports is parsed once per version of its text.
// Each file keeps one slot (its offset base, `source-set.ts`) for the cache's lifetime, so its
// tree, parsed at that base, is reused as is.

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { parse } from '../syntax/parser.js';
import type { SourceFile } from '../syntax/syntax-tree.js';
import type { SourceId } from './source-id.js';
import { SOURCE_SLOT_SIZE } from './source-set.js';

export interface ParsedSource {
  readonly source: SourceId;
  readonly text: string;
  /** Offsets in `file` and `diagnostics` start at `base`. */
  readonly base: number;
  readonly file: SourceFile;
  readonly diagnostics: readonly Diagnostic[];
}

export class ParsedSources {
  private readonly slots = new Map<SourceId, number>();
  private readonly parsed = new Map<SourceId, ParsedSource>();

  /** The file parsed at its slot's base; parsed again only when its text changed. */
  get(source: SourceId, text: string): ParsedSource {
    const hit = this.parsed.get(source);
    // Usually the very same string (a document version, a file read once): a pointer compare.
    if (hit && hit.text === text) return hit;
    let slot = this.slots.get(source);
    if (slot === undefined) {
      slot = this.slots.size + 1;
      this.slots.set(source, slot);
    }
    const base = slot * SOURCE_SLOT_SIZE;
    // Parsed at its base, not shifted after: copying a 10,000-line library's tree cost more than
    // parsing it (a library edit re-diagnosed its importer at twice a single file's latency).
    const { file, diagnostics } = parse(text, base);
    const entry: ParsedSource = { source, text, base, file, diagnostics };
    this.parsed.set(source, entry);
    return entry;
  }

  /** Forgets a file's parsed text (its slot stays, so other entries keep their bases). */
  delete(source: SourceId): void {
    this.parsed.delete(source);
  }
}
