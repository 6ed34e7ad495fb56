// Cuts a pipeline model into pp × vpp contiguous chunks of stack instances (members outside the
// stacks go with their neighbours: what precedes the first instance to the first chunk, the rest
// to the chunk before them) and deals chunk k to GPU rank k mod pp (the interleaved schedule's
// placement; vpp = 1 is plain 1F1B). A store read from several ranks is held by each of them,
// and its gradient is all-reduced across them (Megatron's rule for tied embeddings, generalised).

import * as Q from '../numbers/rational.js';
import { NO_PARAMS, addBreakdown, scaleBreakdown, type ParamBreakdown } from './param-breakdown.js';
import type { PipelineModel, StackInstance } from './pipeline-units.js';
import { appendAll } from '../collections/append-all.js';

/** A store held by several pipeline ranks: its params and the ranks. */
export interface ReplicatedStore {
  readonly key: string;
  readonly params: Q.Rational;
  /** Part of `params` that receives gradients (all-reduced across `ranks`). */
  readonly trainable: Q.Rational;
  readonly ranks: readonly number[];
}

export interface PipelineRank {
  readonly rank: number;
  /** Names of what the rank holds: `embed`, `body[0..5]`. */
  readonly holds: readonly string[];
  readonly params: ParamBreakdown;
  /** Stack instances held (for activations, FLOPs and TP collectives). */
  readonly instances: readonly StackInstance[];
  /** Activation elements per token of the members outside stacks held here (never recomputed). */
  readonly memberActivationPerToken: Q.Rational;
  /** Forward weight FLOPs per token of everything the rank holds. */
  readonly flopsPerToken: Q.Rational;
  /** Whether the rank computes the loss (holds the model's last member). */
  readonly last: boolean;
  readonly first: boolean;
}

export interface PipelineLayout {
  readonly ranks: readonly PipelineRank[];
  readonly replicated: readonly ReplicatedStore[];
}

interface RankBuilder {
  holds: string[];
  params: ParamBreakdown;
  instances: StackInstance[];
  activation: Q.Rational;
  flops: Q.Rational;
}

export function layoutPipeline(model: PipelineModel, pp: number, vpp: number): PipelineLayout {
  const chunks = Math.max(1, pp * vpp);
  const U = model.units;
  const chunkOf = (unit: number): number => (U === 0 ? 0 : Math.floor((unit * chunks) / U));
  const rankOfChunk = (c: number): number => c % pp;
  const ranks: RankBuilder[] = Array.from({ length: pp }, () => ({ holds: [], params: NO_PARAMS, instances: [], activation: Q.ZERO, flops: Q.ZERO }));
  const replicated: ReplicatedStore[] = [];
  const memberRank = new Map<string, number>();
  let unit = 0;
  let lastRank = 0;
  const trainableShare = (p: ParamBreakdown): Q.Rational => (Q.isZero(p.stored) ? Q.ZERO : Q.div(p.trainable, p.stored));

  for (const m of model.members) {
    if (m.kind === 'single') {
      const r = unit === 0 ? 0 : rankOfChunk(chunkOf(unit - 1));
      memberRank.set(m.name, r);
      const b = ranks[r]!;
      b.holds.push(m.name);
      b.params = addBreakdown(b.params, m.params);
      b.activation = Q.add(b.activation, m.activationPerToken);
      b.flops = Q.add(b.flops, m.flopsPerToken);
      if (m.tiedTo) {
        const owner = memberRank.get(m.tiedTo.member);
        if (owner !== undefined && owner !== r) {
          // The tied store lives on the owner's rank; this rank holds a copy of it.
          const ownerParams = model.members.find((x) => x.name === m.tiedTo!.member)!.params;
          const size = Q.fromBigInt(m.tiedTo.params);
          const copy = scaleBreakdown(ownerParams, Q.isZero(ownerParams.stored) ? Q.ZERO : Q.div(size, ownerParams.stored));
          b.params = addBreakdown(b.params, copy);
          replicated.push({ key: `tie:${m.tiedTo.member}`, params: size, trainable: Q.mul(size, trainableShare(ownerParams)), ranks: [owner, r] });
        }
      }
      lastRank = r;
      continue;
    }
    // A stack: instances go to the chunk of their unit number.
    const perRank = new Map<number, StackInstance[]>();
    for (const inst of m.instances) {
      const r = rankOfChunk(chunkOf(unit));
      unit += 1;
      const list = perRank.get(r) ?? [];
      list.push(inst);
      perRank.set(r, list);
      lastRank = r;
    }
    const n = m.instances.length;
    const keyRanks = new Map<string, Set<number>>();
    for (const [r, list] of perRank) {
      const b = ranks[r]!;
      appendAll(b.instances, list);
      b.holds.push(holdsLabel(m.name, list, n));
      for (const inst of list) b.flops = Q.add(b.flops, inst.flopsPerToken);
      let stored: Q.Rational;
      if (m.stores) {
        const keys = new Set<string>();
        for (const inst of list) for (const k of inst.sharedKeys) keys.add(k);
        for (const k of keys) keyRanks.set(k, (keyRanks.get(k) ?? new Set<number>()).add(r));
        stored = Q.add(Q.mul(m.stores.sharedSize, Q.fromInt(keys.size)), Q.mul(m.stores.ownSize, Q.fromInt(list.length)));
      } else {
        stored = Q.div(Q.mul(m.params.stored, Q.fromInt(list.length)), Q.fromInt(Math.max(1, n)));
      }
      const share = Q.isZero(m.params.stored) ? Q.ZERO : Q.div(stored, m.params.stored);
      b.params = addBreakdown(b.params, scaleBreakdown(m.params, share));
    }
    if (m.stores) {
      for (const [key, rs] of keyRanks) {
        if (rs.size < 2) continue;
        const size = m.stores.sharedSize;
        replicated.push({ key, params: size, trainable: Q.mul(size, trainableShare(m.params)), ranks: [...rs].sort((a, b) => a - b) });
      }
    }
  }
  // Global stores (hashed memories, banks) serve layers everywhere: every rank holds them.
  if (!Q.isZero(model.globalStores.stored)) {
    for (const b of ranks) {
      b.params = addBreakdown(b.params, model.globalStores);
      b.holds.push('global stores');
    }
    if (pp > 1) replicated.push({ key: 'global stores', params: model.globalStores.stored, trainable: model.globalStores.trainable, ranks: ranks.map((_, r) => r) });
  }
  return {
    ranks: ranks.map((b, rank) => ({
      rank,
      holds: b.holds,
      params: b.params,
      instances: b.instances,
      memberActivationPerToken: b.activation,
      flopsPerToken: b.flops,
      last: rank === lastRank,
      first: rank === 0,
    })),
    replicated,
  };
}

function holdsLabel(name: string, list: readonly StackInstance[], n: number): string {
  if (list.length === n) return name;
  const first = list[0]!.index;
  const last = list[list.length - 1]!.index;
  const contiguous = last - first + 1 === list.length;
  return contiguous ? (first === last ? `${name}[${first}]` : `${name}[${first}..${last}]`) : `${name}[${list.map((i) => i.index).join(',')}]`;
}
