// The dashboard's drawing of a supernet (`elastic …`): the size of its subnet space, its model-wide
// choices and its Pareto
// front of active parameters (more is better) against decode FLOPs (fewer is better), enumerated
// as `npas subnets --by flops.decode` does, with no filter. Measuring a supernet compiles its
// global choices' variants once (they size the space and are then measured) and its probe
// variants once, and walks its subnet classes; a space of more classes than the dashboard
// walks on every update says so, and `npas subnets` enumerates it.

import type { Compilation } from '../analysis/compilation.js';
import type { AnalysisOptions } from '../analysis/report-types.js';
import { describeSubnetClass, enumerateSubnets, spaceClasses, spaceSubnets } from '../supernet/enumerate.js';
import { analyzeSupernet, instanceChoices, supernetPoints } from '../supernet/supernet.js';
import { groupDigits } from '../text/number-format.js';
import type { SupernetData } from './types.js';

/** Subnet classes the dashboard walks per update (the bench walks 158,592 in under a second). */
export const DASHBOARD_SUBNET_CLASSES = 200_000;
/** Front points sent to the webview (the rest are counted). */
export const DASHBOARD_FRONT_POINTS = 500;

/** Undefined for a model without an `elastic` statement. */
export function supernetData(compilation: Compilation, modelName: string, settings: AnalysisOptions): SupernetData | undefined {
  const model = compilation.model(modelName);
  if (!model || !model.statements.some((s) => s.statement.keyword === 'elastic')) return undefined;
  const failed = (error: string): SupernetData => ({ subnets: null, classes: null, stored: null, globals: [], front: [], frontSize: 0, error });
  // Sized before it is measured: measuring compiles three probe variants per choice (at each point of the global choices).
  const read = supernetPoints(compilation, modelName);
  if ('error' in read) return failed(read.error);
  const globals = read.globals.map((g) => ({ name: g.name, values: g.values.map((v) => v.text) }));
  const stacksAt = read.points.map((pt) => pt.spaces.map((space) => ({ choices: instanceChoices(space).length, depths: space.depths })));
  const classes = stacksAt.reduce((sum, stacks) => sum + spaceClasses(stacks), 0n);
  if (classes > BigInt(DASHBOARD_SUBNET_CLASSES)) {
    const subnets = stacksAt.reduce((sum, stacks) => sum + spaceSubnets(stacks), 0n);
    return { subnets: String(subnets), classes: String(classes), stored: null, globals, front: [], frontSize: 0, error: `${groupDigits(classes)} subnet classes: more than the dashboard walks on each update (${groupDigits(DASHBOARD_SUBNET_CLASSES)}); npas subnets enumerates them` };
  }
  const analysed = analyzeSupernet(compilation, modelName, settings, read);
  if ('error' in analysed) return { ...failed(analysed.error), globals };
  const s = analysed.supernet;
  const base = { subnets: String(s.subnets), classes: String(classes), stored: String(s.stored), globals };
  const result = enumerateSubnets(s, { where: [], by: 'flops.decode', top: 0 });
  if ('error' in result) return { ...base, front: [], frontSize: 0, error: result.error };
  return {
    ...base,
    front: result.front.slice(0, DASHBOARD_FRONT_POINTS).map((c) => ({
      label: describeSubnetClass(s, c),
      subnets: String(c.subnets),
      active: String(c.params.active),
      stored: String(c.params.stored),
      decodeFlops: String(c.flops.decode),
    })),
    frontSize: result.front.length,
    error: null,
  };
}
