// `max_context 131072` as a statement scheme: its keyword, hover and completion snippet. It
// changes no count: max-context.ts reads it after the walk and the compilation warns when the
// analysis sequence passes it, so resolving it as sharing records nothing, and an allocation may
// stand beside it.

import type { SharingScheme } from '../sharing/scheme.js';

export const maxContextScheme: SharingScheme = {
  keyword: 'max_context',
  snippet: 'max_context ${1:4Ki}',
  summary: 'The longest context this model is made for (Hugging Face\'s max_position_embeddings): a longer analysis sequence is warned about.',
  hover:
    '`max_context N`: the longest sequence, in tokens, the model is declared for (trained or extended to, as a config\'s `max_position_embeddings`). Numbers at a longer `seq` are still computed, with a warning (`npas-seq-beyond-context`); a variant\'s statement replaces its base\'s.',
  methods: [],
  order: 2,
  keepsStores: true,
  resolve() {
    // Read after the walk by analysis/max-context.ts.
  },
};
