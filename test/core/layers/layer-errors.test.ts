// Cross-argument consistency errors: each must name the offending argument, say what is wrong
// with the numbers in it, and make `build` return undefined.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ArgValue } from '../../../src/core/layers/layer-kind.js';
import { findLayerKind } from '../../../src/core/layers/registry.js';

interface Problem {
  readonly arg: string | undefined;
  readonly message: string;
}

function buildProblems(kindName: string, given: Record<string, ArgValue>): { built: boolean; problems: Problem[] } {
  const kind = findLayerKind(kindName);
  assert.ok(kind, `unknown layer kind ${kindName}`);
  const declared = new Set(kind.args.map((a) => a.name));
  for (const name of Object.keys(given)) assert.ok(declared.has(name), `${kindName} has no argument ${name}`);
  const values = new Map<string, ArgValue>(kind.args.map((a) => [a.name, a.name in given ? given[a.name] : a.default]));
  const problems: Problem[] = [];
  const cost = kind.build(values, (arg, message) => problems.push({ arg, message }));
  return { built: cost !== undefined, problems };
}

interface ErrorCase {
  readonly kind: string;
  readonly args: Record<string, ArgValue>;
  /** The argument the problem is reported on; undefined for the call as a whole. */
  readonly arg: string | undefined;
  /** Fragments the message must contain (the numbers involved). */
  readonly mentions: readonly string[];
}

const CASES: readonly ErrorCase[] = [
  { kind: 'Attention', args: { d: 1000, heads: 12 }, arg: 'heads', mentions: ['heads (12)', 'd (1000)', 'head_dim'] },
  { kind: 'Attention', args: { d: 768, heads: 12, kv_heads: 5 }, arg: 'kv_heads', mentions: ['kv_heads (5)', 'heads (12)'] },
  { kind: 'Attention', args: { d: 768, heads: 12, kv_heads: 24 }, arg: 'kv_heads', mentions: ['kv_heads (24)', 'heads (12)'] },
  { kind: 'Attention', args: { d: 768, heads: 12, kv_dim: 512 }, arg: 'kv_dim', mentions: ['kv_dim (512)', 'd (768)', 'cross'] },
  { kind: 'Attention', args: { d: 768, heads: 12, cross: true, window: 128 }, arg: 'window', mentions: ['window (128)', 'cross'] },
  { kind: 'MoE', args: { d: 64, hidden: 128, experts: 4, top_k: 5 }, arg: 'top_k', mentions: ['top_k (5)', 'experts (4)'] },
  { kind: 'MoE', args: { d: 64, hidden: 128, experts: 4, top_k: 2, shared_expert_gate: true }, arg: 'shared_expert_gate', mentions: ['shared is 0'] },
  { kind: 'Attention', args: { d: 768, heads: 12, cross: true, gate: true }, arg: 'gate', mentions: ['self-attention'] },
  { kind: 'Attention', args: { d: 768, heads: 12, cross: true, rel_pos: true }, arg: 'rel_pos', mentions: ['self-attention'] },
  { kind: 'Mamba2', args: { d: 2688, inner: 4096, expand: 3 }, arg: 'inner', mentions: ['inner (4096)', 'expand (3)'] },
  { kind: 'GatedDeltaNet', args: { d: 2048, k_heads: 12, v_heads: 32 }, arg: 'k_heads', mentions: ['k_heads (12)', 'v_heads (32)'] },
  { kind: 'MoE', args: { d: 64, hidden: 128, experts: 4, top_k: 2, shared_hidden: 256 }, arg: 'shared_hidden', mentions: ['shared_hidden (256)', 'shared is 0'] },
  { kind: 'Conv2d', args: { c_in: 6, c_out: 8, kernel: 3, groups: 4, size: 8 }, arg: 'groups', mentions: ['groups (4)', 'c_in (6)', 'c_out (8)'] },
  { kind: 'Conv1d', args: { c_in: 4, c_out: 6, kernel: 3, groups: 4, length: 8 }, arg: 'groups', mentions: ['groups (4)', 'c_out (6)'] },
  { kind: 'Conv2d', args: { c_in: 3, c_out: 8, kernel: 7, size: 4 }, arg: 'size', mentions: ['size (4)', 'span 7', 'kernel 7'] },
  { kind: 'Conv2d', args: { c_in: 3, c_out: 8, kernel: 3, dilation: 3, height: 32, width: 6 }, arg: 'width', mentions: ['width (6)', 'span 7', 'dilation 3'] },
  { kind: 'Conv1d', args: { c_in: 3, c_out: 8, kernel: 5, padding: 1, length: 2 }, arg: 'length', mentions: ['length (2)', 'padding 2·1', 'span 5'] },
  { kind: 'Conv2d', args: { c_in: 3, c_out: 8, kernel: 3 }, arg: undefined, mentions: ['size', 'height and width'] },
  { kind: 'Conv2d', args: { c_in: 3, c_out: 8, kernel: 3, height: 32 }, arg: 'width', mentions: ['height (32)', 'without width'] },
  { kind: 'Conv2d', args: { c_in: 3, c_out: 8, kernel: 3, width: 32 }, arg: 'height', mentions: ['width (32)', 'without height'] },
  { kind: 'Conv2d', args: { c_in: 3, c_out: 8, kernel: 3, size: 32, height: 32 }, arg: 'size', mentions: ['size (32)', 'not both'] },
  { kind: 'Dropout', args: { p: { num: 3, den: 2 } }, arg: 'p', mentions: ['p (3/2)', 'at most 1'] },
  { kind: 'Pool', args: { kind: 'avg', stride: 2 }, arg: 'stride', mentions: ['stride (2)', 'kernel'] },
  // heads·head_dim = 2^60 is not a safe integer, so the shape could not be exact.
  { kind: 'Attention', args: { d: 8, heads: 2 ** 30, head_dim: 2 ** 30 }, arg: undefined, mentions: ["'q'", 'too large'] },
];

