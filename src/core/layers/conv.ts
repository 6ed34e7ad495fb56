// Convolutions over sequences (Conv1d) and images (Conv2d), as torch.nn.Conv1d/Conv2d with a
// square kernel. Over a declared input size (`length`, `size`) the cost depends on that size, so
// FLOPs and saved activations are per sample (`perSample`). A Conv1d without `length` runs over
// the token sequence itself (Mamba's depthwise causal convolution, a token model's local mixer):
// one output per token, so its FLOPs and activations are per token like a Linear's.

import { BOOL, COUNT, DIM, optional, positional, readArgs } from './arg-specs.js';
import type { ArgProblemReporter, ArgSpec, ConvInfo, LayerCost, LayerKind, WeightSpec } from './layer-kind.js';
import { biasWeight, checkShapesExact } from './weight-specs.js';

function commonArgs(): ArgSpec[] {
  return [
    positional('c_in', DIM, 'Input channels.'),
    positional('c_out', DIM, 'Output channels.'),
    positional('kernel', DIM, 'Kernel side (square kernels only).'),
    optional('stride', DIM, 'Step between output positions.', { default: 1 }),
    optional('padding', COUNT, 'Zeros added on each side of each spatial dimension.', { default: 0 }),
    optional('dilation', DIM, 'Spacing between kernel taps.', { default: 1 }),
    optional('groups', DIM, 'Channel groups; must divide c_in and c_out (c_in = groups: depthwise).', { default: 1 }),
    optional('bias', BOOL, 'Adds a bias of c_out elements.', { default: true }),
  ];
}

/** One spatial dimension of the input: its length and the argument that gave it. */
interface Side {
  readonly arg: string;
  readonly length: number;
}

/** A call as written: the geometry the cost carries (ConvInfo) before its sides are resolved, plus bias. */
interface ConvCall extends Omit<ConvInfo, 'inputSides' | 'outputSides'> {
  readonly bias: boolean;
  readonly sides: readonly Side[];
}

/** Output length of one dimension, as the torch.nn.Conv1d/Conv2d documentation gives it. */
function outputLength(call: ConvCall, n: number): number {
  return Math.floor((n + 2 * call.padding - call.dilation * (call.kernel - 1) - 1) / call.stride) + 1;
}

/** The arguments Conv1d and Conv2d share, read from their checked values. */
function convArgs(a: ReturnType<typeof readArgs>): Omit<ConvCall, 'sides'> {
  return {
    cIn: a.number('c_in'),
    cOut: a.number('c_out'),
    kernel: a.number('kernel'),
    stride: a.number('stride'),
    padding: a.number('padding'),
    dilation: a.number('dilation'),
    groups: a.number('groups'),
    bias: a.bool('bias'),
  };
}

/** The kernel [c_out, c_in/groups, kernel^dims] and bias, or undefined (reported) when groups do not divide. */
function convWeights(call: Omit<ConvCall, 'sides'>, dims: number, report: ArgProblemReporter): WeightSpec[] | undefined {
  const { cIn, cOut, kernel, groups } = call;
  if (cIn % groups !== 0 || cOut % groups !== 0) {
    report('groups', `groups (${groups}) must divide both c_in (${cIn}) and c_out (${cOut})`);
    return undefined;
  }
  const weights: WeightSpec[] = [{ name: 'weight', shape: [cOut, cIn / groups, ...Array<number>(dims).fill(kernel)], role: 'conv', copies: 1, activeCopies: 1 }];
  if (call.bias) weights.push(biasWeight('bias', cOut));
  return checkShapesExact(weights, report) ? weights : undefined;
}

function buildConv(call: ConvCall, report: ArgProblemReporter): LayerCost | undefined {
  const { cIn, cOut, kernel, groups } = call;
  const weights = convWeights(call, call.sides.length, report);
  if (!weights) return undefined;
  let outputPositions = 1n;
  let inputPositions = 1n;
  const outputSides: number[] = [];
  for (const side of call.sides) {
    const out = outputLength(call, side.length);
    if (out < 1) {
      const span = call.dilation * (kernel - 1) + 1;
      report(
        side.arg,
        `${side.arg} (${side.length}) plus padding 2·${call.padding} is shorter than the kernel's span ` +
          `${span} (kernel ${kernel}, dilation ${call.dilation}), so the output would be empty`,
      );
      return undefined;
    }
    outputPositions *= BigInt(out);
    inputPositions *= BigInt(side.length);
    outputSides.push(out);
  }
  // Each output element of each output channel is a dot product over (c_in/groups)·k^n taps;
  // bias adds are elementwise and not counted.
  const taps = BigInt(cIn / groups) * BigInt(kernel) ** BigInt(call.sides.length);
  return {
    weights,
    flopsPerToken: 2n * taps * BigInt(cOut) * outputPositions,
    kvProjectionFlopsPerToken: 0n,
    attention: undefined,
    // Backward needs the input feature map to form the kernel gradient.
    activationElementsPerToken: BigInt(cIn) * inputPositions,
    perSample: true,
    conv: { cIn, cOut, kernel, stride: call.stride, padding: call.padding, dilation: call.dilation, groups, inputSides: call.sides.map((s) => s.length), outputSides },
  };
}

