// `tie a = b`: every weight of module `a` is the store of the corresponding weight of `b`.
// Resolves to a `tie-all` modifier that records its source.

import { tieSource } from '../sharing/resolve-statements.js';
import { closesTieCycle } from '../sharing/tie-all-cycle.js';
import { keyWithin, resolvePath } from '../sharing/resolve-path.js';
import type { SchemeDrawing } from '../layout/scheme-drawing.js';
import type { SharingScheme } from '../sharing/scheme.js';

/**
 * A tie (`tie a = b`, and a layer's `tied x`) is drawn as its source's store, one node however
 * many ties read it, read by the source and by each tied instance.
 */
const tieDrawing: SchemeDrawing = {
  effects: ['tie-main', 'tie-all'],
  draw(mod, ctx) {
    const e = mod.effect;
    if ((e.kind !== 'tie-main' && e.kind !== 'tie-all') || !e.source) return;
    const target = e.source.key;
    const id = `tie:${target}`;
    ctx.addStore({ id, kind: 'tie', label: `${target} (tied)`, declaration: e.kind === 'tie-main' ? `tied ${target}` : ctx.declaration, range: mod.range });
    const owner = ctx.readerOf(e.source.pattern);
    if (owner) ctx.addRead({ store: id, ...owner }, true);
    ctx.addRead({ store: id, ...ctx.reader });
  },
};

export const tieScheme: SharingScheme = {
  keyword: 'tie',
  snippet: 'tie ${1:a} = ${2:b}',
  summary: 'Makes every weight of one module the store of another\'s.',
  hover: '`tie a = b`: every weight of `a` becomes the store of the corresponding weight of `b`.',
  methods: [],
  order: 2,
  keepsStores: false,
  resolve(s, scope, model) {
    const { ctx } = model;
    const [target] = s.targets;
    if (!target || !s.source) return;
    const a = resolvePath(target, model.members, scope, ctx);
    const src = resolvePath(s.source, model.members, scope, ctx);
    if (!a || !src) return;
    if (a.fanOut || src.fanOut) {
      ctx.sink.error('npas-share-target', '`tie` joins two single modules; to tie instances of a stack use `share STACK: strategy`', s.range);
      return;
    }
    if (a.node.weightSignature !== src.node.weightSignature || a.weight !== src.weight) {
      ctx.sink.error('npas-tie-shape', `'${a.key}' and '${src.key}' do not have the same weights`, s.range);
      return;
    }
    const factorized = model.modifiers.find((m) => m.effect.kind === 'factorize' && m.effect.targets.some((t) => keyWithin(t.path, a.key)));
    if (factorized) {
      ctx.sink.error('npas-factorize-target', `'${a.key}' has weights declared factorised above (\`factorize\`), and a tie would make them read '${src.key}'s stores: factorize '${src.key}' instead`, s.range);
      return;
    }
    if (closesTieCycle(model.modifiers, a.key, src.key)) {
      ctx.sink.error('npas-tie-cycle', `tying '${a.key}' to '${src.key}' comes back to '${a.key}' through the ties before it: no module of the chain holds the store`, s.range);
      return;
    }
    model.addModifier({ pattern: a.pattern, effect: { kind: 'tie-all', targetKey: a.key, source: tieSource(src) }, range: s.range });
  },
  drawing: tieDrawing,
};
