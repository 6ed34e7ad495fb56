// LAuReL (src/core/layers/laurel.ts): x + norm(right(left(x))) on a [T, d] stream.

import type { LayerNode, PathStep } from '../engine-bridge.js';
import { storeFor, weightNamed, type EmitContext } from './context.js';
import { rmsNormLastAxis } from './norm.js';
import { projection } from './projection.js';

export function laurel(ctx: EmitContext, node: LayerNode, steps: readonly PathStep[], x: string): string {
  const low = projection(ctx, node, steps, projection(ctx, node, steps, x, 'left', undefined).y, 'right', undefined).y;
  const normed = rmsNormLastAxis(ctx, low, storeFor(ctx, node, steps, weightNamed(node, 'norm')!).name);
  return ctx.g.op('Add', [x, normed], undefined, { hint: 'laurel' });
}
