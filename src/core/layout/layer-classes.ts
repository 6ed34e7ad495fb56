// What the architecture view tells apart: layers that attend (and keep a KV cache when causal),
// recurrent layers (a constant state instead), and expert banks. A layer's classes are read from
// the facts its layer kind's build returned (its attention geometry, its recurrent state, a bank
// of weights with fewer active than stored copies), never from its name, so a new layer kind is
// drawn in its class without touching the dashboard; the legend names the model's layer kinds in
// each class in the registry's order.

import type { LayerCost } from '../layers/layer-kind.js';

export type LayerClass = 'attention' | 'recurrent' | 'experts';

export interface LayerClassDoc {
  readonly id: LayerClass;
  /** The glyph drawn on a row holding such a layer, and in the legend. */
  readonly glyph: string;
  readonly name: string;
}

/** Every class, in the order rows and the legend show them. */
export const LAYER_CLASSES: readonly LayerClassDoc[] = [
  { id: 'attention', glyph: '▲', name: 'attention' },
  { id: 'recurrent', glyph: '■', name: 'recurrent state (no KV cache)' },
  { id: 'experts', glyph: '◆', name: 'mixture of experts' },
];

/** The classes one layer belongs to (an MoE layer with attention inside it would be both). */
export function layerClassesOf(cost: LayerCost): LayerClass[] {
  const out: LayerClass[] = [];
  if (cost.attention !== undefined) out.push('attention');
  if (cost.recurrentState !== undefined) out.push('recurrent');
  if (cost.weights.some((w) => w.copies > w.activeCopies)) out.push('experts');
  return out;
}

/** Classes in LAYER_CLASSES order. */
export function orderClasses(classes: Iterable<LayerClass>): LayerClass[] {
  const set = new Set(classes);
  return LAYER_CLASSES.filter((c) => set.has(c.id)).map((c) => c.id);
}
