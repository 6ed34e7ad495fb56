// Convolutions over sequences (Conv1d) and images (Conv2d), as torch.nn.Conv1d/Conv2d with a
// square kernel. Their cost depends on the input size, so FLOPs and saved activations are per
// sample (`perSample`), not per token.

import { BOOL, COUNT, DIM, named, optional, positional, readArgs } from './arg-specs.js';
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

function buildConv(call: ConvCall, report: ArgProblemReporter): LayerCost | undefined {
  const { cIn, cOut, kernel, groups } = call;
  if (cIn % groups !== 0 || cOut % groups !== 0) {
    report('groups', `groups (${groups}) must divide both c_in (${cIn}) and c_out (${cOut})`);
    return undefined;
  }
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
  const kernelShape = call.sides.map(() => kernel);
  const weights: WeightSpec[] = [
    { name: 'weight', shape: [cOut, cIn / groups, ...kernelShape], role: 'conv', copies: 1, activeCopies: 1 },
  ];
  if (call.bias) weights.push(biasWeight('bias', cOut));
  if (!checkShapesExact(weights, report)) return undefined;
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

const CONV1D_ARGS: readonly ArgSpec[] = [...commonArgs(), named('length', DIM, 'Input length in positions.')];

export const CONV1D: LayerKind = {
  name: 'Conv1d',
  doc:
    'A 1-D convolution over an input of `length` positions: weight [c_out, c_in/groups, kernel] (+ bias [c_out]); ' +
    'FLOPs and saved activations are per sample.',
  args: CONV1D_ARGS,
  build(values, report) {
    const a = readArgs(CONV1D_ARGS, values);
    return buildConv({ ...convArgs(a), sides: [{ arg: 'length', length: a.number('length') }] }, report);
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
