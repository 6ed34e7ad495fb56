// Layer-tying strategies: which store σ(i) instance i of an N-instance stack uses, and how many
// instances in a range are the first user of their store (they carry the stored count).
// Closed forms keep `share body: cycle(9)` O(1) for a 10,000-instance stack; only explicit
// maps cost O(N). Definitions follow Takase & Kiyono (SEQUENCE, CYCLE, CYCLE (REV)),
// 0-based; see docs/language.md, "Tying instances of a stack".

export interface SlotMap {
  /** Strategy as written, for messages and the report. */
  readonly label: string;
  /** Number of distinct stores. */
  readonly slots: number;
  slotOf(i: number): number;
  /** How many i in [start, end) are the first instance using their store. */
  firstsIn(start: number, end: number): number;
  /** p when slotOf(i + p) = slotOf(i) for every i (closed-form strategies); absent otherwise. */
  readonly period?: number;
  /**
   * How many instances of an n-instance stack use each store, as [instances, stores with that
   * many] pairs (an expert pool shared by g layers is read by g routers): O(1) for the closed forms.
   */
  usesOf(n: number): readonly (readonly [number, number])[];
}

/**
 * n instances over m stores as evenly as ⌊n/m⌋ and ⌈n/m⌉ allow: what cycle(m), sequence(m) and
 * cycle_rev(m) all give. cycle: store s has the i ≡ s (mod m), ⌈(n − s)/m⌉ of them; sequence:
 * store s has the i in [s·n/m, (s+1)·n/m), ⌈(s+1)n/m⌉ − ⌈sn/m⌉; cycle_rev permutes cycle's last
 * round. Either way n mod m stores have ⌊n/m⌋ + 1 instances and the rest ⌊n/m⌋.
 */
function evenUses(n: number, m: number): [number, number][] {
  const q = Math.floor(n / m);
  const r = n % m;
  const out: [number, number][] = [];
  if (r > 0) out.push([q + 1, r]);
  if (m - r > 0 && q > 0) out.push([q, m - r]);
  return out;
}

const overlap = (start: number, end: number, lo: number, hi: number): number => Math.max(0, Math.min(end, hi) - Math.max(start, lo));

export function noneMap(n: number): SlotMap {
  return { label: 'none', slots: n, slotOf: (i) => i, firstsIn: (s, e) => Math.max(0, e - s), usesOf: (count) => (count > 0 ? [[1, count]] : []) };
}

export function allMap(): SlotMap {
  return { label: 'all', slots: 1, slotOf: () => 0, firstsIn: (s, e) => overlap(s, e, 0, 1), period: 1, usesOf: (count) => (count > 0 ? [[count, 1]] : []) };
}

/** σ(i) = i mod m. Requires 1 ≤ m ≤ n. */
export function cycleMap(m: number): SlotMap {
  return { label: `cycle(${m})`, slots: m, slotOf: (i) => i % m, firstsIn: (s, e) => overlap(s, e, 0, m), period: m, usesOf: (count) => evenUses(count, m) };
}

/** σ(i) = ⌊i·m/n⌋: consecutive blocks of about n/m instances. Requires 1 ≤ m ≤ n. */
export function sequenceMap(m: number, n: number): SlotMap {
  const slotOf = (i: number): number => Math.floor((i * m) / n);
  // Slots are non-decreasing in i and all appear, so firsts before x = slotOf(x − 1) + 1.
  const firstsBefore = (x: number): number => (x <= 0 ? 0 : slotOf(Math.min(x, n) - 1) + 1);
  return { label: `sequence(${m})`, slots: m, slotOf, firstsIn: (s, e) => Math.max(0, firstsBefore(e) - firstsBefore(s)), usesOf: (count) => evenUses(count, m) };
}

/** Like cycle, but the last cycle runs backwards (Takase & Kiyono's CYCLE (REV)). Requires 1 ≤ m ≤ n. */
export function cycleRevMap(m: number, n: number): SlotMap {
  const lastCycleStart = m * (Math.ceil(n / m) - 1);
  const slotOf = (i: number): number => (i >= lastCycleStart ? m - 1 - (i % m) : i % m);
  // With at least two cycles every store first appears in the first (forward) cycle; with one
  // cycle the whole stack is the reversed cycle, a permutation: every instance is a first.
  return { label: `cycle_rev(${m})`, slots: m, slotOf, firstsIn: (s, e) => overlap(s, e, 0, m), usesOf: (count) => evenUses(count, m) };
}

