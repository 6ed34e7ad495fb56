// A Conv1d over the token sequence (`Conv1d(c_in, c_out, kernel, …)` without `length`;
// docs/layers.md, "Conv1d"): causal, one output per token, as the engine counts it — each sequence
// padded with dilation·(kernel − 1) zeros before its first token, the convolution cut to the
// sequence (Mamba's depthwise conv, a Conformer's depthwise conv written causally). A decode step
// convolves the carried state, the last dilation·(kernel − 1) + 1 inputs per channel (the
// engine's recurrent state of the layer, c_in·(dilation·(kernel − 1) + 1) elements), as a graph
// input `state.<path>.conv` and output `next_state.<path>.conv` (recurrent-step.ts).

import { ExportError, pathText, type LayerNode, type PathStep } from '../engine-bridge.js';
import { numberArg, reshape, storeFor, toBatchSeq, weightNamed, type EmitContext, type Hidden } from './context.js';
import { convWindow } from './recurrent-step.js';
import { attr } from '../onnx-writer.js';

export function tokenConv1d(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], h: Hidden): Hidden {
  const g = ctx.g;
  const where = pathText(steps);
  const cIn = numberArg(node, 'c_in');
  if (h.width !== cIn) throw new ExportError(`${where}: Conv1d reads ${cIn} channels but the layers before it produce ${h.width}`);
  const w = weightNamed(node, 'weight')!;
  const [cOut, perGroup, K] = w.shape as [number, number, number];
  const groups = cIn / perGroup;
  const dilation = typeof node.args.get('dilation') === 'number' ? (node.args.get('dilation') as number) : 1;
  const span = dilation * (K - 1) + 1;
  const b = weightNamed(node, 'bias');
  const stores = [storeFor(ctx, node, steps, w).name, ...(b ? [storeFor(ctx, node, steps, b).name] : [])];
  const perm = (t: string, p: number[]) => g.op('Transpose', [t], { perm: attr.ints(p) });
  const conv = (x: string, pad: number) =>
    g.op('Conv', [x, ...stores], {
      kernel_shape: attr.ints([K]),
      pads: attr.ints([pad, 0]),
      dilations: attr.ints([dilation]),
      group: attr.int(groups),
    }, { hint: 'token_conv' });
  if (ctx.decode) {
    // [B, c_in, span]: the oldest column dropped, the new input appended, convolved unpadded to one output.
    return { x: reshape(ctx, conv(convWindow(ctx, steps, h.x!, cIn, span), 0), [-1, cOut]), width: cOut };
  }
  const y = conv(perm(toBatchSeq(ctx, h.x!, [cIn]), [0, 2, 1]), span - 1); // [B, c_out, S]
  return { x: reshape(ctx, perm(y, [0, 2, 1]), [-1, cOut]), width: cOut };
}
