// The model as a pipeline sees it: top-level members in order, each stack split into its
// instances (the units pipeline stages are cut from), with the stores each instance reads, so a
// stage knows which shared stores it must hold. Everything comes from the engine's report and
// the resolved sharing (shared-stores.ts); nothing is re-counted here.

import * as Q from '../numbers/rational.js';
import type { ModelReport, NodeReport } from '../analysis/report-types.js';
import { addBreakdown, breakdownOf, type ParamBreakdown } from './param-breakdown.js';
import type { SharedStores } from './shared-stores.js';

/** One stack instance: the unit a pipeline stage holds a whole number of. */
export interface StackInstance {
  readonly index: number;
  /** Stores this instance reads that other instances may read too (`slot:body:0`). */
  readonly sharedKeys: readonly string[];
  /** Elements per token saved for backward (no recomputation). */
  readonly activationPerToken: Q.Rational;
  /** Elements per token of the instance's input: what full recomputation keeps. */
  readonly inputPerToken: bigint;
  /** Forward weight FLOPs per token. */
  readonly flopsPerToken: Q.Rational;
  /** MoE layers in the instance and their routed width (for the EP all-to-all). */
  readonly routedPerToken: bigint;
}

export interface StackMember {
  readonly kind: 'stack';
  readonly name: string;
  readonly params: ParamBreakdown;
  readonly instances: readonly StackInstance[];
  /** Params of one shared store and of one instance's own weights, when the sharing resolved
   * per instance; undefined when the stack's stores are attributed in proportion to instances. */
  readonly stores: { readonly sharedSize: Q.Rational; readonly ownSize: Q.Rational } | undefined;
}

export interface SingleMember {
  readonly kind: 'single';
  readonly name: string;
  readonly params: ParamBreakdown;
  readonly activationPerToken: Q.Rational;
  readonly flopsPerToken: Q.Rational;
  /** Params this member reads from another member's store (a tied output head), and that member. */
  readonly tiedTo: { readonly member: string; readonly params: bigint } | undefined;
}

export type PipelineMember = StackMember | SingleMember;

export interface PipelineModel {
  readonly name: string;
  readonly members: readonly PipelineMember[];
  /** Stack instances across all stacks: how many pipeline chunks the model can be cut into. */
  readonly units: number;
  readonly params: ParamBreakdown;
  /**
   * Stores of the whole model that no member's count includes (hashed memories, SSN banks,
   * dictionaries, shared adapter banks): held by every pipeline rank.
   */
  readonly globalStores: ParamBreakdown;
  /** Forward FLOPs of a whole sequence at the report's seq (attention context included). */
  readonly prefillFlops: bigint;
  /** KV cache bytes per token of one sequence at the report's seq and dtype (what context
   * parallelism passes around its ring). */
  readonly kvBytesPerToken: Q.Rational;
  readonly seq: number;
  /** The engine counts this model per sample (convolutional): FLOPs and activations per image. */
  readonly perSample: boolean;
  /** The largest single layer's params (what ZeRO-3 gathers at once). */
  readonly largestLayer: bigint;
  /** Output width of the model's last matrix (the logits the loss reads: the vocabulary). */
  readonly logitsPerToken: bigint;
  /** Notes on rules that fell back to an approximation for this model. */
  readonly notes: readonly string[];
  /** Why no plan can be made of this model (its stacks are too long to list instance by
   * instance); its members are then left unlisted and every plan of it is refused with this. */
  readonly refusal?: string;
}

/**
 * Stack instances a plan lists one by one at most. Stages are cut from listed instances, and no
 * pipeline has anywhere near this many stages; past it a plan is refused with a message rather
 * than listing 10⁹ instances (which would never finish: the count itself is exact, as a bigint).
 */
export const MAX_PIPELINE_UNITS = 1_000_000;

