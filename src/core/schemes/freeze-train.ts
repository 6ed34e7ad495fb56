// `freeze PATHS` / `train PATHS`: which stored weights receive gradients (a later statement
// wins; `train` overrides an adapter's frozen base). Changes no stored count.
// `train PATHS: sparse(elements: k)`: FISH's fixed sparse mask (Sung et al. 2021, "Training
// Neural Networks with Fixed Sparse Masks"), a top-k of the Fisher information pooled over every
// weight under the paths together: those weights are frozen but for k elements, trained in place.
// Trainable is k for the statement, whatever the weights' shapes; stored is unchanged.

import { eachTarget, readMethodCall, type SchemeMethod, type SharingScheme } from '../sharing/scheme.js';

/** The methods of `train PATHS: …`. */
export const TRAIN_METHODS: readonly SchemeMethod[] = [
  {
    name: 'sparse',
    call: true,
    args: [
      {
        name: 'elements',
        type: 'int',
        required: true,
        min: 1,
        doc: 'k: the elements trained, pooled over every stored weight under the paths (FISH: the k of largest Fisher information in the whole model); at most the elements those weights hold.',
      },
    ],
    snippet: 'sparse(elements: ${1:10_000})',
    doc: 'FISH: a fixed sparse mask pooled over all the weights under the paths — k elements trained in place, the rest frozen; trainable = k, stored unchanged.',
  },
];

const trainability = (keyword: 'freeze' | 'train', snippet: string, summary: string, hover: string, methods: readonly SchemeMethod[]): SharingScheme => ({
  keyword,
  snippet,
  summary,
  hover,
  methods,
  order: 2,
  // A pooled mask chooses its k elements among the stored ones: an allocation, which replaces
  // them, cannot stand beside it (plain freeze/train can).
  keepsStores: (s) => s.value === undefined,
  resolve(s, scope, model) {
    if (keyword === 'train' && s.value) {
      const expected = "expected 'sparse(elements: k)' after 'train PATHS:'";
      const read = readMethodCall(s.value, s.range, methods, 'npas-train-sparse', expected, scope, model.ctx);
      if (!read) return;
      const elements = read.args.get('elements') as number;
      eachTarget(s, scope, model, (r) => model.addModifier({ pattern: r.pattern, effect: { kind: 'train-sparse', elements }, range: s.range }));
      return;
    }
    eachTarget(s, scope, model, (r) => model.addModifier({ pattern: r.pattern, effect: { kind: keyword }, range: s.range }));
  },
  // A note on the instance: `frozen` / `trained` (`k of the pool trained` for a pooled mask), with the path inside it.
  drawing: {
    effects: keyword === 'freeze' ? ['freeze'] : ['train', 'train-sparse'],
    draw(mod, { reader, addNote }) {
      const e = mod.effect;
      const word = keyword === 'freeze' ? 'frozen' : e.kind === 'train-sparse' ? `sparse mask: ${e.elements} elements of the pool trained` : 'trained';
      addNote({ kind: keyword, member: reader.member, index: reader.index, label: reader.sub ? `${word}: ${reader.sub}` : word, range: mod.range });
    },
  },
});

export const freezeScheme = trainability('freeze', 'freeze ${1:embed}', 'Marks stored weights as not trainable.', '`freeze PATHS`: stored weights that receive no gradients.', []);
export const trainScheme = trainability(
  'train',
  'train ${1:embed}',
  'Marks stored weights as trainable.',
  '`train PATHS`: stored weights that receive gradients (overrides an adapter\'s frozen base). `train PATHS: sparse(elements: k)`: FISH — only k elements, pooled over every weight under the paths, are trained in place.',
  TRAIN_METHODS,
);
