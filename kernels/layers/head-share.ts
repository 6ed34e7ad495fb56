// Head-wise sharing (`share heads PATH: pairs(n)`, Head-wise Shareable Attention / DirectShare):
// n query/key head slices of the attention layers under PATH reuse another layer's head, so the
// engine stores n·head_dim·(d_q + d_k) fewer parameters (+ d_v + d_o with qkvo). The engine records
// only the count; the exporter fixes which heads: the n sharing heads are taken layer by layer,
// heads 0, 1, … of instance 1, then of instance 2, …, and each reads the same head of instance 0.
// A layer whose first r heads are shared stores its own heads r..H−1 as one initializer
// (`<store>.q.heads[r:H]`), and its projection weight is Concat(rows 0..r·hd of instance 0's
// weight, its own) — columns for W_o — which ORT folds once at session creation. A layer with all
// heads shared reads instance 0's initializer itself. So initializer elements stay params.stored.

import { ExportError, pathText, storePath, type HeadSharePlan, type LayerNode, type LoadedModel, type PathStep, type WeightSpec } from '../engine-bridge.js';
import type { GraphBuilder, StoredWeight } from '../graph-builder.js';
import { attr } from '../onnx-writer.js';

interface Slot {
  readonly plan: HeadSharePlan;
  readonly instance: number;
}

const slotsByModel = new WeakMap<LoadedModel, Map<string, Slot>>();

function slotOf(model: LoadedModel, steps: readonly PathStep[]): Slot | undefined {
  let m = slotsByModel.get(model);
  if (!m) {
    m = new Map();
    for (const plan of model.headShares) {
      const stores = new Set<string>();
      plan.layers.forEach((layer, instance) => {
        const store = storePath(model, layer);
        // Instances sharing one store (`share body: …`) would each drop different heads of it.
        if (stores.has(store)) throw new ExportError(`share heads over ${pathText(layer)}: its instances share stores (share/tie), which the ONNX exporter does not combine with head-wise sharing`);
        stores.add(store);
        m!.set(pathText(layer), { plan, instance });
      });
    }
    slotsByModel.set(model, m);
  }
  return m.get(pathText(steps));
}

/**
 * The weight `w` of the attention layer `node` at `steps` under head-wise sharing, or undefined
 * when it is stored whole (not a shared projection, or no head of this layer is shared).
 */
export function headSharedWeight(g: GraphBuilder, model: LoadedModel, node: LayerNode, steps: readonly PathStep[], w: WeightSpec, key: string, scale: number, offset: number): StoredWeight | undefined {
  const slot = slotOf(model, steps);
  const heads = node.cost.attention?.headProjections;
  if (!slot || slot.instance === 0 || !node.cost.attention || !heads) return undefined;
  const { plan, instance } = slot;
  // The layer kind names its head projections; W_o's heads are blocks of columns ([d, H·hd]).
  if (!(w.name === heads.query || w.name === heads.key || (plan.qkvo && (w.name === heads.value || w.name === heads.output)))) return undefined;
  const H = node.cost.attention.queryHeads;
  const columns = w.name === heads.output;
  const perHead = (columns ? w.shape[1]! : w.shape[0]!) / H;
  const shared = Math.max(0, Math.min(H, plan.heads - (instance - 1) * H));
  if (shared === 0) return undefined;
  const source = g.weight(`${storePath(model, plan.layers[0]!)}.${w.name}`, w.shape, scale, offset);
  if (shared === H) return source;
  const axis = columns ? 1 : 0;
  const ownShape = columns ? [w.shape[0]!, (H - shared) * perHead] : [(H - shared) * perHead, w.shape[1]!];
  const own = g.weight(`${key}.heads[${shared}:${H}]`, ownShape, scale, offset);
  const borrowed = g.op('Slice', [source.name, g.ints([0]), g.ints([shared * perHead]), g.ints([axis])], undefined, { hint: `${w.name}_shared_heads` });
  return { name: g.op('Concat', [borrowed, own.name], { axis: attr.int(axis) }, { hint: `${w.name}_heads` }), shape: w.shape };
}
