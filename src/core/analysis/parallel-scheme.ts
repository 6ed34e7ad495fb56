// `parallel P` / `parallel streams(P, prefix: m, merge: NAME)` / `parallel workers(P)` as a
// statement scheme: its methods are analysis/parallel-streams.ts's own specs, so completion
// offers exactly what the engine reads. It changes no store of the walk: the statement is read
// after the walk, from the members' totals (`resolveParallel`), so resolving it as sharing
// records nothing.

import type { SharingScheme } from '../sharing/scheme.js';
import { PARALLEL_METHODS } from './parallel-streams.js';

export const parallelScheme: SharingScheme = {
  keyword: 'parallel',
  snippet: 'parallel ${1:streams}(${2:8}, prefix: ${3:48}, merge: ${4:lm_head})',
  summary: 'Parallel streams over the same weights: ParScale (`streams(P, prefix: m, merge: NAME)`) or Hogwild! workers on one shared cache (`workers(P)`).',
  hover:
    '`parallel streams(P, prefix: m, merge: NAME)` (ParScale) or `parallel workers(P)` (Hogwild!) or `parallel P`: the model runs as P streams over the same weights — stored once (plus m·P prefix tokens per attention layer and the aggregator), read once per decode step, while FLOPs, activations and the KV cache (separate caches) grow P×.',
  methods: PARALLEL_METHODS.map((m) => ({ name: m.name, call: true, positional: true, args: m.args, snippet: m.snippet, doc: m.doc })),
  order: 2,
  keepsStores: false,
  resolve() {
    // Read after the walk by analysis/parallel-streams.ts.
  },
};
