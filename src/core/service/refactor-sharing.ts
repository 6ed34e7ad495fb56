// Sharing as a refactoring: apply a scheme to a stack (`share body: cycle(9)`), or copy a
// variant's sharing statements into a new variant of another model. Each title previews the
// stored parameter count before and after, computed by analysing the rewritten text (a rewrite
// that would add an error, or would save nothing, is not offered).

import type { AnalysisResult } from '../analysis/analyze.js';
import type { Binding, ModelDeclaration, Statement, TextRange, VariantDeclaration } from '../syntax/syntax-tree.js';
import { isIndexable } from '../sharing/indexable-stack.js';
import { indexOf } from './analysis-index.js';
import { applyEdits } from './format.js';
import { referenceAt } from './references.js';
import { errorCount, freeName, indentAt, lineEnd, reindent, storedAfterRewrite } from './refactor-text.js';
import type { Refactoring } from './refactorings.js';
import { ancestorsAt } from './syntax-walk.js';
import { groupDigits } from './text-format.js';

/** At most this many schemes or target models are offered (each costs an analysis to preview). */
const MAX_OFFERS = 4;

/** "Share 'body' as cycle(9): 2,506,172,416 → 1,515,231,232 params stored", for a stack of a model or variant. */
export function applySharingScheme(text: string, analysis: AnalysisResult, range: TextRange): Refactoring[] {
  const chain = ancestorsAt(analysis.file, range.start);
  const binding = [...chain].reverse().find((n): n is Binding => n.kind === 'Binding');
  const owner = [...chain].reverse().find((n): n is ModelDeclaration | VariantDeclaration => n.kind === 'Model' || n.kind === 'Variant');
  if (!binding || !owner || !owner.members.includes(binding)) return [];
  const stack = indexOf(analysis)
    .valuesOf(binding.name.range)
    .map((v) => (v.value.kind === 'module' && v.value.node.kind === 'stack' ? v.value.node : undefined))
    .find((n) => n !== undefined);
  // `share` addresses instances by index: a stack past 2⁵³ instances cannot take it.
  if (!stack || stack.length < 2n || !isIndexable(stack)) return [];
  const name = binding.name.text;
  // A stack some statement of its declaration shares already is left alone.
  const shared = owner.members.some((m): m is Statement => m.kind === 'Statement' && m.targets.some((t) => t.segments[0]?.kind === 'PathName' && t.segments[0].name.text === name));
  if (shared) return [];
  const model = owner.name.text;
  const before = analysis.models.find((m) => m.name === model)?.params.stored;
  if (before === undefined) return [];
  const divisors = largestProperDivisors(Number(stack.length), MAX_OFFERS - 1);
  const schemes = ['all', ...divisors.map((k) => `cycle(${k})`)];
  const at = lineEnd(text, binding.range.end);
  const out: Refactoring[] = [];
  for (const scheme of schemes) {
    const edit = { range: { start: at, end: at }, newText: `\n${indentAt(text, binding.range.start)}share ${name}: ${scheme}` };
    const after = storedAfterRewrite(applyEdits(text, [edit]), model, errorCount(analysis.diagnostics));
    if (after === undefined || after === before) continue;
    out.push({ title: `Share '${name}' as ${scheme}: ${groupDigits(before)} → ${groupDigits(after)} params stored`, kind: 'refactor.rewrite', edits: [edit] });
  }
  return out;
}

/**
 * On a variant's name: "New variant of 'B' with the sharing of 'V'" for each other model or
 * variant B (not V's own base, which V already is), appending `variant VOnB of B { … }` with V's
 * statements (its overrides are not sharing and stay behind).
 */
export function importVariantSharing(text: string, analysis: AnalysisResult, range: TextRange): Refactoring[] {
  const file = analysis.file;
  const ref = referenceAt(file, range.start);
  if (!ref || ref.kind !== 'model' || !ref.declaring || ref.decl?.kind !== 'Variant') return [];
  const variant = ref.decl;
  const statements = variant.members.filter((m): m is Statement => m.kind === 'Statement');
  if (statements.length === 0) return [];
  const body = statements.map((s) => reindent(text.slice(s.range.start, s.range.end), indentAt(text, s.range.start), '  ')).map((s) => (s.startsWith('  ') ? s : `  ${s}`));
  const targets = file.items.filter((i): i is ModelDeclaration | VariantDeclaration => (i.kind === 'Model' || i.kind === 'Variant') && i !== variant && i.name.text !== '' && i.name.text !== variant.base.text);
  const out: Refactoring[] = [];
  for (const target of targets.slice(0, MAX_OFFERS)) {
    const before = analysis.models.find((m) => m.name === target.name.text)?.params.stored;
    if (before === undefined) continue;
    const name = freeName(file, [`${variant.name.text}On${target.name.text}`]);
    const edit = { range: { start: text.length, end: text.length }, newText: `${text.endsWith('\n') ? '\n' : '\n\n'}variant ${name} of ${target.name.text} {\n${body.join('\n')}\n}\n` };
    const after = storedAfterRewrite(applyEdits(text, [edit]), name, errorCount(analysis.diagnostics));
    if (after === undefined) continue;
    out.push({ title: `New variant of '${target.name.text}' with the sharing of '${variant.name.text}': ${groupDigits(before)} → ${groupDigits(after)} params stored`, kind: 'refactor', edits: [edit] });
  }
  return out;
}

/**
 * The `count` largest divisors of n in [2, n/2], largest first. The largest are n/d for the
 * smallest divisors d, so the scan stops at √n (a stack of 10⁹ + 7 instances looks at 31,623
 * candidates, not 5·10⁸).
 */
function largestProperDivisors(n: number, count: number): number[] {
  const large: number[] = [];
  const small: number[] = [];
  for (let d = 2; d * d <= n && large.length < count; d++) {
    if (n % d !== 0) continue;
    large.push(n / d);
    if (d * d !== n) small.unshift(d);
  }
  return [...large, ...small].slice(0, count);
}
