// Converts UTF-16 offsets to 1-based line and column numbers, as the CLI prints them
// (`FILE:LINE:COL`). Columns count UTF-16 code units, like editors and LSP do.

export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(Math.max(offset, 0), text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}
