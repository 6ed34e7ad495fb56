// `share kv STACK: every(n) | map([…]) | tied`: which attention instances produce the KV cache
// and which read an earlier one's (CLA, MLKV, LCKV, Mixture-of-Recursions). Resolves to a `kv`
// stack strategy with a closed-form producer map (`sharing/slot-map.ts`).

import type { SchemeMethod, SharingScheme } from '../sharing/scheme.js';
import { eachTarget } from '../sharing/scheme.js';
import { indexableLength } from '../sharing/indexable-stack.js';
import * as S from '../sharing/slot-map.js';
import { asStatementCall, readIntList, readStatementArgs } from '../sharing/statement-args.js';

/**
 * A reader whose checkpoint still holds K/V projections it never applies (Gemma 3n stores
 * k_proj, v_proj and k_norm on its KV-shared layers): they stay stored, and only stop counting
 * as effective and active and costing FLOPs.
 */
const KEEP_WEIGHTS = {
  name: 'keep_weights',
  type: 'bool',
  required: false,
  doc: 'Readers keep their (unused) K/V projections stored, as a checkpoint that ships them (Gemma 3n); effective, active, FLOPs and KV still drop.',
} as const;

/** Which attention instances of a stack produce the KV cache. */
export const KV_STRATEGIES: readonly SchemeMethod[] = [
  { name: 'every', call: true, positional: true, args: [{ name: 'n', type: 'int', required: true, min: 1, doc: 'Group size: the first of n consecutive instances produces, the others read it.' }, KEEP_WEIGHTS], snippet: 'every(${1:2})', doc: 'Cross-layer attention (CLA, MLKV): groups of n share one KV cache.' },
  { name: 'map', call: true, positional: true, args: [{ name: 'map', type: 'int-list', required: true, doc: 'For each instance, the instance whose KV it reads (≤ its own index).' }, KEEP_WEIGHTS], snippet: 'map([${1:0, 0, 2, 2}])', doc: 'An explicit KV source per instance (LCKV layer types, Gemma 3n\'s num_kv_shared_layers).' },
  { name: 'tied', call: false, args: [], snippet: 'tied', doc: 'Instances that share a store read the KV of its first instance (MoR recursive KV sharing).' },
];

export const shareKvScheme: SharingScheme = {
  keyword: 'share',
  modifier: 'kv',
  snippet: 'share kv ${1:body}: ${2:every(2)}',
  summary: 'Shares KV producers across attention instances (CLA, MLKV, LCKV, MoR).',
  methods: KV_STRATEGIES,
  order: 1,
  keepsStores: false,
  resolve(s, scope, model) {
    const { ctx } = model;
    const call = s.value ? asStatementCall(s.value) : undefined;
    eachTarget(s, scope, model, (r, range) => {
      if (r.node.kind !== 'stack' || (r.fanOut && r.fanOut.stack !== r.node)) {
        ctx.sink.error('npas-share-not-stack', `'${r.key}' is not a stack; KV sharing applies to the instances of a stack`, range);
        return;
      }
      const stack = r.node;
      const length = indexableLength(stack, range, ctx);
      if (length === undefined) return;
      let producers: S.KvProducerMap | undefined;
      let keepWeights = false;
      if (!call) {
        ctx.sink.error('npas-share-strategy', 'expected every(n), map([…]) or tied', s.value?.range ?? s.range);
        return 'stop';
      }
      const method = KV_STRATEGIES.find((m) => m.name === call.name);
      if (method?.name === 'every') {
        const args = readStatementArgs(call, method.args, 'npas-share-strategy', scope, ctx);
        if (!args) return 'stop';
        producers = S.everyKv(args.get('n') as number);
        keepWeights = args.get('keep_weights') === true;
      } else if (method?.name === 'map') {
        const listExpr = call.list ?? call.args[0]?.value;
        // The list may be written bare (`[0, 0, 2]`); as a call, its arguments are checked as any method's.
        const args = call.list ? undefined : readStatementArgs(call, method.args, 'npas-share-strategy', scope, ctx);
        if (!call.list && !args) return 'stop';
        keepWeights = args?.get('keep_weights') === true;
        const values = listExpr ? readIntList(listExpr, scope, ctx) : undefined;
        if (!values || !listExpr) return 'stop';
        if (values.length !== length) {
          ctx.sink.error('npas-kv-source', `the KV map must give one source per instance: ${stack.length} expected, ${values.length} given`, listExpr.range);
          return 'stop';
        }
        const bad = values.findIndex((v, i) => v < 0 || v > i || values[v] !== v);
        if (bad >= 0) {
          ctx.sink.error('npas-kv-source', `instance ${bad} reads KV from ${values[bad]}, which is not an earlier instance that produces its own KV`, listExpr.range);
          return 'stop';
        }
        producers = S.explicitKv(values);
      } else if (method?.name === 'tied') {
        const share = model.strategiesOf(r.key).find((x) => x.kind === 'share' && x.sub.length === 0);
        if (!share || share.kind !== 'share') {
          ctx.sink.error('npas-kv-source', `'share kv ${r.key}: tied' needs a weight-sharing strategy on ${r.key} (share ${r.key}: …)`, call.nameRange);
          return 'stop';
        }
        producers = S.tiedKv(share.slots);
      } else {
        ctx.sink.error('npas-share-strategy', `unknown KV strategy '${call.name}' (use every(n), map([…]) or tied)`, call.nameRange);
        return 'stop';
      }
      if (model.strategiesOf(r.key).some((x) => x.kind === 'kv')) {
        ctx.sink.error('npas-share-overlap', `'${r.key}' already has a KV-sharing declaration`, range);
        return;
      }
      model.addStrategy(r, { kind: 'kv', producers, ...(keepWeights ? { keepsWeights: true } : {}), range: s.range });
      return undefined;
    });
  },
};
