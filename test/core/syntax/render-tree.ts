// A compact S-expression rendering of expression trees, for readable parser expectations
// (`(+ 1 (* 2 3))`). Shared by the syntax test files.

import type { Argument, Expression } from '../../../src/core/syntax/syntax-tree.js';

export function render(e: Expression | undefined): string {
  if (e === undefined) return '-';
  switch (e.kind) {
    case 'Number':
      return e.digits + e.suffix;
    case 'String':
      return JSON.stringify(e.value);
    case 'Boolean':
      return String(e.value);
    case 'None':
      return 'none';
    case 'Name':
      return e.name.text;
    case 'Binary':
      return `(${e.operator} ${render(e.left)} ${render(e.right)})`;
    case 'Unary':
      return `(${e.operator} ${render(e.operand)})`;
    case 'Conditional':
      return `(if ${render(e.condition)} ${render(e.whenTrue)} ${render(e.whenFalse)})`;
    case 'Call':
      return `(call ${[render(e.callee), ...e.args.map(renderArg)].join(' ')})`;
    case 'Member':
      return `(. ${render(e.object)} ${e.member.text})`;
    case 'Index':
      return `([] ${render(e.object)} ${render(e.index)})`;
    case 'List':
      return `[${e.elements.map(render).join(' ')}]`;
    case 'Comprehension':
      return `(for ${render(e.body)} ${e.variable.text} ${e.from ? render(e.from) : '_'} ${render(e.to)})`;
    case 'Missing':
      return '?';
  }
}

export function renderArg(a: Argument): string {
  return a.name ? `${a.name.text}:${render(a.value)}` : render(a.value);
}
