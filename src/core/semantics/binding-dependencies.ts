// Long forward-reference chains (`c0 = c1 + 1`, `c1 = c2 + 1`, … thousands deep) would recurse
// once per link when names are evaluated lazily on first use. Past a modest depth the evaluator
// resolves the rest of the chain here instead, iteratively: the pending bindings a binding's
// expression names are evaluated first, deepest first, so each evaluation finds its names done
// and the stack depth stays that of one expression.

import type { Binding, Expression } from '../syntax/syntax-tree.js';
import type { Scope, ScopeEntry } from './scope.js';
import { appendAll } from '../collections/append-all.js';

type BindingEntry = Extract<ScopeEntry, { kind: 'binding' }>;

const namesMemo = new WeakMap<Binding, readonly string[]>();

/** The distinct names an expression reads (comprehension variables included; harmless extras). */
export function namesRead(binding: Binding): readonly string[] {
  let names = namesMemo.get(binding);
  if (names) return names;
  const seen = new Set<string>();
  const work: Expression[] = [binding.value];
  for (let e = work.pop(); e; e = work.pop()) {
    switch (e.kind) {
      case 'Name':
        seen.add(e.name.text);
        break;
      case 'Unary':
        work.push(e.operand);
        break;
      case 'Binary':
        work.push(e.left, e.right);
        break;
      case 'Conditional':
        work.push(e.condition, e.whenTrue, e.whenFalse);
        break;
      case 'Call':
        work.push(e.callee);
        for (const a of e.args) work.push(a.value);
        break;
      case 'Member':
        work.push(e.object);
        break;
      case 'Index':
        work.push(e.object, e.index);
        break;
      case 'List':
        appendAll(work, e.elements);
        break;
      case 'Comprehension':
        work.push(e.body, e.to);
        if (e.from) work.push(e.from);
        break;
      default:
        break;
    }
  }
  names = [...seen];
  namesMemo.set(binding, names);
  return names;
}

/**
 * Evaluates, deepest first and without recursion, every pending binding that `entry` reaches
 * through names. `evaluateEntry` evaluates one binding (its own names are then already done).
 * Bindings being evaluated further up are left alone: the evaluator reports the cycle.
 */
export function evaluateDependenciesFirst(entry: BindingEntry, owner: Scope, evaluateEntry: (entry: BindingEntry, owner: Scope) => void): void {
  interface Frame {
    readonly entry: BindingEntry;
    readonly owner: Scope;
    readonly names: readonly string[];
    next: number;
  }
  const onStack = new Set<BindingEntry>([entry]);
  const stack: Frame[] = [{ entry, owner, names: namesRead(entry.binding), next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next < top.names.length) {
      const found = top.owner.lookup(top.names[top.next++]!);
      const dep = found?.entry;
      if (dep && dep.kind === 'binding' && dep.state === 'pending' && !onStack.has(dep)) {
        onStack.add(dep);
        stack.push({ entry: dep, owner: found.scope, names: namesRead(dep.binding), next: 0 });
      }
      continue;
    }
    stack.pop();
    // The entry that started the walk is evaluated by the caller as usual.
    if (stack.length > 0 && top.entry.state === 'pending') evaluateEntry(top.entry, top.owner);
  }
}
