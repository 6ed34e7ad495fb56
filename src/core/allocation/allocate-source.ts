// The allocator's entry from source text (for the CLI and the editor): parse and evaluate a
// file with the engine, pick a model or variant, and list its weights. A target that already
// declares sharing is refused: the plan replaces sharing, it does not stack on top of it.

import { DiagnosticSink } from '../diagnostics/diagnostic.js';
import { EvalContext } from '../semantics/evaluator.js';
import { evaluateFile } from '../semantics/evaluate-model.js';
import type { ScopedStatement } from '../sharing/resolve-statements.js';
import { parse } from '../syntax/parser.js';
import { lineColumn } from '../text/line-column.js';
import { allocate } from './allocate.js';
import { layerItems } from './layer-items.js';
import type { AllocationInput, AllocationRequest, AllocationResult } from './types.js';

/** Statements that leave stored params alone and so may stay beside an allocation. */
const COMPATIBLE = new Set(['freeze', 'train']);

/** The first statement that conflicts with an allocation, if any. */
export function conflictingStatement(statements: readonly ScopedStatement[]): ScopedStatement | undefined {
  return statements.find((s) => !COMPATIBLE.has(s.statement.keyword) && s.statement.keyword !== 'allocate');
}

export function readArchitecture(text: string, model: string): { ok: true; input: AllocationInput } | { ok: false; message: string } {
  const parsed = parse(text);
  const sink = new DiagnosticSink();
  sink.items.push(...parsed.diagnostics);
  const ctx = new EvalContext(sink);
  let evaluated;
  try {
    evaluated = evaluateFile(parsed.file, ctx);
  } catch (e) {
    return { ok: false, message: `internal error while evaluating (please report): ${e instanceof Error ? e.message : String(e)}` };
  }
  const firstError = sink.items.find((d) => d.severity === 'error');
  if (firstError) {
    const at = lineColumn(text, firstError.range.start);
    return { ok: false, message: `the file has errors (first at ${at.line}:${at.column}: ${firstError.message}); run npas check` };
  }
  const target = evaluated.models.find((m) => m.name === model);
  if (!target) {
    const names = evaluated.models.map((m) => m.name).join(', ');
    return { ok: false, message: `no model or variant named '${model}' (this file has: ${names || 'none'})` };
  }
  const conflict = conflictingStatement(target.statements);
  if (conflict) {
    const at = lineColumn(text, conflict.statement.range.start);
    return { ok: false, message: `${model} already declares sharing ('${conflict.statement.keyword}' at ${at.line}:${at.column}); allocate a model without share/tie/adapt/hash/bank/dict/route statements` };
  }
  if (target.statements.some((s) => s.statement.keyword === 'allocate')) return { ok: false, message: `${model} already has an allocation request; allocate its base model` };
  const input = layerItems(model, target.members);
  return typeof input === 'string' ? { ok: false, message: input } : { ok: true, input };
}

export function allocateSource(text: string, model: string, request: AllocationRequest): AllocationResult {
  const arch = readArchitecture(text, model);
  return arch.ok ? allocate(arch.input, request) : { ok: false, message: arch.message };
}