const CONV1D_ARGS: readonly ArgSpec[] = [
  ...commonArgs(),
  optional('length', DIM, 'Input length in positions: a per-sample convolution. Without it the convolution runs over the token sequence, one output per token (per-token costs).'),
];

/**
 * A Conv1d over the token sequence: causal, one output per token (left padding of
 * dilation·(kernel − 1), as Mamba's `Conv1d(padding: kernel − 1)` cut to the sequence length).
 * Per token: 2·(c_in/groups)·kernel·c_out FLOPs, c_in saved input elements; per sequence a
 * decode state of the last dilation·(kernel − 1) + 1 inputs.
 */
function buildSequenceConv(call: Omit<ConvCall, 'sides'>, report: ArgProblemReporter): LayerCost | undefined {
  const { cIn, cOut, kernel, groups, dilation } = call;
  if (call.stride !== 1) {
    report('stride', `a convolution over the token sequence (no length) keeps one output per token, so stride must be 1 (it is ${call.stride}); give length for a per-sample convolution`);
    return undefined;
  }
  const causal = dilation * (kernel - 1);
  if (call.padding !== 0 && call.padding !== causal) {
    report('padding', `a convolution over the token sequence (no length) pads causally, dilation·(kernel − 1) = ${causal} positions before the first token; padding ${call.padding} would change the number of outputs per token (write ${causal} or leave it out, or give length for a per-sample convolution)`);
    return undefined;
  }
  const weights = convWeights(call, 1, report);
  if (!weights) return undefined;
  return {
    weights,
    flopsPerToken: 2n * BigInt(cIn / groups) * BigInt(kernel) * BigInt(cOut),
    kvProjectionFlopsPerToken: 0n,
    attention: undefined,
    activationElementsPerToken: BigInt(cIn),
    perSample: false,
    // A decode step convolves the new token with the inputs before it: each sequence keeps the
    // last dilation·(kernel − 1) + 1 inputs per channel (the window, as Mamba's conv state).
    recurrentState: { elements: BigInt(cIn) * BigInt(causal + 1), bits: undefined },
  };
}

export const CONV1D: LayerKind = {
  name: 'Conv1d',
  doc:
    'A 1-D convolution: weight [c_out, c_in/groups, kernel] (+ bias [c_out]). With `length`, over an input of that many ' +
    'positions, FLOPs and saved activations per sample; without, causal over the token sequence, per token.',
  args: CONV1D_ARGS,
  build(values, report) {
    const a = readArgs(CONV1D_ARGS, values);
    const length = a.optionalNumber('length');
    if (length === undefined) return buildSequenceConv(convArgs(a), report);
    return buildConv({ ...convArgs(a), sides: [{ arg: 'length', length }] }, report);
  },
};

const CONV2D_ARGS: readonly ArgSpec[] = [
  ...commonArgs(),
  optional('size', DIM, 'Side of a square input; or give height and width.'),
  optional('height', DIM, 'Input height, with width, for a non-square input.'),
  optional('width', DIM, 'Input width, with height, for a non-square input.'),
];

export const CONV2D: LayerKind = {
  name: 'Conv2d',
  doc:
    'A 2-D convolution with a square kernel over a size×size (or height×width) input: ' +
    'weight [c_out, c_in/groups, kernel, kernel] (+ bias [c_out]); FLOPs and saved activations are per sample.',
  args: CONV2D_ARGS,
  build(values, report) {
    const a = readArgs(CONV2D_ARGS, values);
    const size = a.optionalNumber('size');
    const height = a.optionalNumber('height');
    const width = a.optionalNumber('width');
    let sides: Side[];
    if (size !== undefined) {
      if (height !== undefined || width !== undefined) {
        report('size', `give either size (${size}) or height and width, not both`);
        return undefined;
      }
      sides = [
        { arg: 'size', length: size },
        { arg: 'size', length: size },
      ];
    } else if (height === undefined && width === undefined) {
      // Nothing to point at: the call as a whole lacks its input size.
      report(undefined, 'Conv2d needs the input size: give size, or both height and width');
      return undefined;
    } else if (height === undefined || width === undefined) {
      const missing = height === undefined ? 'height' : 'width';
      const given = height === undefined ? `width (${String(width)})` : `height (${String(height)})`;
      report(missing, `${given} is given without ${missing}; give both, or size for a square input`);
      return undefined;
    } else {
      sides = [
        { arg: 'height', length: height },
        { arg: 'width', length: width },
      ];
    }
    return buildConv({ ...convArgs(a), sides }, report);
  },
};
