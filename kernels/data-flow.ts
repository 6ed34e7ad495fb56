// The exporter's data flow: how the members of a spec wire on the [T, width] hidden state
// (the language declares modules, not wiring; docs/probes.md, "Data flow", states the convention).
// Members run in order; inside a sequence, a norm followed by Attention/MLP/GatedMLP is a
// pre-norm residual branch (x + f(norm(x))), Attention/MLP followed by a norm is post-norm
// (norm(x + f(x))), a bare Attention/MLP is residual; everything else is applied in sequence.

import type { BlockMember, ModuleNode, PathStep } from './engine-bridge.js';
import { convBlock } from './layers/conv-block.js';
import { moeutLayer, switchHeadSpan } from './layers/switch-head.js';
import { emitLayer, type EmitContext, type Hidden, type TieTarget } from './layers/emit.js';
import { residualAdd } from './layers/residual.js';

const TRANSFORMS = new Set(['Attention', 'MLA', 'MLP', 'GatedMLP', 'MoE']);
const NORMS = new Set(['LayerNorm', 'RMSNorm']);

export interface Item {
  readonly name: string;
  readonly node: ModuleNode;
  readonly tie: TieTarget | undefined;
}

export class Exporter {
  maxSeq: number | undefined;
  inputVocab = 1;

  constructor(private readonly ctx: EmitContext) {}

  sequence(items: readonly Item[], parent: readonly PathStep[], h: Hidden): Hidden {
    let i = 0;
    let prevWasNorm = false;
    while (i < items.length) {
      const it = items[i]!;
      const next = items[i + 1];
      const steps = [...parent, { kind: 'name' as const, name: it.name }];
      const isNorm = (x: Item | undefined) => x?.node.kind === 'layer' && NORMS.has(x.node.layerKind);
      const isTransform = (x: Item | undefined) => x?.node.kind === 'layer' && TRANSFORMS.has(x.node.layerKind);
      // MoEUT's SwitchHead (+ σ-MoE), composed of generic layers: a narrow rule (layers/switch-head.ts).
      const moeut = h.x !== undefined ? switchHeadSpan(items, i) : undefined;
      if (moeut) {
        h = moeutLayer(this.ctx, moeut, items, parent, h, (j, x) => this.module(items[j]!, [...parent, { kind: 'name', name: items[j]!.name }], x));
        i += moeut.length;
        prevWasNorm = false;
        continue;
      }
      if (h.x !== undefined && isNorm(it) && isTransform(next)) {
        const normed = this.module(it, steps, h);
        const f = this.module(next!, [...parent, { kind: 'name', name: next!.name }], normed);
        h = f.width === h.width ? { x: residualAdd(this.ctx, h.x, f.x!), width: h.width } : f;
        i += 2;
        prevWasNorm = false;
        continue;
      }
      if (h.x !== undefined && isTransform(it) && isNorm(next) && !prevWasNorm) {
        const f = this.module(it, steps, h);
        const sum = f.width === h.width ? { x: residualAdd(this.ctx, h.x, f.x!), width: h.width } : f;
        h = this.module(next!, [...parent, { kind: 'name', name: next!.name }], sum);
        i += 2;
        prevWasNorm = true;
        continue;
      }
      if (h.x !== undefined && isTransform(it)) {
        const f = this.module(it, steps, h);
        h = f.width === h.width ? { x: residualAdd(this.ctx, h.x, f.x!), width: h.width } : f;
      } else {
        h = this.module(it, steps, h);
      }
      prevWasNorm = isNorm(it);
      i++;
    }
    return h;
  }

  module(item: Item, steps: readonly PathStep[], h: Hidden): Hidden {
    const node = item.node;
    switch (node.kind) {
      case 'layer':
        if (node.layerKind === 'PositionEmbedding') {
          const rows = node.cost.weights[0]!.shape[0]!;
          this.maxSeq = Math.min(this.maxSeq ?? rows, rows);
        }
        if (node.layerKind === 'Embedding' && h.x === undefined) this.inputVocab = node.cost.weights[0]!.shape[0]!;
        if ((node.layerKind === 'Linear' || node.layerKind === 'Conv1d' || node.layerKind === 'Conv2d') && h.x === undefined) this.inputVocab = 1024; // ids only seed the input features or image
        return emitLayer(this.ctx, node, steps, h, item.tie);
      case 'block': {
        const items = node.members.map((m: BlockMember) => ({ name: m.name, node: m.node, tie: m.tiedTo ? { steps: [...steps, { kind: 'name' as const, name: m.tiedTo }], weight: undefined } : undefined }));
        // A block on a feature map (ResNet/WRN): residual and projection shortcuts read from the
        // shapes (layers/conv-block.ts); undefined when that convention does not apply.
        const wired = convBlock(this.ctx, items, steps, h, (it, at, x) => this.module(it as Item, at, x));
        return wired ?? this.sequence(items, steps, h);
      }
      case 'stack': {
        let index = 0;
        for (const run of node.runs) {
          for (let c = 0; c < run.count; c++, index++) {
            const inst = [...steps, { kind: 'index' as const, index }];
            h = this.module({ name: '', node: run.node, tie: undefined }, inst, h);
          }
        }
        return h;
      }
    }
  }
}
