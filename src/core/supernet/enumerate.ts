// Enumerates a supernet's subnets under a budget filter: the feasible count, the best N by a
// metric, and the Pareto front (least of the metric for the most active parameters).
//
// A subnet's metrics are the rest of the model plus Σ its instances' (supernet.ts checked that
// they add), so subnets whose instances make the same choices in another order measure alike:
// the enumeration walks each depth's multisets of choices — C(d + K − 1, K − 1) classes instead
// of Kᵈ subnets — and counts the subnets of a class exactly, d! / ∏ nₖ!. Sums run in doubles,
// exact because every total is checked below 2⁵³ first; reported numbers are bigints.
// Model-wide choices (`elastic d: [64, 128]`) split the space into points, one per combination of
// their values, each with its own measured rest and instances: the walk runs once per point.

import * as Q from '../numbers/rational.js';
import { globalLabel, MEASURED, type Supernet, type SupernetPoint } from './supernet.js';

/** The metrics a filter, `--by` and the listing read. */
export const SUBNET_METRICS = [
  'params.stored',
  'params.effective',
  'params.active',
  'flops.prefill',
  'flops.prefill_total',
  'flops.decode',
  'kv',
  'state',
  'memory.weights',
  'memory.inference',
  'latency.prefill',
  'latency.decode',
] as const;
export type SubnetMetric = (typeof SUBNET_METRICS)[number];

export function isSubnetMetric(name: string): name is SubnetMetric {
  return (SUBNET_METRICS as readonly string[]).includes(name);
}

export type SubnetOp = '<=' | '<' | '>=' | '>' | '==';

/** `metric op limit`, the limit in the metric's unit (count, bytes or seconds). */
export interface SubnetConstraint {
  readonly metric: SubnetMetric;
  readonly op: SubnetOp;
  readonly limit: Q.Rational;
}

export interface SubnetQuery {
  readonly where: readonly SubnetConstraint[];
  /** The metric the listing and the front minimise. */
  readonly by: SubnetMetric;
  /** How many of the best subnets to list. */
  readonly top: number;
}

/** One elastic stack of a subnet: its depth and how many instances take each choice. */
export interface SubnetStack {
  readonly stack: string;
  readonly depth: number;
  /** Instances taking each choice (the stack's `choices` order); Σ = depth. */
  readonly counts: readonly number[];
}

/** A subnet up to the order of its instances' choices. */
export interface SubnetClass {
  /** The point of the global choices (`Supernet.points` index). */
  readonly point: number;
  /** Each global choice's value (`Supernet.globals` order; empty without global choices). */
  readonly globals: readonly string[];
  readonly stacks: readonly SubnetStack[];
  /** Subnets in the class: ∏ over the stacks of depth! / ∏ counts! orderings. */
  readonly subnets: bigint;
  readonly params: { readonly stored: bigint; readonly effective: bigint; readonly active: bigint };
  /** `prefillPerToken` as an exact decimal (3 places and … where it does not terminate), `prefill` the whole prefill's. */
  readonly flops: { readonly prefillPerToken: string; readonly prefill: bigint; readonly decode: bigint };
  readonly kvBytes: bigint;
  readonly stateBytes: bigint;
  readonly weightBytes: bigint;
  readonly inferenceBytes: bigint;
  readonly latency: { readonly prefill: number; readonly decode: number };
}

export interface SubnetEnumeration {
  /** Every subnet of the space. */
  readonly subnets: bigint;
  /** Classes walked (subnets up to order). */
  readonly classes: number;
  readonly feasibleSubnets: bigint;
  readonly feasibleClasses: number;
  /** The best `top` feasible classes by the query's metric (ties: more active parameters first). */
  readonly top: readonly SubnetClass[];
  /** The feasible classes no other feasible one beats on both the metric (less) and active parameters (more), by the metric ascending. */
  readonly front: readonly SubnetClass[];
}

/** Classes beyond this are refused: their enumeration would not finish in seconds. */
export const MAX_SUBNET_CLASSES = 20_000_000;

const TWO_53 = 2n ** 53n;

/** The classes a supernet has: Σ over its points of ∏ over their stacks of Σ over depths of C(d + K − 1, K − 1). */
export function subnetClasses(s: Supernet): bigint {
  return s.points.reduce((sum, pt) => sum + spaceClasses(pt.stacks.map((st) => ({ choices: st.choices.length, depths: st.space.depths }))), 0n);
}

