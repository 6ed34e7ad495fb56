// Extract members into a block, and inline a block: the two moves between a model's (or a
// block's) own members and a parameterless block instantiated once. Both keep every count:
// the members evaluate to the same layers in the same order, in a scope that sees the same names.
// Each is offered only where that holds without guessing: no name outside the moved members
// refers to them (paths would change: `attn` becomes `extracted.attn`), nothing they use is
// captured, and the moved text sits on lines of its own.

import type { AnalysisResult } from '../analysis/analyze.js';
import type { Binding, BlockDeclaration, Member, ModelDeclaration, TextRange } from '../syntax/syntax-tree.js';
import { indexOf } from './analysis-index.js';
import { occurrencesOf, referencedOutside, symbolAt } from './occurrences.js';
import { freeName, indentAt, lineEnd, lineStart, ownsItsLines, reindent } from './refactor-text.js';
import type { Refactoring } from './refactorings.js';
import { fileScopes } from './scopes.js';
import { ancestorsAt } from './syntax-walk.js';

/** "Extract N members into a block": the selected whole members of a model or block. */
export function extractBlock(text: string, analysis: AnalysisResult, range: TextRange): Refactoring[] {
  if (range.end <= range.start) return [];
  const owner = [...ancestorsAt(analysis.file, range.start)].reverse().find((n): n is ModelDeclaration | BlockDeclaration => n.kind === 'Model' || n.kind === 'Block');
  if (!owner) return [];
  const inside = (m: Member): boolean => m.range.start >= range.start && m.range.end <= range.end;
  const selected = owner.members.filter(inside);
  // The selection holds whole members only, and at least one.
  if (selected.length === 0 || owner.members.some((m) => !inside(m) && m.range.end > range.start && m.range.start < range.end)) return [];
  if (!selected.every((m): m is Binding => m.kind === 'Binding')) return [];
  const first = selected[0]!;
  const last = selected[selected.length - 1]!;
  if (!ownsItsLines(text, { start: first.range.start, end: last.range.end })) return [];
  // At least one member is a module, and no name outside the selection refers to a moved one.
  const index = indexOf(analysis);
  if (!selected.some((b) => index.valuesOf(b.name.range).some((v) => v.value.kind === 'module'))) return [];
  if (referencedOutside(analysis.file, selected.map((b) => b.name.range), { start: first.range.start, end: last.range.end })) return [];
  const blockName = freeName(analysis.file, ['Extracted']);
  const instanceName = freeName(analysis.file, ['extracted']);
  const indent = indentAt(text, first.range.start);
  const from = lineStart(text, first.range.start);
  const to = lineEnd(text, last.range.end);
  const body = reindent(text.slice(from, to), indent, `${indent}  `);
  const newText = `${indent}block ${blockName} {\n${body}\n${indent}}\n${indent}${instanceName} = ${blockName}`;
  const n = selected.length;
  return [{ title: `Extract ${n === 1 ? `'${first.name.text}'` : `${n} members`} into a block`, kind: 'refactor.extract', edits: [{ range: { start: from, end: to }, newText }] }];
}

/**
 * "Inline block 'B'": on a binding `x = B` (or on B's name) where B is a parameterless block of
 * bindings declared in the same model or block, used by that binding only, and `x` is not
 * referred to: B's members take the binding's place and the declaration goes.
 */
export function inlineBlock(text: string, analysis: AnalysisResult, range: TextRange): Refactoring[] {
  const file = analysis.file;
  const chain = ancestorsAt(file, range.start);
  const binding = [...chain].reverse().find((n): n is Binding => n.kind === 'Binding');
  if (!binding || binding.value.kind !== 'Name' || binding.tiedTo) return [];
  const owner = [...chain].reverse().find((n): n is ModelDeclaration | BlockDeclaration => n.kind === 'Model' || n.kind === 'Block');
  if (!owner || !owner.members.includes(binding)) return [];
  const block = owner.members.find((m): m is BlockDeclaration => m.kind === 'Block' && m.name.text === (binding.value.kind === 'Name' ? binding.value.name.text : ''));
  if (!block || block.parameters.length > 0 || block.members.length === 0 || !block.members.every((m): m is Binding => m.kind === 'Binding')) return [];
  // The block is used here only, and nothing refers to the instance.
  const blockSymbol = symbolAt(file, block.name.range.start);
  const instanceSymbol = symbolAt(file, binding.name.range.start);
  if (!blockSymbol || !instanceSymbol) return [];
  const blockUses = occurrencesOf(file, blockSymbol).filter((o) => !o.declaring);
  if (blockUses.length !== 1 || blockUses[0]!.range.start !== binding.value.range.start) return [];
  if (occurrencesOf(file, instanceSymbol).some((o) => !o.declaring)) return [];
  // The members' names are free in the owner (besides the instance and the block that go).
  const ownerNames = fileScopes(file).scopeOf(owner).names;
  for (const m of block.members) {
    const existing = ownerNames.get(m.name.text);
    if (existing && existing.nameRange.start !== binding.name.range.start && existing.nameRange.start !== block.name.range.start) return [];
  }
  if (!ownsItsLines(text, block.range) || !ownsItsLines(text, binding.range)) return [];
  const first = block.members[0]!;
  const lastMember = block.members[block.members.length - 1]!;
  const members = text.slice(lineStart(text, first.range.start), lineEnd(text, lastMember.range.end));
  const moved = reindent(members, indentAt(text, first.range.start), indentAt(text, binding.range.start));
  const bindingLines = { start: lineStart(text, binding.range.start), end: lineEnd(text, binding.range.end) };
  // The declaration's lines with their line break.
  const blockLines = { start: lineStart(text, block.range.start), end: Math.min(text.length, lineEnd(text, block.range.end) + 1) };
  return [
    {
      title: `Inline block '${block.name.text}' into ${owner.kind === 'Model' ? 'model' : 'block'} '${owner.name.text}'`,
      kind: 'refactor.inline',
      edits: [
        { range: blockLines, newText: '' },
        { range: bindingLines, newText: moved },
      ],
    },
  ];
}
