// The engine's own diagnostic shape: plain data, independent of LSP, consumed by the CLI,
// the language server (which converts it) and the tests.

import type { TextRange } from '../syntax/syntax-tree.js';
import type { DiagnosticCode } from './codes.js';
import type { SourceId } from '../imports/source-id.js';

export type Severity = 'error' | 'warning' | 'info';

/** A located problem with a stable code (see `codes.ts`; codes are never reused). */
export interface Diagnostic {
  readonly code: DiagnosticCode;
  readonly severity: Severity;
  readonly message: string;
  /** Offsets into the file `source` names. */
  readonly range: TextRange;
  /**
   * The file the range lies in, where the compilation knows files (`Compilation`'s `source`
   * option; always set on a diagnostic located in an imported file). Absent: the compiled text.
   */
  readonly source?: SourceId;
}

/**
 * Whether `d` keeps a spec from being measured: every error but a violated budget, which is a
 * result (the report says which constraint the model misses), not a broken spec.
 */
export function blocksMeasurement(d: Diagnostic): boolean {
  return d.severity === 'error' && d.code !== 'npas-budget-violated';
}

/** Collects diagnostics for one analysis pass; stages append, nobody removes. */
export class DiagnosticSink {
  readonly items: Diagnostic[] = [];

  error(code: DiagnosticCode, message: string, range: TextRange): void {
    this.items.push({ code, severity: 'error', message, range });
  }

  warning(code: DiagnosticCode, message: string, range: TextRange): void {
    this.items.push({ code, severity: 'warning', message, range });
  }

  info(code: DiagnosticCode, message: string, range: TextRange): void {
    this.items.push({ code, severity: 'info', message, range });
  }

  get hasErrors(): boolean {
    return this.items.some((d) => d.severity === 'error');
  }
}
