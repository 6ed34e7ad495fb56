// Folding ranges for `.npas` text: every `{…}`, `(…)` and `[…]` that spans lines, `# region` /
// `# endregion` pairs, and runs of two or more comment lines (the header of an example spec).
// VS Code cannot fold on brackets from a language configuration alone (its fallback folds on
// indentation), so the extension provides these. Pure and linear in the text: strings and
// comments are skipped exactly as the scanner skips them (a string never spans a line).

export type FoldKind = 'block' | 'region' | 'comment';

export interface Fold {
  /** Zero-based first and last line shown folded (the closing bracket's line stays visible). */
  readonly start: number;
  readonly end: number;
  readonly kind: FoldKind;
}

const OPENERS: Readonly<Record<string, string>> = { '{': '}', '(': ')', '[': ']' };
const REGION = /^\s*#\s*region\b/;
const END_REGION = /^\s*#\s*endregion\b/;

export function foldingRanges(text: string): Fold[] {
  const folds: Fold[] = [];
  const brackets: { readonly close: string; readonly line: number }[] = [];
  const regions: number[] = [];
  let commentRun: { start: number; end: number } | undefined;
  const endCommentRun = (): void => {
    if (commentRun && commentRun.end > commentRun.start) folds.push({ ...commentRun, kind: 'comment' });
    commentRun = undefined;
  };

  const lines = text.split(/\r\n|\r|\n/);
  for (let line = 0; line < lines.length; line++) {
    const source = lines[line]!;
    if (REGION.test(source)) regions.push(line);
    else if (END_REGION.test(source)) {
      const start = regions.pop();
      if (start !== undefined && line > start) folds.push({ start, end: line, kind: 'region' });
    }
    if (/^\s*#/.test(source) && !REGION.test(source) && !END_REGION.test(source)) {
      if (commentRun) commentRun.end = line;
      else commentRun = { start: line, end: line };
    } else endCommentRun();

    for (let i = 0; i < source.length; i++) {
      const ch = source[i]!;
      if (ch === '#') break;
      if (ch === '"') {
        // Skip to the closing quote; `\"` and `\\` are escapes; an unclosed string ends the line.
        for (i++; i < source.length && source[i] !== '"'; i++) if (source[i] === '\\') i++;
        continue;
      }
      const close = OPENERS[ch];
      if (close) brackets.push({ close, line });
      else if (ch === '}' || ch === ')' || ch === ']') {
        // Unwind to the matching opener; a stray closer (a syntax error) is ignored.
        const at = brackets.map((b) => b.close).lastIndexOf(ch);
        if (at < 0) continue;
        const open = brackets[at]!;
        brackets.length = at;
        if (line - 1 > open.line) folds.push({ start: open.line, end: line - 1, kind: 'block' });
      }
    }
  }
  endCommentRun();
  return folds.sort((a, b) => a.start - b.start || b.end - a.end);
}
