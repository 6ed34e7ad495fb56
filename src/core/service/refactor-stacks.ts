// Rewrites between the ways of writing a stack: `X * N` ↔ `[X for i in 0..N]`, and a run of
// identical written-out layers → `X * N`. Each keeps the evaluated stack — the same instances in
// the same order — so every count is unchanged; a written-out run is rewritten only when no name
// refers to its members (a path like `l3.q` would have no target afterwards).

import type { AnalysisResult } from '../analysis/analyze.js';
import type { Binding, BlockDeclaration, ComprehensionExpression, Expression, ModelDeclaration, TextRange, VariantDeclaration } from '../syntax/syntax-tree.js';
import { indexOf } from './analysis-index.js';
import { referencedOutside } from './occurrences.js';
import { freeName, hasComment } from './refactor-text.js';
import type { Refactoring } from './refactorings.js';
import { ancestorsAt, forEachNode } from './syntax-walk.js';

/** The binding around `range.start` whose value evaluated to a module (a layer, block instance or stack). */
function moduleBindingAt(analysis: AnalysisResult, offset: number): Binding | undefined {
  const binding = [...ancestorsAt(analysis.file, offset)].reverse().find((n): n is Binding => n.kind === 'Binding');
  if (!binding) return undefined;
  return indexOf(analysis).valuesOf(binding.name.range).some((v) => v.value.kind === 'module') ? binding : undefined;
}

/** Whether an expression can stand before `* N` or inside `[… for …]` without parentheses. */
function isPrimary(e: Expression): boolean {
  return e.kind === 'Name' || e.kind === 'Call' || e.kind === 'Member' || e.kind === 'Index';
}

/** "Write as a comprehension" (`X * N` → `[X for i in 0..N]`) and back (when the body does not use the loop variable). */
export function stackComprehension(text: string, analysis: AnalysisResult, range: TextRange): Refactoring[] {
  const binding = moduleBindingAt(analysis, range.start);
  if (!binding) return [];
  const value = binding.value;
  const src = (e: Expression): string => text.slice(e.range.start, e.range.end);
  // A count that is not a name or a number keeps its own parentheses.
  const operand = (e: Expression): string => (isPrimary(e) || e.kind === 'Number' ? src(e) : `(${src(e)})`);
  if (value.kind === 'Binary' && value.operator === '*' && isPrimary(value.left)) {
    const variable = freeLoopVariable(value.left);
    return [{ title: 'Write the stack as a comprehension', kind: 'refactor.rewrite', edits: [{ range: value.range, newText: `[${src(value.left)} for ${variable} in 0..${operand(value.right)}]` }] }];
  }
  if (value.kind === 'Comprehension' && isPrimary(value.body) && !usesVariable(value)) {
    const from = value.from;
    const fromZero = !from || (from.kind === 'Number' && /^0+$/.test(from.digits) && from.suffix === '');
    const count = fromZero ? operand(value.to) : `(${operand(value.to)} - ${operand(from)})`;
    return [{ title: 'Write the comprehension as a stack (X * N)', kind: 'refactor.rewrite', edits: [{ range: value.range, newText: `${src(value.body)} * ${count}` }] }];
  }
  return [];
}

/** A loop variable name the body does not mention. */
function freeLoopVariable(body: Expression): string {
  const used = new Set<string>();
  forEachNode(body, (n) => {
    if (n.kind === 'Identifier') used.add(n.text);
  });
  return ['i', 'j', 'k', 'n'].find((v) => !used.has(v)) ?? `i${used.size}`;
}

/** Whether a comprehension's body mentions its loop variable (then each instance may differ). */
function usesVariable(c: ComprehensionExpression): boolean {
  let uses = false;
  forEachNode(c.body, (n) => {
    if (n.kind === 'Identifier' && n.text === c.variable.text) uses = true;
  });
  return uses;
}

/**
 * "Turn N identical layers into a stack": the run of consecutive bindings around the cursor
 * whose values are written identically (`l0 = Linear(d, d)`, `l1 = Linear(d, d)`, …), none
 * referred to by name, becomes one binding `l = Linear(d, d) * N`.
 */
export function repeatedToStack(text: string, analysis: AnalysisResult, range: TextRange): Refactoring[] {
  const file = analysis.file;
  const binding = moduleBindingAt(analysis, range.start);
  if (!binding || binding.tiedTo) return [];
  const owner = [...ancestorsAt(file, range.start)].reverse().find((n): n is ModelDeclaration | VariantDeclaration | BlockDeclaration => n.kind === 'Model' || n.kind === 'Block' || n.kind === 'Variant');
  if (!owner || owner.kind === 'Variant') return [];
  const at = owner.members.indexOf(binding);
  if (at < 0) return [];
  const spelling = (b: Binding): string => text.slice(b.value.range.start, b.value.range.end).replace(/\s+/g, ' ');
  const same = (i: number): boolean => {
    const m = owner.members[i];
    return m !== undefined && m.kind === 'Binding' && !m.tiedTo && spelling(m) === spelling(binding);
  };
  let first = at;
  let last = at;
  while (same(first - 1)) first--;
  while (same(last + 1)) last++;
  const run = owner.members.slice(first, last + 1) as Binding[];
  if (run.length < 2) return [];
  const span = { start: run[0]!.range.start, end: run[run.length - 1]!.range.end };
  if (hasComment(text, span)) return [];
  // No name refers to a member of the run (not even another member of it).
  if (referencedOutside(file, run.map((b) => b.name.range), { start: 0, end: 0 })) return [];
  const stem = run[0]!.name.text.replace(/[_\d]+$/, '');
  const name = stem !== '' && !run.some((b) => b.name.text === stem) ? freeName(file, [stem, `${stem}s`]) : freeName(file, ['layers']);
  const value = binding.value;
  const written = text.slice(value.range.start, value.range.end);
  const left = isPrimary(value) ? written : `(${written})`;
  return [{ title: `Turn ${run.length} identical layers into a stack '${name} = … * ${run.length}'`, kind: 'refactor.rewrite', edits: [{ range: span, newText: `${name} = ${left} * ${run.length}` }] }];
}
