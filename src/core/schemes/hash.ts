// `hash PATHS: roast(memory: m) | rps(memory: m)`: the weights under the paths read their
// entries from one global hashed memory (ROAST's tiles, STABLE-RPS's RANDOMFOLD). Resolves to a
// `hash` modifier recording its method; the memory is counted once as a global store.

import * as Q from '../numbers/rational.js';
import { groupDigits } from '../text/number-format.js';
import { eachTarget, readMethodCall, type SchemeMethod, type SharingScheme } from '../sharing/scheme.js';

const memoryArgs = (doc: string): SchemeMethod['args'] => [
  { name: 'memory', type: 'ratio', required: true, doc },
  { name: 'scales', type: 'bool', required: false, doc: 'One scale per weight.', values: ['true', 'false'] },
];

const HASH_METHODS: readonly SchemeMethod[] = [
  { name: 'roast', call: true, args: memoryArgs('Parameters in the global hashed memory.'), snippet: 'roast(memory: ${1:1M})', doc: 'ROAST: weights read their entries from one hashed memory.' },
  { name: 'rps', call: true, args: memoryArgs('Parameters in the global memory.'), snippet: 'rps(memory: ${1:1M})', doc: 'STABLE-RPS (RANDOMFOLD) hashed memory.' },
];

export const hashScheme: SharingScheme = {
  keyword: 'hash',
  snippet: 'hash ${1:body}: roast(memory: ${2:1M})',
  summary: 'Reads weights from one hashed memory.',
  hover: '`hash PATHS: roast(memory: m)`: weights read from one hashed memory.',
  methods: HASH_METHODS,
  order: 2,
  keepsStores: false,
  resolve(s, scope, model) {
    const { ctx } = model;
    const read = readMethodCall(s.value, s.range, HASH_METHODS, 'npas-hash', 'hashed memory is `roast(memory: m)` or `rps(memory: m)`', scope, ctx);
    if (!read) return;
    const memory = read.args.get('memory') as Q.Rational;
    if (!Q.isInteger(memory)) {
      ctx.sink.error('npas-hash', 'the memory size must be a whole number of parameters', read.call.argsRange);
      return;
    }
    const method = read.method.name === 'roast' ? 'roast' : 'rps';
    const scales = (read.args.get('scales') as boolean | undefined) ?? false;
    eachTarget(s, scope, model, (r) => model.addModifier({ pattern: r.pattern, effect: { kind: 'hash', method, memory: memory.num, scales }, range: s.range }));
  },
  // One store node per statement (its memory), read by every instance under it.
  drawing: {
    effects: ['hash'],
    draw(mod, ctx) {
      if (mod.effect.kind !== 'hash') return;
      const id = `hash:${mod.range.start}`;
      ctx.addStore({ id, kind: 'hash', label: `hashed memory: ${groupDigits(mod.effect.memory)} params`, declaration: ctx.declaration, range: mod.range });
      ctx.addRead({ store: id, ...ctx.reader });
    },
  },
};
