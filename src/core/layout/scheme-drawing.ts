// How the dashboard draws what a sharing scheme resolved to: the hook a scheme's registry entry
// carries (`SharingScheme.drawing`), handed one resolved modifier and the place the structure
// (structure.ts) collects store nodes, reads and notes in. The scheme's own file says how it is
// drawn; structure.ts names no scheme and switches on no modifier kind.

import type { Modifier, ModifierEffect, PatternStep, ResolvedSharing } from '../sharing/declarations.js';
import type { NoteData, ReadData, StoreData } from './types.js';

/** The instance a path reaches: its top-level member, the instance index (null: the member, or every instance), the path below. */
export interface Reader {
  readonly member: string;
  readonly index: number | null;
  readonly sub: string;
}

/** Where a drawing hook puts what one modifier shows. */
export interface DrawingContext {
  /** The instance the modifier's path reaches. */
  readonly reader: Reader;
  /** The statement as written, white space collapsed: a store node's hover. */
  readonly declaration: string;
  /** The model's resolved sharing: the typed facts a label states (which modifiers reach a weight). */
  readonly sharing: ResolvedSharing;
  /** The instance another path reaches (a tie's source), or undefined outside the members. */
  readerOf(pattern: readonly PatternStep[]): Reader | undefined;
  /** A store node, kept once per id however many modifiers draw it. */
  addStore(store: StoreData): void;
  /** An instance reading a store; with `once`, not again where that instance already reads it. */
  addRead(read: ReadData, once?: boolean): void;
  addNote(note: NoteData): void;
}

/** A scheme's drawing hook. */
export interface SchemeDrawing {
  /** The modifier kinds the scheme resolves to, which this hook draws; each kind is drawn by one scheme. */
  readonly effects: readonly ModifierEffect['kind'][];
  draw(modifier: Modifier, ctx: DrawingContext): void;
}

/** `label` with ` on SUB` when the modifier reaches a path inside the instance. */
export function onSub(label: string, reader: Reader): string {
  return reader.sub ? `${label} on ${reader.sub}` : label;
}
