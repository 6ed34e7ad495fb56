// `factorize PATHS: fedpara(rank: R) | tensor_train(…) | mpo(…)`: every matmul weight under the
// paths is stored as factors and materialised from them each training step. Resolves to a
// `factorize` modifier per target; the layouts and costs live in sharing/factorization.ts, the
// argument and target checks in sharing/resolve-factorize.ts.

import { CENTRAL_ARG, FEDPARA_ARGS, TRAIN_ARGS, factorTargets, readFactorMethod } from '../sharing/resolve-factorize.js';
import { eachTarget, type SchemeMethod, type SharingScheme } from '../sharing/scheme.js';

const FACTORIZE_METHODS: readonly SchemeMethod[] = [
  { name: 'fedpara', call: true, args: FEDPARA_ARGS, snippet: 'fedpara(rank: ${1:16})', doc: 'FedPara: W = (X₁Y₁ᵀ) ⊙ (X₂Y₂ᵀ), a low-rank Hadamard product (matrices and convolution kernels).' },
  { name: 'tensor_train', call: true, args: TRAIN_ARGS, snippet: 'tensor_train(rank: ${1:8}, cores: ${2:4})', doc: 'Tensor-train matrix (Novikov et al.): cores G_k of r_{k−1}·m_k·n_k·r_k each.' },
  { name: 'mpo', call: true, args: [...TRAIN_ARGS, CENTRAL_ARG], snippet: 'mpo(rank: ${1:8}, cores: ${2:5})', doc: 'Matrix product operator (Gao et al.): a tensor train whose central tensor is shared across layers or experts.' },
];

export const factorizeScheme: SharingScheme = {
  keyword: 'factorize',
  snippet: 'factorize ${1:body}: fedpara(rank: ${2:16})',
  summary: 'Stores matmul weights as factors (FedPara, tensor train, MPO) materialised each step.',
  hover: '`factorize PATHS: fedpara(rank: R)` / `tensor_train(rank: r, cores: d)` / `mpo(rank: r, cores: d, central: layers)`: every matmul weight under the paths is stored as factors and materialised from them each training step — stored counts the factors, effective the dense weights.',
  methods: FACTORIZE_METHODS,
  order: 2,
  keepsStores: false,
  resolve(s, scope, model) {
    const { ctx } = model;
    const method = s.value ? readFactorMethod(s.value, scope, ctx) : undefined;
    if (!method) return;
    const label = `factorize@${s.range.start}`;
    eachTarget(s, scope, model, (r, range) => {
      const targets = factorTargets(method, r, range, ctx);
      if (targets) model.addModifier({ pattern: r.pattern, effect: { kind: 'factorize', method, label, targets }, range: s.range });
    });
  },
};