/** The same from each stack's choice count K and depths, before anything is measured (one point). */
export function spaceClasses(stacks: readonly { readonly choices: number; readonly depths: readonly number[] }[]): bigint {
  return stacks.reduce((product, st) => {
    const K = BigInt(st.choices);
    return product * st.depths.reduce((sum, d) => sum + binomial(BigInt(d) + K - 1n, K - 1n), 0n);
  }, 1n);
}

/** The subnets of one point from each stack's choice count K and depths: ∏ over the stacks of Σ_d Kᵈ. */
export function spaceSubnets(stacks: readonly { readonly choices: number; readonly depths: readonly number[] }[]): bigint {
  return stacks.reduce((product, st) => product * st.depths.reduce((sum, d) => sum + BigInt(st.choices) ** BigInt(d), 0n), 1n);
}

/** Walks one point's classes, keeping the running sums, the depths and the choice counts of the class visited. */
interface PointWalker {
  walk(visit: () => void): void;
  /** The visited class's totals (MEASURED order). */
  total(): Float64Array;
  /** The visited class's subnets: ∏ over the stacks of d! / ∏ n_k!. */
  multinomial(): bigint;
  /** The visited class's stacks. */
  stacks(): SubnetStack[];
}

function pointWalker(pt: SupernetPoint, factorials: readonly bigint[]): PointWalker {
  const M = MEASURED.length;
  // Choice k of stack j is level offsets[j] + k of the walk; sums[l] holds the rest plus the instances of the levels before l.
  const offsets: number[] = [];
  let levels = 0;
  for (const st of pt.stacks) {
    offsets.push(levels);
    levels += st.choices.length;
  }
  const per = pt.stacks.flatMap((st) => st.perInstance.map((v) => v.map(Number)));
  const rest = pt.rest.map(Number);
  const counts = new Array<number>(levels).fill(0);
  const depths = new Array<number>(pt.stacks.length).fill(0);
  const sums = Array.from({ length: levels + 1 }, () => new Float64Array(M));
  const walk = (visit: () => void): void => {
    sums[0]!.set(rest);
    const stackStep = (j: number): void => {
      if (j === pt.stacks.length) {
        visit();
        return;
      }
      for (const d of pt.stacks[j]!.space.depths) {
        depths[j] = d;
        chooseStep(j, 0, d);
      }
    };
    const chooseStep = (j: number, k: number, left: number): void => {
      const level = offsets[j]! + k;
      const from = sums[level]!;
      const to = sums[level + 1]!;
      const v = per[level]!;
      if (k === pt.stacks[j]!.choices.length - 1) {
        counts[level] = left;
        for (let i = 0; i < M; i++) to[i] = from[i]! + left * v[i]!;
        stackStep(j + 1);
        return;
      }
      for (let n = 0; n <= left; n++) {
        counts[level] = n;
        for (let i = 0; i < M; i++) to[i] = from[i]! + n * v[i]!;
        chooseStep(j, k + 1, left - n);
      }
    };
    stackStep(0);
  };
  return {
    walk,
    total: () => sums[levels]!,
    multinomial: () =>
      pt.stacks.reduce((acc, st, j) => {
        let m = factorials[depths[j]!]!;
        for (let k = 0; k < st.choices.length; k++) m /= factorials[counts[offsets[j]! + k]!]!;
        return acc * m;
      }, 1n),
    stacks: () => pt.stacks.map((st, j) => ({ stack: st.space.stack, depth: depths[j]!, counts: counts.slice(offsets[j]!, offsets[j]! + st.choices.length) })),
  };
}

