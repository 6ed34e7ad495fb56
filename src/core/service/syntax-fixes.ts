// Quick fixes for lexical and syntax errors, read from the source at the diagnostic's range
// (never from its message): a stray character removed, a string closed, a number's unknown
// suffix changed to the closest known one, a missing closing bracket inserted.

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { WRITTEN_SUFFIXES } from '../syntax/token.js';
import type { QuickFix } from './code-actions.js';
import { suggestions } from './edit-distance.js';
import { sourceTokens } from './source-tokens.js';

const CLOSER: Readonly<Record<string, string>> = { '(': ')', '[': ']', '{': '}' };

/** The fixes for a diagnostic of the scanner or parser; [] for other codes. */
export function syntaxFixes(text: string, diagnostic: Diagnostic): QuickFix[] {
  const { start, end } = diagnostic.range;
  const written = text.slice(start, end);
  switch (diagnostic.code) {
    case 'npas-syntax-unexpected-char': {
      // An unknown escape in a string (`"a\q"`): the backslash was meant literally.
      if (written.length === 2 && written.startsWith('\\') && inString(text, start)) {
        return [{ title: 'Escape the backslash', edits: [{ range: { start, end: start + 1 }, newText: '\\\\' }], preferred: true }];
      }
      return written === '' ? [] : [{ title: `Remove '${written}'`, edits: [{ range: diagnostic.range, newText: '' }], preferred: true }];
    }
    case 'npas-syntax-unterminated-string':
      return [{ title: "Close the string with '\"'", edits: [{ range: { start: end, end }, newText: '"' }], preferred: true }];
    case 'npas-syntax-bad-number': {
      // The range is the suffix glued to the number.
      const withoutUnderscores = written.replace(/^_+/, '');
      if (withoutUnderscores !== written && (withoutUnderscores === '' || WRITTEN_SUFFIXES.has(withoutUnderscores))) {
        return [{ title: "Remove the '_'", edits: [{ range: diagnostic.range, newText: withoutUnderscores }], preferred: true }];
      }
      return suggestions(written, WRITTEN_SUFFIXES).map((s, i) => ({ title: `Change to '${s}'`, edits: [{ range: diagnostic.range, newText: s }], preferred: i === 0 }));
    }
    case 'npas-syntax-expected': {
      // An empty range is where a closing bracket is missing: close the innermost one open there.
      if (start !== end) return [];
      const open = innermostOpenBracket(text, start);
      return open ? [{ title: `Insert '${CLOSER[open]!}'`, edits: [{ range: { start, end }, newText: CLOSER[open]! }], preferred: true }] : [];
    }
    default:
      return [];
  }
}

/** Whether `offset` is inside a string token. */
function inString(text: string, offset: number): boolean {
  return sourceTokens(text).tokens.some((t) => t.kind === 'String' && t.start < offset && offset < t.end);
}

/** The innermost `(`, `[` or `{` opened before `offset` and not closed before it. */
function innermostOpenBracket(text: string, offset: number): string | undefined {
  const stack: string[] = [];
  for (const t of sourceTokens(text).tokens) {
    if (t.start >= offset) break;
    if (t.kind === '(' || t.kind === '[' || t.kind === '{') stack.push(t.kind);
    else if (t.kind === ')' || t.kind === ']' || t.kind === '}') {
      // A closer ends the innermost bracket of its own kind (and anything left open inside it).
      const opener = t.kind === ')' ? '(' : t.kind === ']' ? '[' : '{';
      const at = stack.lastIndexOf(opener);
      if (at >= 0) stack.length = at;
    }
  }
  return stack[stack.length - 1];
}
