// `smash MEMBERS: tokens(r)` as a statement scheme (token smashing, HAMburger): its method is
// analysis/token-smashing.ts's own spec, so completion offers exactly what the engine reads. It
// changes no store of the walk: the statement is read after the walk, from the members' totals
// (`resolveSmash`), so resolving it as sharing records nothing.

import type { SharingScheme } from '../sharing/scheme.js';
import { SMASH_METHODS } from './token-smashing.js';

export const smashScheme: SharingScheme = {
  keyword: 'smash',
  snippet: 'smash ${1:body}: tokens(${2:2})',
  summary: 'Token smashing (HAMburger): the named members run over one position — one KV entry — per r tokens.',
  hover:
    '`smash MEMBERS: tokens(r)` (HAMburger\'s token smashing): the named top-level members see S tokens as ⌈S / r⌉ positions — FLOPs, activations and attention over those positions, one KV entry per position, a decode step running them (and reading their weights) once per r tokens. Stored counts do not change: the compositional embedder and the micro-step decoder are members of the spec.',
  methods: SMASH_METHODS.map((m) => ({ name: m.name, call: true, positional: true, args: m.args, snippet: m.snippet, doc: m.doc })),
  order: 2,
  keepsStores: true,
  resolve() {
    // Read after the walk by analysis/token-smashing.ts.
  },
};
