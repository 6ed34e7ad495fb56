// Layers without parameters: activations, dropout, identity, pooling and flatten. They hold no
// weights and their elementwise or reduction work is not counted as FLOPs. None takes a width, so
// none reports saved activations; the neighbouring weight layers save their own inputs.

import { ACTIVATIONS, DIM, RATIO, oneOf, optional, positional, readArgs } from './arg-specs.js';
import type { ArgSpec, LayerCost, LayerKind } from './layer-kind.js';
import { denseCost } from './weight-specs.js';

const FREE: LayerCost = denseCost([], 0n, 0n);

function parameterFree(name: string, doc: string, args: readonly ArgSpec[]): LayerKind {
  return { name, doc, args, build: () => FREE };
}

export const ACTIVATION = parameterFree('Activation', 'An activation function applied elementwise; no parameters.', [
  positional('kind', oneOf([...ACTIVATIONS, 'softmax', 'glu']), 'The function; glu (torch.nn.functional.glu over the last axis) multiplies the first half of the width by the sigmoid of the second, halving it (a Conformer\'s convolution module).'),
]);

const DROPOUT_ARGS = [
  optional('p', RATIO, 'Drop probability, at most 1.', { positional: true }),
  optional('d', DIM, 'Width of the tensor dropped: training saves its mask, one byte per element per token.'),
];

export const DROPOUT: LayerKind = {
  name: 'Dropout',
  doc: 'Dropout with probability p; no parameters, and the identity at inference. With its width d, training memory counts the saved mask (d bytes per token).',
  args: DROPOUT_ARGS,
  build(values, report) {
    const a = readArgs(DROPOUT_ARGS, values);
    const p = a.optionalRatio('p');
    if (p !== undefined && p.num > p.den) {
      report('p', `p (${p.num}/${p.den}) is a probability and must be at most 1`);
      return undefined;
    }
    const d = a.optionalNumber('d');
    return d === undefined ? FREE : { ...FREE, maskElementsPerToken: BigInt(d) };
  },
};

export const IDENTITY = parameterFree('Identity', 'Passes its input through unchanged.', []);

const POOL_ARGS = [
  positional('kind', oneOf(['max', 'avg']), 'Max or average pooling.'),
  optional('kernel', DIM, 'Window side.'),
  optional('stride', DIM, 'Step between windows. Default: kernel.'),
];

export const POOL: LayerKind = {
  name: 'Pool',
  doc: 'Max or average pooling over windows of kernel (square); no parameters.',
  args: POOL_ARGS,
  build(values, report) {
    const a = readArgs(POOL_ARGS, values);
    const stride = a.optionalNumber('stride');
    // The stride defaults to the kernel (as torch.nn.MaxPool2d), never the other way round.
    if (stride !== undefined && a.optionalNumber('kernel') === undefined) {
      report('stride', `stride (${stride}) is given without kernel; give the window size too`);
      return undefined;
    }
    return FREE;
  },
};

export const GLOBAL_POOL = parameterFree(
  'GlobalPool',
  'Pools each channel over all positions to one value (ResNet head); no parameters.',
  [optional('kind', oneOf(['avg', 'max']), 'Average or max pooling.', { default: 'avg', positional: true })],
);

export const FLATTEN = parameterFree('Flatten', 'Flattens the feature map into a vector; no parameters.', []);
