// `factorize PATHS: fedpara(rank: R) | tensor_train(…) | mpo(…)`: every matmul weight under the
// paths is stored as factors, and either applied as factors to each token or materialised from
// them (the cheaper; sharing/factorization.ts, `factorExecution`). Resolves to a
// `factorize` modifier per target; the layouts and costs live in sharing/factorization.ts, the
// argument and target checks in sharing/resolve-factorize.ts.

import { tieReading } from '../sharing/store-resolver.js';
import { CENTRAL_ARG, FEDPARA_ARGS, TRAIN_ARGS, factorTargets, readFactorMethod } from '../sharing/resolve-factorize.js';
import { onSub } from '../layout/scheme-drawing.js';
import { describeFactorMethod } from '../sharing/factorization.js';
import { statementExecution } from '../sharing/factorized-weights.js';
import { eachTarget, type SchemeMethod, type SharingScheme } from '../sharing/scheme.js';

const FACTORIZE_METHODS: readonly SchemeMethod[] = [
  { name: 'fedpara', call: true, args: FEDPARA_ARGS, snippet: 'fedpara(rank: ${1:16})', doc: 'FedPara: W = (X₁Y₁ᵀ) ⊙ (X₂Y₂ᵀ), a low-rank Hadamard product (matrices and convolution kernels).' },
  { name: 'tensor_train', call: true, args: TRAIN_ARGS, snippet: 'tensor_train(rank: ${1:8}, cores: ${2:4})', doc: 'Tensor-train matrix (Novikov et al.): cores G_k of r_{k−1}·m_k·n_k·r_k each.' },
  { name: 'mpo', call: true, args: [...TRAIN_ARGS, CENTRAL_ARG], snippet: 'mpo(rank: ${1:8}, cores: ${2:5})', doc: 'Matrix product operator (Gao et al.): a tensor train whose central tensor is shared across layers or experts.' },
];

export const factorizeScheme: SharingScheme = {
  keyword: 'factorize',
  snippet: 'factorize ${1:body}: fedpara(rank: ${2:16})',
  summary: 'Stores matmul weights as factors (FedPara, tensor train, MPO), applied per token or materialised, whichever is cheaper.',
  hover: '`factorize PATHS: fedpara(rank: R)` / `tensor_train(rank: r, cores: d)` / `mpo(rank: r, cores: d, central: layers)` (or `max_rank: D`: each weight\'s full-rank bonds min(∏ left mₗnₗ, ∏ right mₗnₗ) capped at D): every matmul weight under the paths is stored as factors — stored counts the factors, effective the dense weights — and FLOPs count the cheaper execution per weight: the factors applied to each token, or W materialised from them (each training step) and the dense matmul.',
  methods: FACTORIZE_METHODS,
  order: 2,
  keepsStores: false,
  resolve(s, scope, model) {
    const { ctx } = model;
    const method = s.value ? readFactorMethod(s.value, scope, ctx) : undefined;
    if (!method) return;
    const label = `factorize@${s.range.start}`;
    eachTarget(s, scope, model, (r, range) => {
      // A tie reader's weights are its owner's stores: factorising them would change the owner's
      // (the count ignored it, the export refused it).
      const tie = tieReading(model.modifiers, r.key);
      if (tie) {
        ctx.sink.error('npas-factorize-target', `'${r.key}' reads the stores of '${tie.source.key}' through \`tie ${tie.targetKey} = ${tie.source.key}\`: factorize the owner's weights instead`, range);
        return;
      }
      const targets = factorTargets(method, r, range, ctx);
      if (targets) model.addModifier({ pattern: r.pattern, effect: { kind: 'factorize', method, label, targets }, range: s.range });
    });
  },
  // Every reader's weights are its own factors (a note, saying which execution the FLOPs count:
  // factors per token, or W materialised); an MPO central tensor shared across layers is one
  // store that every instance under the statement reads.
  drawing: {
    effects: ['factorize'],
    draw(mod, ctx) {
      const e = mod.effect;
      if (e.kind !== 'factorize') return;
      // Why W is materialised whatever the costs (a sparse mask, a kernel), from the typed rows.
      const { execution, because } = statementExecution(mod, ctx.sharing);
      const runs = execution === 'factors' ? ', factors applied' : execution === 'dense' ? `, W materialised${because ? ` (${because})` : ''}` : execution === 'mixed' ? ', factors or W per weight' : '';
      ctx.addNote({ kind: 'factorize', member: ctx.reader.member, index: ctx.reader.index, label: onSub(`${describeFactorMethod(e.method)}${runs}`, ctx.reader), range: mod.range });
      if (e.method.kind === 'mpo' && e.method.central === 'layers') {
        const id = `factor:${e.label}`;
        ctx.addStore({ id, kind: 'factor', label: 'MPO central tensors', declaration: ctx.declaration, range: mod.range });
        ctx.addRead({ store: id, ...ctx.reader });
      }
    },
  },
};
