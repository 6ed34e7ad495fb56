// JSON output with exact integers: bigint values are written as plain JSON integers (no
// quotes, no rounding), which JSON allows at any size. The CLI's `--json` outputs and the budget
// report the language server answers (analysis/budget-json.ts) are written with it.

const MARK = '\u0000bigint:';

export function toJson(value: unknown, indent = 2): string {
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${MARK}${v.toString()}` : v), indent);
  // JSON.stringify writes the marker's NUL as the six characters `\u0000`: match that form.
  return text.replace(/"\\u0000bigint:(-?\d+)"/g, '$1');
}
