// The weights a parameterisation assigns rules to: one row per weight path of the report tree
// (`body.attn.q` stands for every instance of the stack), each placed in a Tensor Programs
// weight class by its role and by where it sits — inside a stack (a residual block) or at top
// level before or after the stacks. Read from the settings-independent tree, so it costs one
// pass over the hash-consed report, not one per instance.

import type { WeightRole } from '../layers/layer-kind.js';
import type { NodeReport } from '../analysis/report-types.js';
import type { WeightClass } from './schemes.js';

export interface WeightRow {
  /** `embed.weight`, `body.attn.q`: the stack's name stands for all its instances. */
  readonly path: string;
  readonly role: WeightRole;
  readonly shape: readonly number[];
  /** How many instances of the weight the model applies (stack length × runs; exact at any size). */
  readonly instances: bigint;
  readonly weightClass: WeightClass;
  /** Whether the weight sits in a residual block of a stack (its branch gets the residual scale). */
  readonly inBranch: boolean;
}

/** Rows in tree order, one per distinct path. */
export function weightRows(tree: NodeReport): WeightRow[] {
  const members = tree.children;
  const stackIndices = members.flatMap((m, i) => (m.kind === 'stack' ? [i] : []));
  const firstStack = stackIndices[0];
  const lastStack = stackIndices[stackIndices.length - 1];
  const topMatmuls = members.flatMap((m, i) => (m.kind !== 'stack' && hasMatrix(m) ? [i] : []));
  const rows = new Map<string, { row: WeightRow; instances: bigint }>();
  members.forEach((member, i) => {
    const inStack = member.kind === 'stack';
    // Top level: before the stacks is the input side, after them the readout side. A model
    // without stacks reads its first matrix as the input and its last as the readout.
    const side: 'input' | 'hidden' | 'output' = inStack
      ? 'hidden'
      : firstStack === undefined
        ? i === topMatmuls[0] ? 'input' : i === topMatmuls[topMatmuls.length - 1] ? 'output' : 'hidden'
        : i < firstStack ? 'input' : i > lastStack! ? 'output' : 'hidden';
    visit(member, [member.name], 1n, (path, weight, instances) => {
      const key = path.join('.');
      const existing = rows.get(key);
      if (existing) {
        existing.instances += instances;
        return;
      }
      const weightClass = classify(weight.role, side, inStack);
      rows.set(key, { row: { path: key, role: weight.role, shape: weight.shape, instances: 0n, weightClass, inBranch: inStack }, instances });
    });
  });
  return [...rows.values()].map(({ row, instances }) => ({ ...row, instances }));
}

type Visitor = (path: readonly string[], weight: NonNullable<NodeReport['weight']>, instances: bigint) => void;

function visit(node: NodeReport, path: readonly string[], instances: bigint, f: Visitor): void {
  if (node.kind === 'weight') {
    if (node.weight) f(path, node.weight, instances);
    return;
  }
  for (const child of node.children) {
    // A stack's children are runs of instances (`B[0..2]`): the stack's name stands for them.
    const runOfStack = node.kind === 'stack';
    visit(child, runOfStack ? path : [...path, child.name], instances * (runOfStack ? child.count : 1n), f);
  }
}

function hasMatrix(node: NodeReport): boolean {
  if (node.kind === 'weight') return node.weight !== undefined && isMatrix(node.weight.role);
  return node.children.some(hasMatrix);
}

function isMatrix(role: WeightRole): boolean {
  return role === 'matmul' || role === 'conv' || role === 'router' || role === 'embedding' || role === 'position';
}

function classify(role: WeightRole, side: 'input' | 'hidden' | 'output', inStack: boolean): WeightClass {
  switch (role) {
    case 'norm':
    case 'bias':
      return inStack ? 'hidden_vector' : 'vector';
    case 'embedding':
    case 'position':
      // A lookup table's fan_in (a one-hot index) never grows with width.
      return 'input';
    case 'router':
      // Its fan_out is the expert count, which does not grow with width: output-like.
      return 'output';
    case 'matmul':
    case 'conv':
      return side;
  }
}
