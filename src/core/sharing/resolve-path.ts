// Resolves a path such as `body.attn`, `body[3].mlp` or `encoder.layers` against a model's
// evaluated members. A name after a stack fans out over every instance; an index picks one.
// Produces the walk pattern and the canonical key of every stack on the way, which is how
// stack strategies find their stack during the walk.

import type { ModelMember, ModuleNode, StackNode } from '../model/module-tree.js';
import type { Path } from '../syntax/syntax-tree.js';
import { evaluate, toSmallInteger, type EvalContext } from '../semantics/evaluator.js';
import type { Scope } from '../semantics/scope.js';
import type { PatternStep } from './declarations.js';

export interface ResolvedPath {
  readonly pattern: readonly PatternStep[];
  /** The node the path ends at (for fan-out paths: the node of the first instance). */
  readonly node: ModuleNode;
  /** A weight name when the path ends at a single weight of a layer. */
  readonly weight: string | undefined;
  /** Canonical key of the node (`body`, `body[3].attn`, `encoder.layers`). */
  readonly key: string;
  /** `key` without a final weight name: the key of the module that holds the weight (`body.mlp` for `body.mlp.up`). */
  readonly moduleKey: string;
  /** The last stack the path fans out over, with its key and pattern, and the member path after it. */
  readonly fanOut: { readonly stack: StackNode; readonly key: string; readonly stackPattern: readonly PatternStep[]; readonly sub: readonly PatternStep[] } | undefined;
  /** Every node the path reaches (fan-out gives one per distinct instance structure). */
  readonly nodes: readonly ModuleNode[];
}

/** Canonical `key` is `prefix` or a module or weight under it (`body[2].attn` is within `body[2]` and `body`, not within `bod`). */
export function keyWithin(key: string, prefix: string): boolean {
  return key === prefix || key.startsWith(`${prefix}.`) || key.startsWith(`${prefix}[`);
}

export function instanceAt(stack: StackNode, index: number | bigint): ModuleNode | undefined {
  const at = BigInt(index);
  let start = 0n;
  for (const run of stack.runs) {
    if (at < start + run.count) return run.node;
    start += run.count;
  }
  return undefined;
}

/** Each member list's first member of each name, built once per list (a model resolves one path per declaration). */
const membersByName = new WeakMap<readonly ModelMember[], ReadonlyMap<string, ModelMember>>();

/** The first member named `name`: a lookup, not a scan, so 100,000 ties to distinct members stay linear. */
function memberNamed(members: readonly ModelMember[], name: string): ModelMember | undefined {
  let byName = membersByName.get(members);
  if (!byName) {
    const map = new Map<string, ModelMember>();
    for (const m of members) if (!map.has(m.name)) map.set(m.name, m);
    membersByName.set(members, (byName = map));
  }
  return byName.get(name);
}

/** Resolves a path; on failure reports `npas-share-target` at the offending segment and returns undefined. */
export function resolvePath(path: Path, members: readonly ModelMember[], scope: Scope, ctx: EvalContext): ResolvedPath | undefined {
  const [head, ...rest] = path.segments;
  if (!head || head.kind !== 'PathName') {
    ctx.sink.error('npas-share-target', 'a path starts with a member name', path.range);
    return undefined;
  }
  const member = memberNamed(members, head.name.text);
  if (!member) {
    const names = members.map((m) => m.name).join(', ');
    ctx.sink.error('npas-share-target', `'${head.name.text}' is not a module of this model (modules: ${names || 'none'})`, head.range);
    return undefined;
  }
  const pattern: PatternStep[] = [{ kind: 'name', name: head.name.text }];
  let nodes: ModuleNode[] = [member.node];
  let key = head.name.text;
  let moduleKey = key;
  let weight: string | undefined;
  let fanOut: { stack: StackNode; key: string; stackPattern: readonly PatternStep[]; sub: PatternStep[] } | undefined;

  for (let s = 0; s < rest.length; s++) {
    const seg = rest[s]!;
    if (weight !== undefined) {
      ctx.sink.error('npas-share-target', `'${weight}' is a weight; nothing lies below it`, seg.range);
      return undefined;
    }
    if (seg.kind === 'PathIndex') {
      const stacks = nodes.filter((n): n is StackNode => n.kind === 'stack');
      if (stacks.length !== nodes.length) {
        ctx.sink.error('npas-share-target', 'only a stack can be indexed', seg.range);
        return undefined;
      }
      const index = toSmallInteger(evaluate(seg.index, scope, ctx), seg.index.range, ctx, 'an instance index');
      if (index === undefined) return undefined;
      const next: ModuleNode[] = [];
      for (const st of stacks) {
        const inst = index >= 0 ? instanceAt(st, index) : undefined;
        if (!inst) {
          ctx.sink.error('npas-share-target', `index ${index} is outside the stack's ${st.length} instances`, seg.range);
          return undefined;
        }
        next.push(inst);
      }
      nodes = dedupe(next);
      pattern.push({ kind: 'index', index });
      key += `[${index}]`;
      moduleKey = key;
      if (fanOut) fanOut.sub.push({ kind: 'index', index });
      continue;
    }
    const name = seg.name.text;
    // A name after a stack fans out over its instances.
    const expanded: ModuleNode[] = [];
    for (const n of nodes) {
      if (n.kind === 'stack') {
        fanOut = { stack: n, key, stackPattern: [...pattern], sub: [] };
        for (const r of n.runs) expanded.push(r.node);
      } else expanded.push(n);
    }
    nodes = dedupe(expanded);
    const next: ModuleNode[] = [];
    for (const n of nodes) {
      if (n.kind === 'block') {
        const m = n.members.find((mm) => mm.name === name);
        if (!m) {
          ctx.sink.error('npas-share-target', `block ${n.blockName} has no member '${name}' (members: ${n.members.map((mm) => mm.name).join(', ')})`, seg.range);
          return undefined;
        }
        next.push(m.node);
      } else if (n.kind === 'layer') {
        if (!n.cost.weights.some((w) => w.name === name)) {
          ctx.sink.error('npas-share-target', `${n.layerKind} has no weight '${name}' (weights: ${n.cost.weights.map((w) => w.name).join(', ')})`, seg.range);
          return undefined;
        }
        weight = name;
        next.push(n);
      } else {
        ctx.sink.error('npas-share-target', `'${name}' cannot follow a nested stack; index it first`, seg.range);
        return undefined;
      }
    }
    nodes = dedupe(next);
    pattern.push({ kind: 'name', name });
    if (weight === undefined) moduleKey = `${key}.${name}`;
    key += `.${name}`;
    if (fanOut) fanOut.sub.push({ kind: 'name', name });
  }
  const node = nodes[0]!;
  return { pattern, node, weight, key, moduleKey, fanOut, nodes };
}

function dedupe(nodes: ModuleNode[]): ModuleNode[] {
  const seen = new Set<number>();
  return nodes.filter((n) => (seen.has(n.id) ? false : (seen.add(n.id), true)));
}
