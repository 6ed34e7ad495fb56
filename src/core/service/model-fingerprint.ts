// What a probe measurement of a model depends on, as one hash: the document's text minus the
// declarations of budgets and of every model or variant outside the model's base chain, with
// runs of whitespace read as one space. A probe measures the model built from the whole text, so
// everything the model can read is kept — its own declaration, its bases', and every top-level
// constant, block and comment — and only text no evaluation of it can reach is left out. So an
// edit to another model or a budget leaves a measurement current; an edit to anything else it
// might depend on (even a comment) makes it "measured on an earlier version", and undoing the
// edit makes it current again.
// Both sides compute it: the extension sends the fingerprint of the text it probed
// (`modelFingerprint` of `npas/probeMeasured`, kept across window reloads, when document versions
// restart), and the server compares it with the current text's. Pure (the core's own SHA-256), so
// both get the same digest; the extension loads the core only after a probe.

import type { SourceFile, TextRange } from '../syntax/syntax-tree.js';
import { sha256Hex } from '../text/sha256.js';

/** The fingerprint of `model` in `text`, or undefined when the file declares no such model or variant. */
export function modelFingerprint(text: string, file: SourceFile, model: string): string | undefined {
  const declarations = new Map<string, { range: TextRange; base: string | undefined }[]>();
  for (const item of file.items) {
    if (item.kind !== 'Model' && item.kind !== 'Variant') continue;
    const list = declarations.get(item.name.text) ?? [];
    list.push({ range: item.range, base: item.kind === 'Variant' ? item.base.text : undefined });
    declarations.set(item.name.text, list);
  }
  if (!declarations.has(model)) return undefined;
  // The base chain (a cycle is an error the analysis reports; the set stops it here).
  const chain = new Set<string>();
  const pending = [model];
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (chain.has(name)) continue;
    chain.add(name);
    for (const d of declarations.get(name) ?? []) if (d.base !== undefined) pending.push(d.base);
  }
  const parts: string[] = [];
  let cursor = 0;
  for (const item of file.items) {
    const unrelated = item.kind === 'Budget' || ((item.kind === 'Model' || item.kind === 'Variant') && !chain.has(item.name.text));
    if (!unrelated || item.range.start < cursor) continue;
    parts.push(normalize(text.slice(cursor, item.range.start)));
    cursor = item.range.end;
  }
  parts.push(normalize(text.slice(cursor)));
  return sha256Hex(parts.join('\u0000'));
}

const normalize = (s: string): string => s.replace(/\s+/g, ' ').trim();
