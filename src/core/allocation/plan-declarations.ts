// A plan as sharing declarations: one fixed SSN bank per (group, template count), covering the
// group's weights by path. Both `--emit` (text) and the `allocate` statement (modifiers) use it,
// so the emitted variant and the in-language request budget identically. Paths that cover every
// instance of a top-level stack are written once without the index (`body.attn.q`).

import type { PatternStep } from '../sharing/declarations.js';
import { pathText } from '../sharing/store-resolver.js';
import type { AllocationPlan } from './types.js';

export interface BankDeclaration {
  readonly label: string;
  readonly params: number;
  readonly templates: number;
  readonly patterns: readonly (readonly PatternStep[])[];
  /** Weights covered and the generators they use, for the emitted comment. */
  readonly weights: number;
  readonly generators: readonly string[];
}

export function planDeclarations(plan: AllocationPlan): BankDeclaration[] {
  const out: BankDeclaration[] = [];
  for (const g of plan.groups) {
    if (g.direct) continue;
    const byK = new Map<number, number[]>();
    for (const m of g.layers) {
      const k = plan.layers[m]!.generator.templates;
      const list = byK.get(k) ?? [];
      list.push(m);
      byK.set(k, list);
    }
    for (const [k, members] of [...byK].sort((a, b) => a[0] - b[0])) {
      const gens = new Set(members.map((m) => plan.layers[m]!.generator.kind));
      out.push({ label: `npas_${g.id}`, params: g.params, templates: k, patterns: compress(plan, members), weights: members.length, generators: [...gens] });
    }
  }
  return out;
}

function compress(plan: AllocationPlan, members: readonly number[]): PatternStep[][] {
  const counts = new Map<string, Set<number>>();
  for (const m of members) {
    const it = plan.items[m]!;
    if (it.fanPath === undefined) continue;
    const set = counts.get(it.fanPath) ?? new Set<number>();
    set.add(it.fanIndex);
    counts.set(it.fanPath, set);
  }
  const emitted = new Set<string>();
  const out: PatternStep[][] = [];
  for (const m of members) {
    const it = plan.items[m]!;
    if (it.fanPath !== undefined && counts.get(it.fanPath)!.size === it.fanLength) {
      if (emitted.has(it.fanPath)) continue;
      emitted.add(it.fanPath);
      const first = it.steps.findIndex((s) => s.kind === 'index');
      out.push(it.steps.filter((_, i) => i !== first));
    } else out.push([...it.steps]);
  }
  return out;
}

/** A variant name the source does not use yet, so an emitted plan can be appended to it as it is. */
export function freeVariantName(text: string, base: string): string {
  const taken = new Set([...text.matchAll(/\b([A-Za-z_][A-Za-z0-9_]*)\b/g)].map((m) => m[1]!));
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}${i}`;
  return name;
}

/** The plan as a `.npas` variant of the allocated model. */
export function emitVariant(plan: AllocationPlan, name = `${plan.model}_npas`): string {
  const lines = [
    `# NPAS plan for ${plan.model}: exactly ${plan.target} stored parameters (${plan.regime} budget; demand ${plan.demand}, fixed ${plan.fixed}).`,
    `# Grouping ${describeGrouping(plan)}, method ${plan.method}; ${plan.coefficients} coefficients; ${plan.generationMacs} generation MACs per training step; every store entry read.`,
  ];
  const direct = plan.groups.filter((g) => g.direct).length;
  if (direct > 0) lines.push(`# ${direct} single-weight group${direct === 1 ? '' : 's'} stored whole (no bank).`);
  lines.push(`variant ${name} of ${plan.model} {`);
  for (const d of planDeclarations(plan)) {
    lines.push(`  # ${d.label}: ${d.weights} weight${d.weights === 1 ? '' : 's'}, ${d.generators.join('/')}`);
    lines.push(`  bank ${d.label} = ${d.patterns.map(pathText).join(', ')}: ssn(params: ${d.params}, templates: ${d.templates}, fixed: true)`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function describeGrouping(plan: AllocationPlan): string {
  const g = plan.grouping;
  const name = g.kind === 'depth' || g.kind === 'cluster' ? `${g.kind}:${g.k}` : g.kind === 'checkpoint' ? `checkpoint:${g.path}` : g.kind;
  return `${name} (${plan.groups.length} group${plan.groups.length === 1 ? '' : 's'})`;
}
