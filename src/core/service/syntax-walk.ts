// Generic traversal of the syntax tree for the editor services: the children of any node, and
// the chain of nodes that contain an offset (root first). Editor features start from "what is
// under the cursor", and the parser's ranges make that a simple descent.

import type {
  Expression,
  Identifier,
  Path,
  PathSegment,
  SourceFile,
  SyntaxNode,
  TextRange,
} from '../syntax/syntax-tree.js';
import { appendAll } from '../collections/append-all.js';

/** A node of the tree, path segments included (they are not in `SyntaxNode`). */
export type TreeNode = SyntaxNode | PathSegment;

/** The direct children of a node, in source order. */
export function childrenOf(node: TreeNode): TreeNode[] {
  switch (node.kind) {
    case 'SourceFile':
      return [...node.items];
    case 'Import':
      return [node.path, ...(node.names ?? [])];
    case 'Binding':
      return node.tiedTo ? [node.name, node.value, node.tiedTo] : [node.name, node.value];
    case 'Block':
    case 'Model':
      return [node.name, ...node.parameters, ...node.members];
    case 'Variant':
      return [node.name, node.base, ...node.members];
    case 'Budget':
      return [node.target, ...node.constraints];
    case 'Plan':
      return [node.target, ...[...node.settings, ...node.constraints].sort((a, b) => a.range.start - b.range.start)];
    case 'Parameter':
      return node.defaultValue ? [node.name, node.defaultValue] : [node.name];
    case 'Statement': {
      const out: TreeNode[] = [];
      if (node.modifier) out.push(node.modifier);
      if (node.label) out.push(node.label);
      appendAll(out, node.targets);
      if (node.source) out.push(node.source);
      if (node.value) out.push(node.value);
      if (node.relax) out.push(node.relax);
      appendAll(out, node.args);
      return out;
    }
    case 'Constraint':
      return [...node.metric, ...node.args, node.limit];
    case 'Argument':
      return node.name ? [node.name, node.value] : [node.value];
    case 'Path':
      return [...node.segments];
    case 'PathName':
      return [node.name];
    case 'PathIndex':
      return [node.index];
    default:
      return expressionChildren(node);
  }
}

function expressionChildren(node: Expression | { kind: 'Identifier' }): TreeNode[] {
  switch (node.kind) {
    case 'Name':
      return [node.name];
    case 'Binary':
      return [node.left, node.right];
    case 'Unary':
      return [node.operand];
    case 'Conditional':
      return [node.condition, node.whenTrue, node.whenFalse];
    case 'Call':
      return [node.callee, ...node.args];
    case 'Member':
      return [node.object, node.member];
    case 'Index':
      return [node.object, node.index];
    case 'List':
      return [...node.elements];
    case 'Comprehension':
      return node.from ? [node.body, node.variable, node.from, node.to] : [node.body, node.variable, node.to];
    default:
      return [];
  }
}

/** Whether `offset` lies in `range`, its end included (a cursor right after a name is on it). */
export function touches(range: TextRange, offset: number): boolean {
  return range.start <= offset && offset <= range.end;
}

/**
 * The nodes containing `offset`, outermost first (the file itself is first). Where two siblings
 * touch the offset (`a|+b`), a name or literal wins over punctuation-level nodes, so the cursor
 * at the end of `a` is on `a`.
 */
export function ancestorsAt(file: SourceFile, offset: number): TreeNode[] {
  const chain: TreeNode[] = [file];
  let node: TreeNode = file;
  for (;;) {
    const kids: TreeNode[] = childrenOf(node).filter((c) => touches(c.range, offset));
    if (kids.length === 0) return chain;
    // Prefer the child that strictly contains the offset; else the first one ending there.
    const strict: TreeNode | undefined = kids.find((c) => c.range.start <= offset && offset < c.range.end);
    const next: TreeNode = strict ?? kids[0]!;
    chain.push(next);
    node = next;
  }
}

/** Visits every node of a tree, depth first, in source order. */
export function forEachNode(root: TreeNode, visit: (node: TreeNode, parent: TreeNode | undefined) => void): void {
  const stack: { node: TreeNode; parent: TreeNode | undefined }[] = [{ node: root, parent: undefined }];
  while (stack.length > 0) {
    const { node, parent } = stack.pop()!;
    visit(node, parent);
    const kids = childrenOf(node);
    for (let i = kids.length - 1; i >= 0; i--) stack.push({ node: kids[i]!, parent: node });
  }
}

/**
 * Visits every identifier of a tree in source order with the chain of nodes that contain it,
 * outermost first and the identifier last: the chain `ancestorsAt(file, id.range.start)` answers,
 * built in one walk. The chain is reused between calls; copy it to keep it.
 */
export function forEachIdentifier(root: SourceFile, visit: (id: Identifier, chain: readonly TreeNode[]) => void): void {
  const chain: TreeNode[] = [];
  const stack: { node: TreeNode; depth: number }[] = [{ node: root, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    chain.length = depth;
    chain.push(node);
    if (node.kind === 'Identifier') {
      if (node.range.end > node.range.start) visit(node, chain);
      continue;
    }
    const kids = childrenOf(node);
    for (let i = kids.length - 1; i >= 0; i--) stack.push({ node: kids[i]!, depth: depth + 1 });
  }
}

/** The path a segment belongs to, and the segments before it (for `body.attn.q`). */
export function pathPrefix(path: Path, segment: PathSegment): readonly PathSegment[] {
  const i = path.segments.indexOf(segment);
  return i < 0 ? [] : path.segments.slice(0, i);
}

/** Whether two ranges are the same span. */
export function sameRange(a: TextRange, b: TextRange): boolean {
  return a.start === b.start && a.end === b.end;
}

/** A stable map key for a range. */
export function rangeKey(r: TextRange): string {
  return `${r.start}:${r.end}`;
}
