// Shared helpers for the allocator tests: allocate from source text, check a plan's invariants,
// and analyse its emitted variant with the engine.

import assert from 'node:assert/strict';
import { allocateSource, analyze, emitVariant, type AllocationPlan, type AllocationRequest, type GroupingSpec } from '../../../src/core/index.js';

export function request(target: number, grouping: GroupingSpec = { kind: 'auto' }, method: AllocationRequest['method'] = 'wavg', maxTemplates = 8): AllocationRequest {
  return { target, grouping, method, maxTemplates };
}

/** Stored params of one model or variant of a source, through the engine. */
export function storedOf(text: string, model: string): bigint {
  const r = analyze(text);
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  assert.deepEqual(errors.map((d) => d.message), [], 'the source analyses without errors');
  const m = r.models.find((x) => x.name === model);
  assert.ok(m, `model ${model} is reported`);
  return m.params.stored;
}

/** Every invariant of a plan: exact stored, nothing unread, per-layer accounting consistent. */
export function checkPlan(plan: AllocationPlan): void {
  assert.equal(plan.stored, plan.target, 'stored == target');
  assert.equal(plan.unused, 0, 'every store entry is read');
  let stores = 0;
  let coefficients = 0;
  let macs = 0;
  for (const g of plan.groups) {
    assert.ok(g.params >= 1, `${g.id} has a store`);
    assert.equal(g.unused, 0);
    stores += g.params;
    let reads = 0;
    for (const i of g.layers) {
      const l = plan.layers[i]!;
      assert.equal(l.group, g.id);
      const it = plan.items[i]!;
      coefficients += l.generator.coefficients;
      assert.equal(l.generator.coefficients, l.generator.templates >= 2 ? l.generator.templates * it.copies : 0);
      if (!g.direct) macs += l.generator.templates * it.numel * it.copies;
      reads += l.generator.reads;
    }
    if (!g.direct) assert.ok(reads >= g.params, `${g.id}: windows span the store`);
  }
  assert.equal(plan.layers.length, plan.items.length, 'every weight has a generator');
  assert.equal(coefficients, plan.coefficients);
  assert.equal(macs, plan.generationMacs);
  assert.equal(plan.fixed + stores + coefficients, plan.target);
}

/** Allocates, checks the plan, and checks its emitted variant budgets to exactly B. */
export function allocateAndEmit(text: string, model: string, req: AllocationRequest): AllocationPlan {
  const r = allocateSource(text, model, req);
  if (!r.ok) assert.fail(`refused: ${r.message}`);
  checkPlan(r.plan);
  const emitted = `${text}\n${emitVariant(r.plan, `${model}_NPAS`)}`;
  assert.equal(storedOf(emitted, `${model}_NPAS`), BigInt(req.target), 'the emitted variant stores exactly B');
  return r.plan;
}
