// `bank NAME = PATHS: ssn(params: P, templates: K)`: Shapeshifter Networks — the weights under
// the paths are generated from one bank of P parameters, each mixing up to K templates. Resolves
// to a `bank` modifier; the bank is counted once as a global store.

import * as Q from '../numbers/rational.js';
import { groupDigits } from '../text/number-format.js';
import { eachTarget, readMethodCall, type SchemeMethod, type SharingScheme } from '../sharing/scheme.js';

const BANK_METHODS: readonly SchemeMethod[] = [
  {
    name: 'ssn',
    call: true,
    args: [
      { name: 'params', type: 'ratio', required: true, doc: 'Parameters P of the template store.' },
      { name: 'templates', type: 'int', required: false, min: 1, doc: 'Most templates K a layer mixes (default 8).' },
      { name: 'fixed', type: 'bool', required: false, doc: 'Every weight mixes exactly K templates, and embedding and position tables are generated too (as the NPAS allocator writes it).', values: ['true', 'false'] },
    ],
    snippet: 'ssn(params: ${1:1M}, templates: ${2:8})',
    doc: 'Shapeshifter Networks: weights generated from a bank of templates.',
  },
];

export const bankScheme: SharingScheme = {
  keyword: 'bank',
  snippet: 'bank ${1:g1} = ${2:body}: ssn(params: ${3:1M})',
  summary: 'Generates weights from an SSN template bank.',
  hover: '`bank NAME = PATHS: ssn(params: P)`: weights generated from an SSN template bank.',
  methods: BANK_METHODS,
  order: 2,
  keepsStores: false,
  resolve(s, scope, model) {
    const { ctx } = model;
    const read = readMethodCall(s.value, s.range, BANK_METHODS, 'npas-bank', 'a template bank is `ssn(params: P, templates: K)`', scope, ctx);
    if (!read) return;
    const params = read.args.get('params') as Q.Rational;
    if (!Q.isInteger(params)) {
      ctx.sink.error('npas-bank', 'the bank size must be a whole number of parameters', read.call.argsRange);
      return;
    }
    const label = s.label?.text ?? `bank${model.nextNumber()}`;
    const templates = (read.args.get('templates') as number | undefined) ?? 8;
    const fixed = (read.args.get('fixed') as boolean | undefined) ?? false;
    eachTarget(s, scope, model, (r) => model.addModifier({ pattern: r.pattern, effect: { kind: 'bank', label, params: params.num, templates, fixed }, range: s.range }));
  },
  // One store node per bank (by its label), read by every instance under its statements.
  drawing: {
    effects: ['bank'],
    draw(mod, ctx) {
      if (mod.effect.kind !== 'bank') return;
      const id = `bank:${mod.effect.label}`;
      ctx.addStore({ id, kind: 'bank', label: `bank ${mod.effect.label}: ${groupDigits(mod.effect.params)} params`, declaration: ctx.declaration, range: mod.range });
      ctx.addRead({ store: id, ...ctx.reader });
    },
  },
};
