// The editor's half of `npas.allocate` that needs no VS Code: reading the budget a user typed
// (`3.65M`, `10%`, `3_651_883`), the arguments a caller passed, and the plan as Markdown (the
// summary, the groups, and the layers × groups matrix), and the plan as the dashboard's
// Allocation pane takes it (planDashboardData, docs/dashboard.md). Free of `vscode`, so Node
// tests can check it.

import type { AllocationPlan, GroupingSpec } from '../core/index.js';
import type { AllocationData } from '../protocol/webview-messages.js';
import { groupDigits as group } from '../core/text/number-format.js';
import { parseParameterCount } from '../core/numbers/count-text.js';

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };


/**
 * A budget as the CLI's `--params` reads it (core's parseParameterCount): a whole count with
 * optional `_` separators and a magnitude suffix (K M B G T, Ki Mi Gi), or a percentage of the
 * model's stored parameters (rounded down). `minimum` is the smallest count any grouping could
 * accept (fixed params + 1); a smaller one is refused with that minimum stated.
 */
export function parseBudgetText(text: string, modelStored: number, minimum: number): Parsed<number> {
  const read = parseParameterCount(text, BigInt(modelStored));
  if (!read.ok) {
    switch (read.problem) {
      case 'empty':
        return { ok: false, message: `Type a parameter budget: a count such as ${group(minimum)} or 3.65M, or a percentage of the model's ${group(modelStored)} such as 10%.` };
      case 'fraction':
        return { ok: false, message: `${text} is not a whole number of parameters.` };
      case 'format':
        return { ok: false, message: `'${text}' is not a parameter count: use a whole number (3651883 or 3_651_883), a suffix (3.65M, 7B, 4Mi) or a percentage (10%).` };
    }
  }
  const n = read.count;
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, message: `${text} is too large (at most ${group(Number.MAX_SAFE_INTEGER)}).` };
  if (n < BigInt(minimum)) {
    return {
      ok: false,
      message: `${text} is ${group(n)} parameters, below the minimum of ${group(minimum)}: the model's fixed parameters (norms, biases, routers: ${group(minimum - 1)}) are stored as they are, plus at least one store entry.`,
    };
  }
  return { ok: true, value: Number(n) };
}

/** A budget passed as an argument: a number, a bigint or the same text the input box takes. */
export function budgetArgument(value: unknown, modelStored: number, minimum: number): Parsed<number> | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number' || typeof value === 'bigint') return parseBudgetText(String(value), modelStored, minimum);
  if (typeof value === 'string') return parseBudgetText(value, modelStored, minimum);
  return { ok: false, message: `the budget argument is ${typeof value}, not a count or text such as 3.65M or 10%` };
}

export const GROUPING_CHOICES: readonly { readonly value: string; readonly label: string; readonly detail: string }[] = [
  { value: 'auto', label: 'auto', detail: 'shape in the high regime; in the low regime shape unless its single-weight groups take more than half the budget, else all (the reason is stated)' },
  { value: 'all', label: 'all', detail: 'one store for every generated weight (SSN param_groups = 1)' },
  { value: 'shape', label: 'shape', detail: 'one group per weight shape' },
  { value: 'role', label: 'role', detail: 'one group per layer kind and weight name (all Attention.q together, …)' },
  { value: 'depth:4', label: 'depth:4', detail: '4 contiguous runs of depth units with balanced demand (dynamic programming)' },
  { value: 'cluster:4', label: 'cluster:4', detail: 'k-means over shape and depth descriptors into 4 groups' },
];

export const METHOD_CHOICES: readonly { readonly value: string; readonly label: string; readonly detail: string }[] = [
  { value: 'wavg', label: 'wavg', detail: 'template mix W = Σ α_k T_k, up to 8 templates per weight (SSN)' },
  { value: 'repeat', label: 'repeat', detail: 'slices of the store, tiled when a weight is larger than it' },
  { value: 'hash', label: 'hash', detail: 'ROAST-style hashed reads of the store' },
];

export function groupingText(g: GroupingSpec): string {
  switch (g.kind) {
    case 'depth':
    case 'cluster':
      return `${g.kind}:${g.k}`;
    case 'checkpoint':
      return `checkpoint:${g.path}`;
    default:
      return g.kind;
  }
}

/** Layers drawn in the matrix before it says how many more there are. */
export const MATRIX_ROWS = 200;
/** Groups drawn as matrix columns; more are summarised in a last column. */
export const MATRIX_COLUMNS = 16;

