// `freeze PATHS` / `train PATHS`: which stored weights receive gradients (a later statement
// wins; `train` overrides an adapter's frozen base). Changes no stored count.

import { eachTarget, type SharingScheme } from '../sharing/scheme.js';

const trainability = (keyword: 'freeze' | 'train', snippet: string, summary: string, hover: string): SharingScheme => ({
  keyword,
  snippet,
  summary,
  hover,
  methods: [],
  order: 2,
  keepsStores: true,
  resolve(s, scope, model) {
    eachTarget(s, scope, model, (r) => model.addModifier({ pattern: r.pattern, effect: { kind: keyword }, range: s.range }));
  },
  // A note on the instance: `frozen` / `trained`, with the path inside it.
  drawing: {
    effects: [keyword],
    draw(mod, { reader, addNote }) {
      const word = keyword === 'freeze' ? 'frozen' : 'trained';
      addNote({ kind: keyword, member: reader.member, index: reader.index, label: reader.sub ? `${word}: ${reader.sub}` : word, range: mod.range });
    },
  },
});

export const freezeScheme = trainability('freeze', 'freeze ${1:embed}', 'Marks stored weights as not trainable.', '`freeze PATHS`: stored weights that receive no gradients.');
export const trainScheme = trainability('train', 'train ${1:embed}', 'Marks stored weights as trainable.', '`train PATHS`: stored weights that receive gradients (overrides an adapter\'s frozen base).');
