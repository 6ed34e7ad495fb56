// The residual convention for blocks on a feature map (docs/probes.md, "Data flow"): a spec
// declares a ResNet/WRN block's layers, not its shortcut, so the exporter reads the wiring from
// the shapes, narrowly:
//   - members run in order on the block's input (the main path);
//   - a convolution that cannot read what the members before it produce (other channels or another
//     size) but can read the block's input starts the *projection shortcut*: it and the members
//     after it run on the block's input, and the block is main(x) + shortcut(x) — the two must
//     end in the same shape, or the block is refused by name;
//   - without a shortcut, a block that holds a convolution and ends in its input's shape is
//     residual, x + main(x); one that changes the shape runs in sequence (a stem, a VGG stage).
// A block holding anything but convolutions, BatchNorm, Pool, activations, Dropout and Identity
// (a GlobalPool, a Linear head, nested blocks) runs in sequence.

import { ExportError, pathText, type ModuleNode, type PathStep } from '../engine-bridge.js';
import { CONVS, convGeometry } from './conv.js';
import type { EmitContext, Hidden } from './context.js';

const ON_MAP = new Set(['Conv1d', 'Conv2d', 'BatchNorm', 'Pool', 'Activation', 'Dropout', 'Identity']);

export interface BlockItem {
  readonly name: string;
  readonly node: ModuleNode;
}

const same = (a: Hidden, b: Hidden) => a.width === b.width && a.spatial !== undefined && b.spatial !== undefined && a.spatial.length === b.spatial.length && a.spatial.every((v, i) => v === b.spatial![i]);

/**
 * Wires a block on a feature map; undefined when the convention does not apply (the caller runs
 * the members in sequence). `run` emits one member on a hidden state.
 */
export function convBlock(ctx: EmitContext, items: readonly BlockItem[], steps: readonly PathStep[], h0: Hidden, run: (item: BlockItem, steps: readonly PathStep[], h: Hidden) => Hidden): Hidden | undefined {
  if (h0.spatial === undefined || h0.x === undefined) return undefined;
  if (!items.every((it) => it.node.kind === 'layer' && ON_MAP.has(it.node.layerKind))) return undefined;
  const at = (it: BlockItem) => [...steps, { kind: 'name' as const, name: it.name }];
  let h = h0;
  let split = items.length;
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    const node = it.node;
    if (i > 0 && node.kind === 'layer' && CONVS.has(node.layerKind)) {
      const c = convGeometry(node, at(it));
      const fits = (x: Hidden) => x.width === c.cIn && x.spatial!.length === c.inputSides.length && x.spatial!.every((v, k) => v === c.inputSides[k]);
      if (!fits(h) && fits(h0)) {
        split = i;
        break;
      }
    }
    h = run(it, at(it), h);
  }
  const hasConv = items.some((it) => it.node.kind === 'layer' && CONVS.has(it.node.layerKind));
  if (split === items.length) {
    if (!hasConv || !same(h, h0)) return h;
    return { ...h, x: ctx.g.op('Add', [h0.x, h.x!], undefined, { hint: 'res' }) };
  }
  let s = h0;
  for (const it of items.slice(split)) s = run(it, at(it), s);
  if (!same(s, h)) {
    throw new ExportError(`${pathText(steps)}: the shortcut from ${items[split]!.name} ends in [${s.width}, ${s.spatial!.join('×')}] but the block's main path in [${h.width}, ${h.spatial!.join('×')}]; the exporter cannot tell how this block is wired (docs/probes.md, "Data flow")`);
  }
  return { ...h, x: ctx.g.op('Add', [h.x!, s.x!], undefined, { hint: 'res' }) };
}