export function pipelineModel(report: ModelReport, stores: SharedStores): PipelineModel {
  const notes: string[] = [];
  const children = report.tree.children;
  const members: PipelineMember[] = [];
  const units = children.reduce((n, c) => (c.kind === 'stack' ? c.children.reduce((k, run) => k + run.count, n) : n), 0n);
  const refusal =
    units > BigInt(MAX_PIPELINE_UNITS)
      ? `the model's stacks have ${units.toLocaleString('en-US')} instances; a plan places at most ${MAX_PIPELINE_UNITS.toLocaleString('en-US')} on pipeline stages`
      : undefined;
  children.forEach((node, i) => {
    if (refusal) return;
    const outputHead = i === children.length - 1;
    const params = breakdownOf(node, outputHead);
    if (node.kind === 'stack') members.push(stackMember(node, params, stores, notes));
    else {
      members.push({
        kind: 'single',
        name: node.name,
        params,
        activationPerToken: Q.fromBigInt(node.activationPerToken),
        flopsPerToken: Q.fromBigInt(node.flopsPerToken),
        tiedTo: tiedSource(node, stores),
      });
    }
  });
  let params = members.reduce((acc, m) => addParams(acc, m.params), undefined as ParamBreakdown | undefined);
  params ??= breakdownOf(report.tree, false);
  const globalStored = Q.sub(Q.fromBigInt(report.params.stored), params.stored);
  const globalTrainable = Q.sub(Q.fromBigInt(report.params.trainable), params.trainable);
  const globalStores: ParamBreakdown =
    Q.compare(globalStored, Q.ZERO) > 0
      ? { stored: globalStored, trainable: Q.compare(globalTrainable, Q.ZERO) > 0 ? globalTrainable : Q.ZERO, expert: Q.ZERO, quantisable: Q.ZERO, hiddenMatrix: Q.ZERO, factoredState: Q.compare(globalTrainable, Q.ZERO) > 0 ? globalTrainable : Q.ZERO }
      : { stored: Q.ZERO, trainable: Q.ZERO, expert: Q.ZERO, quantisable: Q.ZERO, hiddenMatrix: Q.ZERO, factoredState: Q.ZERO };
  return {
    name: report.name,
    members,
    globalStores,
    // The instances the stacks list: none when refused.
    units: refusal === undefined ? Number(units) : 0,
    ...(refusal === undefined ? {} : { refusal }),
    params: { ...params, stored: Q.fromBigInt(report.params.stored), trainable: Q.fromBigInt(report.params.trainable) },
    prefillFlops: report.flops.prefill,
    kvBytesPerToken: Q.div(Q.fromBigInt(report.kvCacheBytes), Q.fromInt(report.options.seq * report.options.batch)),
    seq: report.options.seq,
    perSample: report.flops.unit === 'sample',
    largestLayer: largestLayer(report.tree),
    logitsPerToken: lastMatrixRows(report.tree),
    notes,
  };
}

function addParams(a: ParamBreakdown | undefined, b: ParamBreakdown): ParamBreakdown {
  return a ? addBreakdown(a, b) : b;
}

function stackMember(node: NodeReport, params: ParamBreakdown, stores: SharedStores, notes: string[]): StackMember {
  const instances: StackInstance[] = [];
  for (const run of node.children) {
    const c = Q.fromBigInt(run.count > 1n ? run.count : 1n);
    const input = firstLayerActivation(run);
    // A plan places each instance on a stage: its indices are numbers (a stack past 2⁵³
    // instances would never finish listing them anyway).
    const [first, count] = [Number(run.firstIndex), Number(run.count)];
    for (let k = 0; k < count; k++) {
      const index = first + k;
      instances.push({
        index,
        sharedKeys: [...stores.readsOf(node.name, index)].sort(),
        activationPerToken: Q.div(Q.fromBigInt(run.activationPerToken), c),
        inputPerToken: input,
        flopsPerToken: Q.div(Q.fromBigInt(run.flopsPerToken), c),
        routedPerToken: routedWidth(run, input),
      });
    }
  }
  instances.sort((a, b) => a.index - b.index);
  const grouped = groupStores(instances);
  return { kind: 'stack', name: node.name, params, instances: grouped, stores: resolveStores(node, grouped, notes) };
}

/**
 * Several share statements with the same slot map (`share body.attn, body.moe: all`) make each
 * instance read several stores that always travel together: they are one store for a stage. The
 * keys an instance reads are merged into one when every key is read by exactly the instances
 * that read the same set (otherwise the sets overlap and are left apart).
 */
function groupStores(instances: readonly StackInstance[]): StackInstance[] {
  if (instances.every((i) => i.sharedKeys.length <= 1)) return [...instances];
  const setOf = new Map<string, string>();
  for (const i of instances) {
    const set = i.sharedKeys.join('+');
    for (const k of i.sharedKeys) {
      if ((setOf.get(k) ?? set) !== set) return [...instances];
      setOf.set(k, set);
    }
  }
  return instances.map((i) => (i.sharedKeys.length > 1 ? { ...i, sharedKeys: [i.sharedKeys.join('+')] } : i));
}

