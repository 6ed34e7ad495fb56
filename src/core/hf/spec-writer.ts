// Renders an imported model as `.npas` text that reads like a hand-written spec: a header
// comment, the config's sizes as named constants, one block per distinct layer structure,
// top-level modules, then sharing statements. Families describe the model as data (ModelDef)
// and build expressions with the small helpers here, so formatting rules live in one place.

import { escapeControl } from '../text/escape-control.js';
import { appendAll } from '../collections/append-all.js';

/** One `name = expr` line, optionally with a trailing comment explaining where it comes from. */
export interface Binding {
  readonly name: string;
  readonly expr: string;
  readonly comment?: string;
}

export interface BlockDef {
  readonly name: string;
  /** Parameters with defaults, written `name = default`. */
  readonly params?: readonly string[];
  /** A comment line written above the block. */
  readonly comment?: string;
  readonly members: readonly Binding[];
}

/** A variant of the imported model (DeepSeek-V3 with its prediction modules), named `<model><suffix>`. */
export interface VariantDef {
  readonly suffix: string;
  readonly comment: string;
  readonly members: readonly Binding[];
}

export interface ModelDef {
  readonly header: readonly string[];
  readonly name: string;
  readonly constants: readonly Binding[];
  readonly blocks: readonly BlockDef[];
  readonly modules: readonly Binding[];
  readonly statements: readonly string[];
  readonly variants?: readonly VariantDef[];
}

/** An argument: expression text (a name, an enum value, `none`), a number or a boolean. */
export type Arg = string | number | boolean;

/** Integer literal with `_` thousands separators from 10 000 up (`50_257`, but `4096`). */
export function formatNumber(n: number): string {
  const digits = String(Math.abs(n));
  const sign = n < 0 ? '-' : '';
  if (Math.abs(n) < 10_000 || !/^\d+$/.test(digits)) return sign + digits;
  const groups: string[] = [];
  for (let end = digits.length; end > 0; end -= 3) groups.unshift(digits.slice(Math.max(0, end - 3), end));
  return sign + groups.join('_');
}

export function formatArg(value: Arg): string {
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return value;
}

/**
 * A layer or block call. Named arguments whose value is undefined are left out, so callers can
 * pass `bias: hasBias || undefined` and keep the default off the page.
 */
export function call(kind: string, positional: readonly Arg[] = [], named: Readonly<Record<string, Arg | undefined>> = {}): string {
  const parts = positional.map(formatArg);
  for (const [name, value] of Object.entries(named)) {
    if (value !== undefined) parts.push(`${name}: ${formatArg(value)}`);
  }
  return `${kind}(${parts.join(', ')})`;
}

export function binding(name: string, expr: Arg, comment?: string): Binding {
  return comment === undefined ? { name, expr: formatArg(expr) } : { name, expr: formatArg(expr), comment };
}

/** Lines of one group of bindings with `=` aligned and trailing comments aligned. */
function renderGroup(bindings: readonly Binding[], indent: string): string[] {
  const nameWidth = Math.max(0, ...bindings.map((b) => b.name.length));
  const lefts = bindings.map((b) => `${indent}${escapeControl(b.name).padEnd(nameWidth)} = ${escapeControl(b.expr)}`);
  // Comments line up unless one expression is so long that aligning would push them far right.
  const commentColumn = Math.max(0, ...lefts.filter((l, i) => bindings[i]?.comment !== undefined && l.length <= 60).map((l) => l.length));
  return lefts.map((left, i) => {
    const comment = bindings[i]?.comment;
    return comment === undefined ? left : `${left.padEnd(commentColumn)}  # ${escapeControl(comment)}`;
  });
}

export function renderModel(model: ModelDef): string {
  const lines: string[] = [];
  // Config text reaches comments (names, paths, rope types): each one stays one line whatever
  // it holds, so no config value can add a line of code to the spec.
  for (const h of model.header) lines.push(h === '' ? '#' : `# ${escapeControl(h)}`);
  lines.push(`model ${model.name} {`);
  appendAll(lines, renderGroup(model.constants, '  '));
  for (const block of model.blocks) {
    lines.push('');
    if (block.comment !== undefined) lines.push(`  # ${escapeControl(block.comment)}`);
    const params = block.params === undefined || block.params.length === 0 ? '' : `(${block.params.join(', ')})`;
    lines.push(`  block ${block.name}${params} {`);
    appendAll(lines, renderGroup(block.members, '    '));
    lines.push('  }');
  }
  lines.push('');
  appendAll(lines, renderGroup(model.modules, '  '));
  if (model.statements.length > 0) {
    lines.push('');
    for (const s of model.statements) lines.push(`  ${escapeControl(s)}`);
  }
  lines.push('}');
  for (const variant of model.variants ?? []) {
    lines.push('', `# ${escapeControl(variant.comment)}`, `variant ${model.name}${variant.suffix} of ${model.name} {`);
    appendAll(lines, renderGroup(variant.members, '  '));
    lines.push('}');
  }
  return `${lines.join('\n')}\n`;
}
