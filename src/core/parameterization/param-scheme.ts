// `param scheme(base_width: W, base_depth: D, …)` as a statement scheme: its methods are the
// parameterisations of `schemes.ts` with the arguments `resolve-parameterization.ts` reads, so
// completion offers exactly what the engine reads. It changes no count: the statement is read
// after the walk (`resolveParameterization`), so resolving it as sharing records nothing.

import type { SharingScheme } from '../sharing/scheme.js';
import { PARAM_ARGS } from './resolve-parameterization.js';
import { SCHEMES } from './schemes.js';

export const paramScheme: SharingScheme = {
  keyword: 'param',
  snippet: 'param ${1:mup}(base_width: ${2:256})',
  summary: 'A parameterisation (sp, mup, depth_mup, completep, u_mup): every weight\'s init std, LR, multiplier, residual scale and weight decay relative to a tuned base model.',
  hover: '`param scheme(base_width: W, base_depth: D, lr: η)`: the parameterisation (sp, mup, depth_mup, completep, u_mup) — each weight\'s init std, Adam LR, multiplier, residual branch scale and weight decay as factors of the tuned base model\'s (`npas param`).',
  methods: SCHEMES.map((scheme) => ({
    name: scheme.name,
    call: true,
    args: PARAM_ARGS.filter((a) => a.name !== 'alpha' || scheme.alpha),
    snippet: `${scheme.name}(base_width: \${1:256}, base_depth: \${2:4})`,
    doc: scheme.doc,
  })),
  order: 2,
  keepsStores: true,
  resolve() {
    // Read after the walk by parameterization/resolve-parameterization.ts.
  },
};