/** The query's answer, or an error naming why the space is not enumerated. */
export function enumerateSubnets(s: Supernet, q: SubnetQuery): SubnetEnumeration | { readonly error: string } {
  const classes = subnetClasses(s);
  if (classes > BigInt(MAX_SUBNET_CLASSES)) {
    return { error: `${s.model}'s supernet has ${classes} subnet classes (${s.subnets} subnets); at most ${MAX_SUBNET_CLASSES} are enumerated — list fewer depths, choices or global values` };
  }
  for (const pt of s.points) {
    const largest = pt.rest.map((r, i) => pt.stacks.reduce((sum, st) => sum + BigInt(st.space.depths[st.space.depths.length - 1]!) * st.perInstance.reduce((m, v) => (v[i]! > m ? v[i]! : m), 0n), r));
    const inference = largest[MEASURED.indexOf('memory.weights')]! + largest[MEASURED.indexOf('kv')]! + largest[MEASURED.indexOf('state')]!;
    const over = largest.findIndex((v) => v >= TWO_53);
    if (over >= 0 || inference >= TWO_53) {
      return { error: `${over >= 0 ? MEASURED[over] : 'memory.inference'} of ${s.model}'s largest subnet reaches 2⁵³; such supernets are not enumerated` };
    }
  }
  const prefillTokens = Q.toNumber(s.prefillTokens);
  const checks = q.where.map((c) => compiled(c, s));
  const byIndex = SUBNET_METRICS.indexOf(q.by);
  const values = new Float64Array(SUBNET_METRICS.length);
  const deepest = Math.max(0, ...s.points.flatMap((pt) => pt.stacks.map((st) => st.space.depths[st.space.depths.length - 1]!)));
  const factorials = factorialsUpTo(deepest);
  const walkers = s.points.map((pt) => pointWalker(pt, factorials));
  let walked = 0;

  const fill = (m: Float64Array): void => {
    values[0] = m[0]!;
    values[1] = m[1]!;
    values[2] = m[2]!;
    values[3] = m[3]! / prefillTokens;
    values[4] = m[3]!;
    values[5] = m[4]!;
    values[6] = m[5]!;
    values[7] = m[6]!;
    values[8] = m[7]!;
    values[9] = m[7]! + m[5]! + m[6]!;
    values[10] = s.roofline.estimate(m[8]!, m[9]!).seconds;
    values[11] = s.roofline.estimate(m[10]!, m[11]!).seconds;
  };
  const feasible = (): boolean => checks.every((c) => c(values));

  // Pass 1: the feasible classes' metric and active parameters, in walk order (point by point).
  const feasibleBy: number[] = [];
  const feasibleActive: number[] = [];
  let feasibleSubnets = 0n;
  for (const w of walkers) {
    w.walk(() => {
      walked++;
      const m = w.total();
      fill(m);
      if (!feasible()) return;
      feasibleBy.push(values[byIndex]!);
      feasibleActive.push(m[2]!);
      feasibleSubnets += w.multinomial();
    });
  }

  // The best `top` and the front, as indices into the feasible classes.
  const order = feasibleBy.map((_, i) => i).sort((a, b) => feasibleBy[a]! - feasibleBy[b]! || feasibleActive[b]! - feasibleActive[a]! || a - b);
  const topIdx = order.slice(0, Math.max(0, q.top));
  const frontIdx: number[] = [];
  let best = -Infinity;
  for (const i of order) {
    if (feasibleActive[i]! > best) {
      frontIdx.push(i);
      best = feasibleActive[i]!;
    }
  }
  const wanted = new Set([...topIdx, ...frontIdx]);
  const found = new Map<number, SubnetClass>();
  // Pass 2: materialise the wanted classes with exact numbers.
  let index = 0;
  if (wanted.size > 0) {
    walkers.forEach((w, p) =>
      w.walk(() => {
        fill(w.total());
        if (!feasible()) return;
        const i = index++;
        if (wanted.has(i)) found.set(i, exactClass(s, p, w.stacks(), w.multinomial()));
      }),
    );
  }
  return {
    subnets: s.subnets,
    classes: walked,
    feasibleSubnets,
    feasibleClasses: feasibleBy.length,
    top: topIdx.map((i) => found.get(i)!),
    front: frontIdx.map((i) => found.get(i)!),
  };
}

/** A class's numbers from the measured bigints (never the doubles the walk summed); `point` indexes `s.points`. */
export function exactClass(s: Supernet, point: number, stacks: readonly SubnetStack[], subnets: bigint): SubnetClass {
  const pt = s.points[point]!;
  const total: bigint[] = [...pt.rest];
  stacks.forEach((st, j) => st.counts.forEach((n, k) => pt.stacks[j]!.perInstance[k]!.forEach((v, i) => (total[i] = total[i]! + BigInt(n) * v))));
  const at = (name: (typeof MEASURED)[number]): bigint => total[MEASURED.indexOf(name)]!;
  return {
    point,
    globals: pt.values,
    stacks,
    subnets,
    params: { stored: at('params.stored'), effective: at('params.effective'), active: at('params.active') },
    flops: { prefillPerToken: Q.toExactDecimalString(Q.div(Q.fromBigInt(at('flops.prefill_total')), s.prefillTokens), 3), prefill: at('flops.prefill_total'), decode: at('flops.decode') },
    kvBytes: at('kv'),
    stateBytes: at('state'),
    weightBytes: at('memory.weights'),
    inferenceBytes: at('memory.weights') + at('kv') + at('state'),
    latency: {
      prefill: s.roofline.estimate(Number(at('latency.prefill.flops')), Number(at('latency.prefill.bytes'))).seconds,
      decode: s.roofline.estimate(Number(at('latency.decode.flops')), Number(at('latency.decode.bytes'))).seconds,
    },
  };
}

