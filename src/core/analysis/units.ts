// One unit per model. A sequence model's totals are per token; a model with a convolution over a
// declared input size (`Conv1d(…, length: N)`, `Conv2d(…, size: N)`) is per sample, because
// such a layer's FLOPs cover one whole input. A model holding both kinds — a token model
// (embeddings, attention, recurrent or position layers) with a per-sample convolution — would
// add one sample's convolution to one token's projections: the totals mean neither. Such a
// model is flagged (`npas-units-mixed`) at the per-sample layer, with the way out: a Conv1d
// without `length` runs over the token sequence and costs per token.

import type { LayerNode, ModelMember, ModuleNode } from '../model/module-tree.js';

/** Whether a layer only makes sense over a token sequence. */
function isTokenLayer(node: LayerNode): boolean {
  const c = node.cost;
  return c.attention !== undefined || c.recurrentState !== undefined || c.positionLimit !== undefined || c.weights.some((w) => w.role === 'embedding');
}

/** The first per-sample layer and the first token layer of a model, when it has both. */
export function mixedUnits(members: readonly ModelMember[]): { readonly perSample: LayerNode; readonly token: LayerNode } | undefined {
  let perSample: LayerNode | undefined;
  let token: LayerNode | undefined;
  const seen = new Set<number>();
  const visit = (n: ModuleNode): void => {
    if (seen.has(n.id)) return;
    seen.add(n.id);
    if (n.kind === 'layer') {
      if (n.cost.perSample) perSample ??= n;
      else if (isTokenLayer(n)) token ??= n;
    } else if (n.kind === 'block') for (const m of n.members) visit(m.node);
    else for (const r of n.runs) visit(r.node);
  };
  for (const m of members) visit(m.node);
  return perSample && token ? { perSample, token } : undefined;
}