/**
 * Sizes of one shared store and of one instance's own weights. With k distinct shared stores
 * over n instances of per-instance effective size e and stack stored size S:
 * S = k·X + n·R and e = X + R, so X = (n·e − S)/(n − k), R = e − X. Needs every instance to
 * read the same number of shared keys and the same per-instance size; otherwise the stack's
 * stores are attributed to stages in proportion to their instances (noted).
 */
function resolveStores(node: NodeReport, instances: readonly StackInstance[], notes: string[]): StackMember['stores'] {
  const n = BigInt(instances.length);
  const S = node.params.stored;
  if (n === 0n) return undefined;
  const keys = new Set<string>();
  for (const i of instances) for (const k of i.sharedKeys) keys.add(k);
  const perInstanceE = new Set(node.children.map((r) => (r.count > 0 ? `${r.params.effective / BigInt(r.count)}:${r.params.effective % BigInt(r.count)}` : '')));
  const e = node.params.effective / n;
  if (keys.size === 0) {
    // No shared store: every instance owns its weights (the per-instance share of S).
    return { sharedSize: Q.ZERO, ownSize: Q.div(Q.fromBigInt(S), Q.fromBigInt(n)) };
  }
  const k = BigInt(keys.size);
  const oneStorePerInstance = instances.every((i) => i.sharedKeys.length === 1);
  if (!oneStorePerInstance || perInstanceE.size !== 1 || node.params.effective % n !== 0n || k >= n) {
    notes.push(`${node.name}: shared stores attributed to stages in proportion to instances (the sharing does not resolve to one store per instance)`);
    return undefined;
  }
  const X = Q.div(Q.fromBigInt(n * e - S), Q.fromBigInt(n - k));
  const R = Q.sub(Q.fromBigInt(e), X);
  if (Q.compare(X, Q.ZERO) < 0 || Q.compare(R, Q.ZERO) < 0) {
    notes.push(`${node.name}: shared stores attributed to stages in proportion to instances (store sizes do not resolve)`);
    return undefined;
  }
  return { sharedSize: X, ownSize: R };
}

/** The saved elements per token of the first layer that saves any: its input for norms and linear layers. */
function firstLayerActivation(node: NodeReport): bigint {
  // A run of identical layers reports the run's total: one instance's is its share.
  if (node.kind === 'layer') return node.activationPerToken / (node.count > 1n ? node.count : 1n);
  for (const c of node.children) {
    const a = firstLayerActivation(c);
    if (a > 0n) return a;
  }
  return 0n;
}

/** Σ over expert banks of top_k (active copies per token) × the instance's input width. */
function routedWidth(run: NodeReport, input: bigint): bigint {
  let topK = 0n;
  const visit = (n: NodeReport): void => {
    if (n.kind === 'layer') {
      const bank = n.children.find((w) => w.count > 1);
      if (bank && bank.params.effective > 0n) topK += (bank.params.active * BigInt(bank.count)) / bank.params.effective;
      return;
    }
    for (const c of n.children) visit(c);
  };
  visit(run);
  return topK * input;
}

/** A single member reading params it does not store (a tied output head), and whose store it reads. */
function tiedSource(node: NodeReport, stores: SharedStores): SingleMember['tiedTo'] {
  const borrowed = node.params.effective - node.params.stored;
  const owner = stores.tiedOwner(node.name);
  return borrowed > 0n && owner !== undefined ? { member: owner, params: borrowed } : undefined;
}

function largestLayer(tree: NodeReport): bigint {
  let best = 0n;
  const visit = (n: NodeReport): void => {
    if (n.kind === 'layer') {
      // Layers inside a run's block are one instance's; a run of bare layers reports `count` of them.
      const per = n.params.effective / (n.count > 1n ? n.count : 1n);
      if (per > best) best = per;
      return;
    }
    for (const c of n.children) visit(c);
  };
  visit(tree);
  return best;
}

function lastMatrixRows(tree: NodeReport): bigint {
  let rows = 0n;
  const visit = (n: NodeReport): void => {
    if (n.weight && n.weight.role === 'matmul' && n.weight.shape.length === 2) rows = BigInt(n.weight.shape[0]!);
    for (const c of n.children) visit(c);
  };
  const last = tree.children[tree.children.length - 1];
  if (last) visit(last);
  return rows;
}
