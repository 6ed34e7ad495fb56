// Elementwise activations: standard ops, plus com.microsoft Gelu/FastGelu (both modes) and
// QuickGelu for SiLU (fused ops), which the CPU and CUDA providers both implement. ORT 1.29 has
// no standalone gated-activation contrib op (SwiGLU exists only inside its MoE/QMoE kernels), so
// GatedMLP stays Mul(act(gate), up).

import { ExportError } from '../engine-bridge.js';
import type { EmitContext, Hidden } from './context.js';
import { attr } from '../onnx-writer.js';

export function activation(ctx: EmitContext, x: string, kind: string): string {
  const g = ctx.g;
  switch (kind) {
    case 'relu':
      return g.op('Relu', [x]);
    case 'gelu':
      return g.op('Gelu', [x], undefined, { domain: 'com.microsoft' });
    case 'gelu_tanh':
      return g.op('FastGelu', [x], undefined, { domain: 'com.microsoft' });
    case 'silu':
    case 'swish':
      return sigmoidGated(ctx, x, 1, 'silu');
    case 'quick_gelu':
      // CLIP's x·sigmoid(1.702·x).
      return sigmoidGated(ctx, x, 1.702, 'quick_gelu');
    case 'relu2': {
      // Squared ReLU (Primer; Nemotron-H's relu2): relu(x)².
      const r = g.op('Relu', [x]);
      return g.op('Mul', [r, r], undefined, { hint: 'relu2' });
    }
    case 'identity':
      // A LoRA-type bottleneck's missing nonlinearity: the input itself, no node.
      return x;
    case 'tanh':
      return g.op('Tanh', [x]);
    case 'sigmoid':
      return g.op('Sigmoid', [x]);
    case 'softmax':
      return g.op('Softmax', [x], { axis: attr.int(-1) });
    default:
      throw new ExportError(`activation '${kind}' is not supported by the ONNX exporter`);
  }
}

/**
 * x·sigmoid(alpha·x). Fused ops: com.microsoft QuickGelu, one kernel on CPU and CUDA (with alpha
 * 1 it is SiLU; ORT's optimiser makes the same fusion from Mul(x, Sigmoid(x))).
 */
function sigmoidGated(ctx: EmitContext, x: string, alpha: number, hint: string): string {
  const g = ctx.g;
  if (ctx.ops === 'fused') return g.op('QuickGelu', [x], { alpha: attr.float(alpha) }, { domain: 'com.microsoft', hint });
  const scaled = alpha === 1 ? x : g.op('Mul', [x, g.float(alpha)]);
  return g.op('Mul', [x, g.op('Sigmoid', [scaled])], undefined, { hint });
}

/**
 * GLU over the last axis (`Activation(glu)`, torch.nn.functional.glu): the first half of the
 * width times the sigmoid of the second, so the width halves (a Conformer's pointwise_conv1 of 2d
 * channels gives d).
 */
export function glu(ctx: EmitContext, h: Hidden, where: string): Hidden {
  const g = ctx.g;
  if (h.width % 2 !== 0) throw new ExportError(`${where}: GLU halves the width, and ${h.width} is odd`);
  const half = h.width / 2;
  const cols = (from: number, to: number) => g.op('Slice', [h.x!, g.ints([from]), g.ints([to]), g.ints([-1])]);
  return { ...h, x: g.op('Mul', [cols(0, half), g.op('Sigmoid', [cols(half, h.width)])], undefined, { hint: 'glu' }), width: half };
}
