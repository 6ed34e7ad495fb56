// The allocator's entry from source text or a compilation (for the CLI and the editor): the
// file as the engine compiled it, pick a model or variant, and list its weights. A target that already
// declares sharing is refused: the plan replaces sharing, it does not stack on top of it.

import { compile, type Compilation } from '../analysis/compilation.js';
import { conflictingStatement } from './conflicts.js';
import { SHARING_SCHEMES } from '../schemes/registry.js';
import { findScheme } from '../sharing/scheme.js';
import { lineColumn } from '../text/line-column.js';
import { allocate } from './allocate.js';
import { layerItems } from './layer-items.js';
import type { AllocationInput, AllocationRequest, AllocationResult } from './types.js';


export function readArchitecture(source: string | Compilation, model: string): { ok: true; input: AllocationInput } | { ok: false; message: string } {
  const compilation = typeof source === 'string' ? compile(source) : source;
  const text = compilation.text;
  const firstError = compilation.diagnostics.find((d) => d.severity === 'error');
  if (firstError) {
    const at = lineColumn(text, firstError.range.start);
    const internal = firstError.code === 'npas-internal-error';
    return { ok: false, message: internal ? firstError.message : `the file has errors (first at ${at.line}:${at.column}: ${firstError.message}); run npas check` };
  }
  const target = compilation.model(model);
  if (!target) {
    const names = compilation.models.map((m) => m.name).join(', ');
    return { ok: false, message: `no model or variant named '${model}' (this file has: ${names || 'none'})` };
  }
  const conflict = conflictingStatement(target.statements, (s) => findScheme(SHARING_SCHEMES, s.keyword, s.modifier?.text));
  if (conflict) {
    const at = lineColumn(text, conflict.statement.range.start);
    return { ok: false, message: `${model} already declares sharing ('${conflict.statement.keyword}' at ${at.line}:${at.column}); allocate a model without share/tie/adapt/hash/bank/dict/route statements` };
  }
  if (target.statements.some((s) => s.statement.keyword === 'allocate')) return { ok: false, message: `${model} already has an allocation request; allocate its base model` };
  const input = layerItems(model, target.members, target.sharing.modifiers);
  return typeof input === 'string' ? { ok: false, message: input } : { ok: true, input };
}

export function allocateSource(source: string | Compilation, model: string, request: AllocationRequest): AllocationResult {
  const arch = readArchitecture(source, model);
  return arch.ok ? allocate(arch.input, request) : { ok: false, message: arch.message };
}