/** The plan as Markdown: summary, groups, and the layers × groups matrix (generator per cell). */
export function planMarkdown(plan: AllocationPlan, source: string, variantText?: string): string {
  const pct = plan.demand + plan.fixed > 0 ? ` (${((100 * plan.target) / (plan.demand + plan.fixed)).toFixed(1)}% of ${group(plan.demand + plan.fixed)})` : '';
  const lines = [
    `# NPAS plan for ${plan.model} at ${group(plan.stored)} stored parameters`,
    '',
    `From ${source}. The dashboard's Allocation pane draws the same plan; **Apply** (in the notification, or the \`npas.allocate\` code action) appends the variant at the end of this page to the spec as one undoable edit.`,
    '',
    '| | |',
    '|---|---|',
    `| target | ${group(plan.target)}${pct}, ${plan.regime} budget |`,
    `| stored | ${group(plan.stored)} = stores ${group(plan.stored - plan.coefficients - plan.fixed)} + coefficients ${group(plan.coefficients)} + fixed ${group(plan.fixed)} (norms, biases, routers) |`,
    `| grouping | ${groupingText(plan.grouping)} — ${plan.groupingReason} |`,
    `| method | ${plan.method} |`,
    `| unused | ${group(plan.unused)} store entries (the SSN reference layout would leave ${group(plan.referenceUnused)} unread) |`,
    `| cost | ${group(plan.generationMacs)} generation MACs per training step; inference FLOPs and KV cache unchanged |`,
    `| minimum | ${group(plan.minimum)} for this grouping and method |`,
    '',
    '## Groups',
    '',
    '| group | store | demand | weights | generators |',
    '|---|--:|--:|--:|---|',
  ];
  const kindsOf = (indices: readonly number[]): string => {
    const counts = new Map<string, number>();
    for (const i of indices) {
      const g = plan.layers[i]!.generator;
      const k = g.templates > 1 ? `${g.kind}(K=${g.templates})` : g.kind;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    return [...counts].map(([k, n]) => `${n}× ${k}`).join(', ');
  };
  for (const g of plan.groups) lines.push(`| ${g.id}${g.direct ? ' (whole)' : ''} | ${group(g.params)} | ${group(g.demand)} | ${g.layers.length} | ${kindsOf(g.layers)} |`);

  const shown = plan.groups.slice(0, MATRIX_COLUMNS);
  const more = plan.groups.length - shown.length;
  const column = new Map(shown.map((g, i) => [g.id, i]));
  lines.push('', '## Layers × groups', '', 'Each row is a generated weight, each column a group; the cell names the generator, its templates and its coefficients.', '');
  lines.push(`| layer | shape | ${shown.map((g) => g.id).join(' | ')}${more > 0 ? ` | ${more} more` : ''} |`);
  lines.push(`|---|---|${shown.map(() => ':-:').join('|')}${more > 0 ? '|:-:' : ''}|`);
  const rows = Math.min(plan.layers.length, MATRIX_ROWS);
  for (let i = 0; i < rows; i++) {
    const l = plan.layers[i]!;
    const item = plan.items[i];
    const g = l.generator;
    const cell = `${g.kind}${g.templates > 1 ? ` K=${g.templates}` : ''}${g.coefficients > 0 ? ` α${g.coefficients}` : ''}`;
    const cells = shown.map((s) => (s.id === l.group ? cell : ''));
    if (more > 0) cells.push(column.has(l.group) ? '' : `${l.group}: ${cell}`);
    lines.push(`| \`${l.path}\` | ${item ? item.shape.join('×') : ''} | ${cells.join(' | ')} |`);
  }
  if (plan.layers.length > rows) lines.push('', `… and ${group(plan.layers.length - rows)} more weights (\`npas allocate --json\` lists them all).`);
  if (variantText !== undefined) lines.push('', '## The variant Apply appends', '', '```npas', variantText.trimEnd(), '```');
  return `${lines.join('\n')}\n`;
}

/** The plan as the dashboard's Allocation pane takes it (exact counts as decimal strings). */
export function planDashboardData(plan: AllocationPlan, source: string, variantName: string | null = null): AllocationData {
  const stores = plan.groups.reduce((s, g) => s + BigInt(g.params), 0n);
  return {
    model: plan.model,
    source,
    target: String(plan.target),
    stored: String(plan.stored),
    stores: String(stores),
    coefficients: String(plan.coefficients),
    fixed: String(plan.fixed),
    demand: String(plan.demand),
    unused: String(plan.unused),
    referenceUnused: String(plan.referenceUnused),
    minimum: String(plan.minimum),
    generationMacs: String(plan.generationMacs),
    grouping: groupingText(plan.grouping),
    groupingReason: plan.groupingReason,
    method: plan.method,
    regime: plan.regime,
    groups: plan.groups.map((g) => ({ id: g.id, params: String(g.params), demand: String(g.demand), unused: String(g.unused), referenceUnused: String(g.referenceUnused), direct: g.direct, weights: g.layers.length })),
    layers: plan.layers.map((l, i) => ({
      path: l.path,
      shape: [...(plan.items[i]?.shape ?? [])],
      group: l.group,
      generator: { kind: l.generator.kind, templates: l.generator.templates, coefficients: l.generator.coefficients },
    })),
    variantName,
  };
}
