// `allocate params: N, groups: G, generate: M` as a sharing scheme: the NPAS allocator's plan
// becomes fixed SSN banks. It plans over the architecture's own weights, so it cannot be combined
// with statements that change stores, and there is one request per model. Registered in
// `src/core/schemes/registry.ts`; the sharing resolver knows nothing of the allocator.

import type { SharingScheme } from '../sharing/scheme.js';
import { resolveAllocation } from './allocate-statement.js';
import { conflictingStatement } from './conflicts.js';

export const allocateScheme: SharingScheme = {
  keyword: 'allocate',
  snippet: 'allocate params: ${1:1M}',
  summary: 'Asks the NPAS allocator for a plan storing exactly N parameters.',
  hover: '`allocate params: N, …`: a request for the NPAS allocator.',
  methods: [],
  order: 2,
  keepsStores: false,
  resolve(s, scope, model) {
    const { ctx } = model;
    const first = model.statements.find((x) => x.statement.keyword === 'allocate');
    if (first && first.statement !== s) {
      ctx.sink.error('npas-allocate', 'only one allocation request per model or variant', s.keywordRange);
      return;
    }
    const conflict = conflictingStatement(model.statements, (x) => model.schemeOf(x))?.statement.keyword;
    if (conflict) {
      ctx.sink.error('npas-allocate', `allocate plans the whole architecture and cannot be combined with '${conflict}' statements; allocate the model without them`, s.keywordRange);
      return;
    }
    const banks = resolveAllocation(s, scope, model.members, model.modifiers, 'this model', ctx);
    if (!banks) return;
    for (const bank of banks) {
      for (const pattern of bank.patterns) {
        model.addModifier({ pattern, effect: { kind: 'bank', label: bank.label, params: BigInt(bank.params), templates: bank.templates, fixed: true }, range: s.range });
      }
    }
  },
};
