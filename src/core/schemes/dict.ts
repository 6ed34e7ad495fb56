// `dict PATHS: masa(atoms: S)`: MASA — each projection type under the paths is a combination of
// S shared atoms. Resolves to a `dict` modifier.

import { eachTarget, readMethodCall, type SchemeMethod, type SharingScheme } from '../sharing/scheme.js';

const DICT_METHODS: readonly SchemeMethod[] = [
  { name: 'masa', call: true, args: [{ name: 'atoms', type: 'int', required: true, min: 1, doc: 'Shared atoms S per projection type.' }], snippet: 'masa(atoms: ${1:4})', doc: 'MASA: each projection type is a combination of S shared atoms.' },
];

export const dictScheme: SharingScheme = {
  keyword: 'dict',
  snippet: 'dict ${1:body}: masa(atoms: ${2:4})',
  summary: 'Dictionary sharing of projections (MASA).',
  hover: '`dict PATHS: masa(atoms: S)`: projections as combinations of shared atoms.',
  methods: DICT_METHODS,
  order: 2,
  keepsStores: false,
  resolve(s, scope, model) {
    const read = readMethodCall(s.value, s.range, DICT_METHODS, 'npas-share-strategy', 'dictionary sharing is `masa(atoms: S)`', scope, model.ctx);
    if (!read) return;
    const atoms = read.args.get('atoms') as number;
    eachTarget(s, scope, model, (r) => model.addModifier({ pattern: r.pattern, effect: { kind: 'dict', atoms }, range: s.range }));
  },
  // One store node per statement (its atoms), read by every instance under it.
  drawing: {
    effects: ['dict'],
    draw(mod, ctx) {
      if (mod.effect.kind !== 'dict') return;
      const id = `dict:${mod.range.start}`;
      ctx.addStore({ id, kind: 'dict', label: `dictionary: ${mod.effect.atoms} atoms`, declaration: ctx.declaration, range: mod.range });
      ctx.addRead({ store: id, ...ctx.reader });
    },
  },
};
