// Rows as a text table, a Markdown table or CSV (RFC 4180 quoting): the grid outputs of every
// command that sweeps. Cells are given per format: formatted for people, raw for CSV.

import { CliError } from './io.js';

export type TableFormat = 'table' | 'markdown' | 'csv' | 'json';
export const TABLE_FORMATS: readonly TableFormat[] = ['table', 'markdown', 'csv', 'json'];

export function tableFormat(value: string | true | undefined, fallback: TableFormat): TableFormat {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(TABLE_FORMATS as readonly string[]).includes(value)) throw new CliError(`--format must be one of ${TABLE_FORMATS.join(', ')}; got '${String(value)}'`);
  return value as TableFormat;
}

/** A column: its header, its cell for people, its cell for CSV, and whether it is numeric (right-aligned). */
export interface Column<R> {
  readonly header: string;
  readonly text: (row: R) => string;
  readonly raw?: (row: R) => string;
  readonly numeric?: boolean;
}

export function renderTable<R>(rows: readonly R[], columns: readonly Column<R>[], format: Exclude<TableFormat, 'json'>): string {
  if (format === 'csv') {
    const quote = (c: string): string => (/[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c);
    const lines = [columns.map((c) => quote(c.header)), ...rows.map((r) => columns.map((c) => quote((c.raw ?? c.text)(r))))];
    return `${lines.map((l) => l.join(',')).join('\n')}\n`;
  }
  const cells = rows.map((r) => columns.map((c) => c.text(r)));
  if (format === 'markdown') {
    const esc = (c: string): string => c.replace(/\|/g, '\\|');
    const head = `| ${columns.map((c) => esc(c.header)).join(' | ')} |`;
    const rule = `|${columns.map((c) => (c.numeric ? '---:' : '---')).join('|')}|`;
    return `${[head, rule, ...cells.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n')}\n`;
  }
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: readonly string[]): string =>
    r
      .map((c, i) => (columns[i]!.numeric ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(columns.map((c) => c.header)), ...cells.map(line)].join('\n')}\n`;
}
