// The input image of a convolutional model, made on the device from the token ids, so the graph's
// input stays [batch, seq] int64 (docs/probes.md, "Data flow"). One image per sequence: the
// sequence's first token id t seeds it, value sin(0.37·t + j/N) at flat index j of the N = C·∏sides
// elements. The sides are the first convolution's declared input size (Conv2d `size` or
// `height`/`width`, Conv1d `length`; the engine's ConvInfo.inputSides): the size the engine counts
// the model's FLOPs at (a CNN's costs are per sample, so the sequence length plays no part).

import type { EmitContext, Hidden } from './context.js';
import { attr } from '../onnx-writer.js';

/** [B, channels, ...sides] made from the ids: see the file comment. */
export function image(ctx: EmitContext, channels: number, sides: readonly number[]): Hidden {
  const g = ctx.g;
  const n = channels * sides.reduce((a, b) => a * b, 1);
  // First token of every sequence: ids [B, S] → [B] → float [B, 1, …, 1].
  const first = g.op('Gather', [ctx.ids, g.ints([0], true)], { axis: attr.int(1) }, { hint: 'first_id' });
  const seed = g.op('Cast', [g.op('Unsqueeze', [first, g.ints(sides.map((_, i) => i + 1).concat([sides.length + 1]))])], { to: attr.int(g.floatType) }, { hint: 'seed' });
  // j/N for j = 0..N-1, built by Range (no N-element constant in the file).
  const j = g.op('Cast', [g.op('Range', [g.ints([0], true), g.ints([n], true), g.ints([1], true)])], { to: attr.int(g.floatType) });
  const offsets = g.op('Reshape', [g.op('Mul', [j, g.float(1 / n)]), g.ints([1, channels, ...sides])], undefined, { hint: 'pixel_offsets' });
  const x = g.op('Sin', [g.op('Add', [g.op('Mul', [seed, g.float(0.37)]), offsets])], undefined, { hint: 'image' });
  return { x, width: channels, spatial: sides };
}