/** `d: 64; body depth 8: expand: 2, heads: 4 ×5 + expand: 4, heads: 4 ×3`: the global values, then each elastic stack (`; ` between). */
export function describeSubnetClass(s: Supernet, c: SubnetClass): string {
  const pt = s.points[c.point]!;
  const stacks = c.stacks.map((st, j) => {
    const parts = st.counts.flatMap((n, k) => (n > 0 ? [`${pt.stacks[j]!.choices[k]!.label} ×${n}`] : []));
    return `${st.stack} depth ${st.depth}: ${parts.join(' + ')}`;
  });
  return [...(s.globals.length > 0 ? [globalLabel(s.globals, c.globals)] : []), ...stacks].join('; ');
}

/** The variant text of one class: each global choice overridden (`d = 64`), each elastic stack written as runs of each choice. */
export function subnetVariant(s: Supernet, c: SubnetClass, name: string): string {
  const pt = s.points[c.point]!;
  const globals = s.globals.map((g, i) => `  ${g.name} = ${c.globals[i]!}\n`);
  const lines = c.stacks.map((st, j) => {
    const runs = st.counts.flatMap((n, k) => (n > 0 ? [`${pt.stacks[j]!.choices[k]!.call} * ${n}`] : []));
    return `  ${st.stack} = ${runs.join(' + ')}\n`;
  });
  return `variant ${name} of ${s.model} {\n${globals.join('')}${lines.join('')}}\n`;
}

/** A metric of a class: counts and bytes exact, FLOPs per token an exact decimal, latencies in seconds. */
export function classMetric(c: SubnetClass, metric: SubnetMetric): bigint | number | string {
  switch (metric) {
    case 'params.stored':
      return c.params.stored;
    case 'params.effective':
      return c.params.effective;
    case 'params.active':
      return c.params.active;
    case 'flops.prefill':
      return c.flops.prefillPerToken;
    case 'flops.prefill_total':
      return c.flops.prefill;
    case 'flops.decode':
      return c.flops.decode;
    case 'kv':
      return c.kvBytes;
    case 'state':
      return c.stateBytes;
    case 'memory.weights':
      return c.weightBytes;
    case 'memory.inference':
      return c.inferenceBytes;
    case 'latency.prefill':
      return c.latency.prefill;
    case 'latency.decode':
      return c.latency.decode;
  }
}

/**
 * A constraint as a test on the walk's doubles. Counts and bytes are integers below 2⁵³, so the
 * test compares them with the limit rounded the right way (v ≤ L ⇔ v ≤ ⌊L⌋), exactly; flops.prefill
 * is compared as its total against the limit × tokens; latencies are floating point anyway.
 */
function compiled(c: SubnetConstraint, s: Supernet): (values: Float64Array) => boolean {
  const i = SUBNET_METRICS.indexOf(c.metric);
  if (c.metric === 'latency.prefill' || c.metric === 'latency.decode') {
    const limit = Q.toNumber(c.limit);
    return (v) => compareNumbers(v[i]!, c.op, limit);
  }
  const [index, limit] = c.metric === 'flops.prefill' ? [SUBNET_METRICS.indexOf('flops.prefill_total'), Q.mul(c.limit, s.prefillTokens)] : [i, c.limit];
  const floor = Q.floor(limit);
  const ceil = Q.ceil(limit);
  const clamp = (b: bigint): number => (b > TWO_53 ? Infinity : b < -TWO_53 ? -Infinity : Number(b));
  const [lo, hi] =
    c.op === '<=' ? [-Infinity, clamp(floor)] : c.op === '<' ? [-Infinity, clamp(ceil - 1n)] : c.op === '>=' ? [clamp(ceil), Infinity] : c.op === '>' ? [clamp(floor + 1n), Infinity] : Q.isInteger(limit) ? [clamp(floor), clamp(floor)] : [Infinity, -Infinity];
  return (v) => v[index]! >= lo && v[index]! <= hi;
}

function compareNumbers(a: number, op: SubnetOp, b: number): boolean {
  return op === '<=' ? a <= b : op === '<' ? a < b : op === '>=' ? a >= b : op === '>' ? a > b : a === b;
}

function binomial(n: bigint, k: bigint): bigint {
  let r = 1n;
  for (let i = 1n; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

function factorialsUpTo(n: number): bigint[] {
  const out = [1n];
  for (let i = 1; i <= n; i++) out.push(out[i - 1]! * BigInt(i));
  return out;
}