/** An explicit map; `slots` counts distinct values. */
export function explicitMap(values: readonly number[]): SlotMap {
  const firstPrefix = new Int32Array(values.length + 1);
  const seen = new Set<number>();
  values.forEach((v, i) => {
    const first = !seen.has(v);
    seen.add(v);
    firstPrefix[i + 1] = firstPrefix[i]! + (first ? 1 : 0);
  });
  const clamp = (x: number): number => Math.max(0, Math.min(values.length, x));
  return {
    label: `map([${values.length <= 8 ? values.join(', ') : `${values.slice(0, 8).join(', ')}, …`}])`,
    slots: seen.size,
    slotOf: (i) => values[i] ?? 0,
    firstsIn: (s, e) => Math.max(0, firstPrefix[clamp(e)]! - firstPrefix[clamp(s)]!),
    usesOf: () => {
      const perStore = new Map<number, number>();
      for (const v of values) perStore.set(v, (perStore.get(v) ?? 0) + 1);
      const histogram = new Map<number, number>();
      for (const uses of perStore.values()) histogram.set(uses, (histogram.get(uses) ?? 0) + 1);
      return [...histogram].sort((a, b) => b[0] - a[0]);
    },
  };
}

/** Which instance produces the KV that instance i reads (i itself when it produces). */
export interface KvProducerMap {
  readonly label: string;
  producerOf(i: number): number;
  /** How many i in [start, end) produce their own KV. */
  producersIn(start: number, end: number): number;
  /** p when instance i + p produces exactly when i does (closed-form strategies); absent otherwise. */
  readonly period?: number;
  /**
   * The producers outside [start, end) that some instance in [start, end) reads, each once:
   * where a KV cache crosses from one run of a stack to another (kv-reach.ts).
   */
  foreignProducers(start: number, end: number): number[];
}

/** Producers outside [start, end) read by the instances `from` ≤ i < `to` (a scan). */
function scanForeign(producerOf: (i: number) => number, start: number, end: number, from: number, to: number): number[] {
  const out = new Set<number>();
  for (let i = from; i < to; i++) {
    const p = producerOf(i);
    if (p < start || p >= end) out.add(p);
  }
  return [...out];
}

/** Groups of g consecutive instances; the first of each group produces (CLA, MLKV). */
export function everyKv(g: number): KvProducerMap {
  const before = (x: number): number => (x <= 0 ? 0 : Math.ceil(x / g));
  return {
    label: `every(${g})`,
    producerOf: (i) => i - (i % g),
    producersIn: (s, e) => Math.max(0, before(e) - before(s)),
    period: g,
    // Only the group straddling `start` has its producer before the range.
    foreignProducers: (s, e) => (e > s && s % g !== 0 ? [s - (s % g)] : []),
  };
}

/** Explicit sources (LCKV layer_types): sources[i] ≤ i, equal to i for producers. */
export function explicitKv(sources: readonly number[]): KvProducerMap {
  const prefix = new Int32Array(sources.length + 1);
  sources.forEach((s, i) => (prefix[i + 1] = prefix[i]! + (s === i ? 1 : 0)));
  const clamp = (x: number): number => Math.max(0, Math.min(sources.length, x));
  const producerOf = (i: number): number => sources[i] ?? i;
  return { label: 'map', producerOf, producersIn: (s, e) => Math.max(0, prefix[clamp(e)]! - prefix[clamp(s)]!), foreignProducers: (s, e) => scanForeign(producerOf, s, e, s, e) };
}

/** Instances sharing a store read the KV of the store's first user (MoR recursive KV sharing). */
export function tiedKv(slots: SlotMap): KvProducerMap {
  // The first user of each store, found once on demand (O(N)); counting uses the closed form.
  let firstOfSlot: Map<number, number> | undefined;
  const producerOf = (i: number): number => {
    if (!firstOfSlot) {
      firstOfSlot = new Map();
      for (let k = 0; k <= i || firstOfSlot.size < slots.slots; k++) {
        const slot = slots.slotOf(k);
        if (!firstOfSlot.has(slot)) firstOfSlot.set(slot, k);
        if (k > 1 << 30) break;
      }
    }
    return firstOfSlot.get(slots.slotOf(i)) ?? i;
  };
  // A periodic slot map shows every slot a range uses within its first period.
  const foreignProducers = (s: number, e: number): number[] => scanForeign(producerOf, s, e, s, slots.period !== undefined ? Math.min(e, s + slots.period) : e);
  return { label: 'tied', producerOf, producersIn: (s, e) => slots.firstsIn(s, e), foreignProducers };
}
