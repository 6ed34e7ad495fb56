// `precision weights: bf16, experts: mxfp4, kv: fp8` as a statement scheme: its keyword, hover
// and completion snippet (its classes and dtypes are completed by completion-context.ts's
// precision sites, from precision.ts and dtypes.ts). It changes no count: model-precision.ts
// reads it for the metrics, so resolving it as sharing records nothing, and an allocation may
// stand beside it.

import { onSub } from '../layout/scheme-drawing.js';
import { eachTarget, type SharingScheme } from '../sharing/scheme.js';
import { DTYPE_NAMES, isDType } from './dtypes.js';

export const precisionScheme: SharingScheme = {
  keyword: 'precision',
  snippet: 'precision ${1:experts}: ${2:mxfp4}',
  summary: 'The dtypes this model stores and runs in, per tensor class (weights, experts, kv, activations, compute, gradients, master, optimizer).',
  hover:
    '`precision weights: bf16, experts: mxfp4, kv: fp8`: the dtypes of this model\'s tensor classes (weights, experts, kv, activations, compute, gradients, master or none, optimizer) — its storage format, over the analysis settings\' `dtype`; a class set in the settings (`--experts-dtype`, a budget\'s `experts_dtype`) still wins.',
  methods: [],
  order: 2,
  keepsStores: true,
  resolve() {
    // Read for the metrics by analysis/model-precision.ts.
  },
};

/**
 * `precision weights embed, body.attn: fp8`: the weights under the paths stored (and read) in a
 * dtype of their own, over the `weights` and `experts` classes (weight-dtypes.ts). A bad dtype is
 * an `npas-precision` error at it; a path that names nothing is reported as any statement's.
 */
export const precisionWeightsScheme: SharingScheme = {
  keyword: 'precision',
  modifier: 'weights',
  snippet: 'precision weights ${1:embed}: ${2:fp8}',
  summary: 'The dtype the weights under the paths are stored in, over the model\'s weights and experts classes.',
  hover:
    '`precision weights embed, body.attn: fp8`: the weights under the paths are stored and read in this dtype (the last such statement reaching a weight wins), whatever the `weights` and `experts` classes say; weights bytes, the roofline\'s reads and memory follow.',
  methods: [],
  order: 2,
  keepsStores: true,
  resolve(s, scope, model) {
    const v = s.value;
    const name = v?.kind === 'Name' ? v.name.text : v?.kind === 'String' ? v.value : undefined;
    if (name === undefined || !isDType(name)) {
      model.ctx.sink.error('npas-precision', `the weights' dtype must be one of ${DTYPE_NAMES.join(', ')}`, v?.range ?? s.keywordRange);
      return;
    }
    eachTarget(s, scope, model, (r) => model.addModifier({ pattern: r.pattern, effect: { kind: 'dtype', dtype: name }, range: s.range }));
  },
  // A note on the instance: the dtype its weights (under the path inside it) are stored in.
  drawing: {
    effects: ['dtype'],
    draw(mod, { reader, addNote }) {
      if (mod.effect.kind !== 'dtype') return;
      addNote({ kind: 'dtype', member: reader.member, index: reader.index, label: onSub(`weights in ${mod.effect.dtype}`, reader), range: mod.range });
    },
  },
};