for (const c of CASES) {
  test(`${c.kind} reports ${String(c.arg)}: ${JSON.stringify(c.args)}`, () => {
    const { built, problems } = buildProblems(c.kind, c.args);
    assert.equal(built, false, 'build returns undefined');
    assert.equal(problems.length, 1, 'exactly one problem');
    const [problem] = problems;
    assert.ok(problem);
    assert.equal(problem.arg, c.arg);
    for (const fragment of c.mentions) assert.ok(problem.message.includes(fragment), `"${problem.message}" mentions ${fragment}`);
  });
}

test('boundary values are accepted', () => {
  const accepted: readonly [string, Record<string, ArgValue>][] = [
    ['Attention', { d: 1000, heads: 8, head_dim: 125 }],
    ['Attention', { d: 1000, heads: 12, head_dim: 64 }],
    ['Attention', { d: 768, heads: 12, kv_heads: 1 }],
    ['Attention', { d: 768, heads: 12, kv_dim: 768 }],
    ['Attention', { d: 768, heads: 12, window: 4096 }],
    ['MoE', { d: 64, hidden: 128, experts: 4, top_k: 4 }],
    ['Conv2d', { c_in: 3, c_out: 8, kernel: 7, size: 7 }],
    ['Conv2d', { c_in: 3, c_out: 8, kernel: 7, padding: 3, size: 1 }],
    ['Conv2d', { c_in: 8, c_out: 16, kernel: 3, groups: 8, size: 8 }],
    ['Dropout', { p: { num: 1, den: 1 } }],
    ['Dropout', {}],
    ['Pool', { kind: 'max' }],
  ];
  for (const [kind, args] of accepted) {
    const { built, problems } = buildProblems(kind, args);
    assert.deepEqual(problems, [], `${kind} ${JSON.stringify(args)}`);
    assert.equal(built, true);
  }
});
