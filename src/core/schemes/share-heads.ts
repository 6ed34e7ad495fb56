// `share heads PATH: pairs(n, qkvo: true)`: head-wise sharing (DirectShare) — n query/key head
// slices (with `qkvo`, value rows and output columns too) reuse another layer's head. Resolves
// to a `HeadShare` whose saved parameters are computed here, from the layer's own head geometry.

import type { AttentionInfo } from '../layers/layer-kind.js';
import type { LayerNode } from '../model/module-tree.js';
import { indexableLength } from '../sharing/indexable-stack.js';
import { eachTarget, readMethodCall, type SchemeMethod, type SharingScheme } from '../sharing/scheme.js';

type HeadProjections = NonNullable<AttentionInfo['headProjections']>;

const HEAD_STRATEGIES: readonly SchemeMethod[] = [
  {
    name: 'pairs',
    call: true,
    positional: true,
    args: [
      { name: 'n', type: 'int', required: true, min: 1, doc: 'How many query/key head slices reuse another layer\'s head.' },
      { name: 'qkvo', type: 'bool', required: false, doc: 'Also share the W_v and W_o slices.', values: ['true', 'false'] },
    ],
    snippet: 'pairs(${1:1})',
    doc: 'Head-wise sharing (DirectShare): n head slices reuse another layer\'s head.',
  },
];

export const shareHeadsScheme: SharingScheme = {
  keyword: 'share',
  modifier: 'heads',
  snippet: 'share heads ${1:body.attn}: pairs(${2:1})',
  summary: 'Head-wise sharing of query/key slices.',
  methods: HEAD_STRATEGIES,
  order: 1,
  keepsStores: false,
  resolve(s, scope, model) {
    const { ctx } = model;
    const read = readMethodCall(s.value, s.range, HEAD_STRATEGIES, 'npas-share-strategy', 'head-wise sharing is `pairs(n)` or `pairs(n, qkvo: true)`', scope, ctx);
    if (!read) return;
    const pairs = read.args.get('n') as number;
    const qkvo = (read.args.get('qkvo') as boolean | undefined) ?? false;
    eachTarget(s, scope, model, (r, range) => {
      const layer = r.node.kind === 'layer' ? r.node : undefined;
      const attention = layer?.cost.attention;
      if (!layer || !attention?.headProjections) {
        ctx.sink.error('npas-share-target', `'${r.key}' is not an Attention layer`, range);
        return;
      }
      const instances = r.fanOut ? indexableLength(r.fanOut.stack, range, ctx) : 1;
      if (instances === undefined) return;
      const heads = attention.queryHeads;
      if (pairs > (instances - 1) * heads) {
        ctx.sink.error('npas-share-strategy', `at most ${(instances - 1) * heads} heads can reuse another layer's head here (${instances} layers × ${heads} heads)`, read.call.argsRange);
        return;
      }
      model.addHeadShare({ target: r, pairs, qkvo, savedParams: BigInt(pairs) * perHeadParams(layer, attention, attention.headProjections, qkvo), range: s.range });
    });
  },
};

/** Params of one head's slices: W_q and W_k rows (and W_v rows and W_o columns with qkvo), named by the layer kind. */
function perHeadParams(layer: LayerNode, att: AttentionInfo, projections: HeadProjections, qkvo: boolean): bigint {
  const w = (name: string): readonly number[] | undefined => layer.cost.weights.find((x) => x.name === name)?.shape;
  const q = w(projections.query);
  const k = w(projections.key);
  const v = w(projections.value);
  const o = w(projections.output);
  let total = 0n;
  if (q) total += BigInt(att.scoreDim) * BigInt(q[1] ?? 0);
  if (k) total += BigInt(att.scoreDim) * BigInt(k[1] ?? 0);
  if (qkvo && v) total += BigInt(att.valueDim) * BigInt(v[1] ?? 0);
  if (qkvo && o) total += BigInt(att.valueDim) * BigInt(o[0] ?? 0);
  return total;
}
