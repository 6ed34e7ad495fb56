// Builds one layer's cost from argument values (defaults filled in as the evaluator does),
// failing the test on any consistency problem. Shared by the layer test files.

import assert from 'node:assert/strict';
import type { ArgValue, LayerCost } from '../../../src/core/layers/layer-kind.js';
import { findLayerKind } from '../../../src/core/layers/registry.js';

export function buildLayer(kindName: string, given: Record<string, ArgValue>): LayerCost {
  const kind = findLayerKind(kindName);
  assert.ok(kind, `unknown layer kind ${kindName}`);
  const values = new Map<string, ArgValue>(kind.args.map((a) => [a.name, a.name in given ? given[a.name] : a.default]));
  const cost = kind.build(values, (arg, message) => assert.fail(`${String(arg)}: ${message}`));
  assert.ok(cost);
  return cost;
}
