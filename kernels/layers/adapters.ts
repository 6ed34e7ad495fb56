// Adapters on a projection, applied unmerged: y += (x·Aᵀ)·Bᵀ with the factors each method
// stores or generates, exactly the numbers the engine counts (src/core/analysis/layer-totals.ts,
// adapterCost). Shared parts are keyed like the engine's globals (`<method>@<statement>:…`, one
// initializer per statement and shape); a target's own parts by its instance path, since weight
// sharing never deduplicates an instance's adapter.
//   lora       A [r, d_in], B [d_out, r] per target.
//   tied_lora  A, B shared per (d_in, d_out); u [r], v [d_out] per target: ΔW = diag(v)·B·diag(u)·A.
//   aslora     A [r, d_in] shared per d_in; a bank of g B's [g, d_out, r] per d_out; the targets of
//              a width take the groups in turn (target i → group i mod g), in graph order.
//   vblora     A and Bᵀ mixed from a vector bank (kernels/generated/vector-bank.ts).
//   mos        A and Bᵀ concatenated from shard pools (kernels/generated/shards.ts).
//   delta      ΔW [d_out, d_in] per target (TAPS), per task [tasks, d_out, d_in] with task 0's run.
// Per-task subsets (`for_tasks: [i, …]`, TAPS's per-task layers) store one row per owning task
// ([|owners|, …], in task order); the graph runs task 0's, so where task 0 owns none the rows are
// stored (initializer elements still equal params.stored) and the target runs its base weight.
//   arrow      a LoRA library routed per token by stored prototypes (arrow-library.ts).
//   hyper_lang Hyper-Adapters: generated per language pair and layer (kernels/generated/language-hypernetwork.ts).
//   bottleneck_adapter  a regular adapter LayerNorm·Linear·ReLU·Linear + residual on the output, per task (./bottleneck-adapter.ts).
//   hyper      HyperFormer++: an adapter on the output, generated for task 0 per layer and block
//              by the statement's generator (kernels/generated/hypernetwork.ts).
//   loretta_rep / loretta_adp  LoRETTA: tensor-train A and B added as x·A·B, or a TT bottleneck
//              adapter on the output (or, `side: input`, on the input: inputAdapters)
//              (kernels/generated/tt-adapter.ts).
//   scalearn   ScaLearn: frozen source adapters on the output scaled by task 0's ω (./scalearn.ts).
//   psrp       Moment Probing's MP+: the output rescaled and shifted per token from the residual
//              stream of the target's branch (./psrp.ts, ./branch-input.ts).
//   poly       Polytropon / Multi-Head Routing as PEFT's PolyLayer: the inventory poly_a
//              [splits, skills, d_in/splits, r] and poly_b [splits, skills, r, d_out/splits] per
//              target, the router's logits [tasks, splits·skills]; task 0's weights
//              w = σ(logits) normalised over the skills (PolyRouter at inference, ε 1e-12) mix
//              A = Σ w_s·A_s (splits stacked along d_in) and B = Σ w_s·B_s (along d_out), then
//              y += (x·A)·B — one rank-r adapter per token, as the engine counts (lora_alpha/r
//              scaling left out, as for every method here).
// Sparse masks (FISH, sparse(elements: k)) are merged into the weight before its matmul
// (sparseMerged): the k stored values replace k entries of W at fixed positions, which are no
// parameter — entry j of k sits at flat index ⌊j·d_out·d_in / k⌋ of W [d_out, d_in] (spread over
// the weight; the real mask is whatever Fisher information picked) — so the graph runs the same
// dense matmul the engine counts, and ONNX Runtime folds the scatter once at session creation.

import { ExportError, adapterModifiersFor, adapterTaskRows, taskZeroOwns, pathText, type LayerNode, type PathStep } from '../engine-bridge.js';
import { arrowDelta } from './arrow-library.js';
import { generationState, source, tally } from '../generated/state.js';
import { shardFactors } from '../generated/shards.js';
import { vectorBankFactors } from '../generated/vector-bank.js';
import { hyperAdapter } from '../generated/hypernetwork.js';
import { lorettaAdapter, lorettaRepDelta } from '../generated/tt-adapter.js';
import { languageHyperAdapter } from '../generated/language-hypernetwork.js';
import { scalearnAdapter } from './scalearn.js';
import { psrpAdapter } from './psrp.js';
import { bottleneckAdapter } from './bottleneck-adapter.js';
import { branchInputOf } from './branch-input.js';
import type { EmitContext } from './context.js';
import { declareTaskStore, taskZeroOf, taskZeroRow } from './task-rows.js';
import { attr } from '../onnx-writer.js';

const T = { transB: attr.int(1) };

/** y plus the adapters the spec puts on weight `name` of the layer at `steps` (x: its input [T, d_in]). */
export function withAdapters(ctx: EmitContext, steps: readonly PathStep[], name: string, x: string, y: string, dIn: number, dOut: number, node?: LayerNode): string {
  const g = ctx.g;
  const where = `${pathText(steps)}.${name}`;
  for (const [i, m] of adapterModifiersFor(ctx.model, steps, name).entries()) {
    if (m.effect.kind !== 'adapter') continue;
    const method = m.effect.method;
    if (method.kind === 'hyper') {
      // Generated per task, layer and block by the statement's generator, on the output (kernels/generated/hypernetwork.ts).
      y = hyperAdapter(ctx, m, ctx.model.sharing.modifiers, steps, name, y, dOut);
      continue;
    }
    if (method.kind === 'scalearn') {
      // Frozen source adapters on the output, scaled by task 0's learned ω (kernels/layers/scalearn.ts).
      y = scalearnAdapter(ctx, m, `${where}.scalearn${i === 0 ? '' : i}`, name, y, dOut);
      continue;
    }
    if (method.kind === 'psrp') {
      // Moment Probing's MP+: a per-token scale and shift of the output from the residual stream of the target's branch (./psrp.ts).
      y = psrpAdapter(ctx, m, where, `${where}.psrp${i === 0 ? '' : i}`, name, branchInputOf(ctx, steps), y, dOut);
      continue;
    }
    if (method.kind === 'hyper_lang') {
      // Generated per language pair and layer by the statement's hypernetwork (kernels/generated/language-hypernetwork.ts).
      y = languageHyperAdapter(ctx, m, steps, name, y, dOut);
      continue;
    }
    if (method.kind === 'bottleneck_adapter') {
      // A regular adapter on the output, one per task (fairseq's BottleneckAdapter; ./bottleneck-adapter.ts).
      y = bottleneckAdapter(ctx, m, `${where}.adapter${i === 0 ? '' : i}`, name, y, dOut);
      continue;
    }
    if (method.kind === 'sparse') continue; // merged into the weight: sparseMerged
    if (method.kind === 'loretta_rep' || method.kind === 'loretta_adp') {
      // Tensor-train adapters (kernels/generated/tt-adapter.ts): _rep adds x·A·B, _adp wraps the
      // output (an input-side _adp ran before the matmul: inputAdapters).
      if (m.effect.tasks > 1) throw new ExportError(`${where}: per-task ${method.kind} adapters (tasks: ${m.effect.tasks}) are not supported by the ONNX exporter; per-task lora and poly are`);
      const key = `${where}.${method.kind}${i === 0 ? '' : i}`;
      if (method.kind === 'loretta_rep') y = g.op('Add', [y, lorettaRepDelta(ctx, where, key, method, x, dIn, dOut)]);
      else if (method.side === 'output') y = lorettaAdapter(ctx, where, key, method, y, dIn, dOut);
      continue;
    }
    if (method.kind === 'arrow') {
      // A LoRA library routed per token by its stored prototypes (arrow-library.ts).
      const widths = (t: string): number => (t === name ? dOut : (node?.cost.weights.find((w) => w.name === t)?.shape[0] ?? dOut));
      y = g.op('Add', [y, arrowDelta(ctx, steps, name, { ...method, statement: m.range.start }, x, dIn, dOut, widths)]);
      continue;
    }
    const tasks = adapterTaskRows(m.effect);
    const stacked = m.effect.tasks > 1;
    if (method.kind === 'delta') {
      // Merged or not, the graph adds x·ΔWᵀ to y: the same function, with ΔW as its own initializer.
      const key = `${where}.delta${i === 0 ? '' : i}`;
      const stored = declareTaskStore(g, m.effect, key, [dOut, dIn], 0.01);
      if (!taskZeroOwns(m.effect)) continue;
      const dw = taskZeroOf(g, m.effect, stored, [dOut, dIn], `${name}_task0`);
      y = g.op('Add', [y, g.op('Gemm', [x, dw], T, { hint: `${name}_delta` })]);
      continue;
    }
    const r = method.rank;
    const statement = `${method.kind}@${m.range.start}`;
    const key = `${where}.${method.kind === 'lora' ? 'lora' : method.kind}${i === 0 ? '' : i}`;
    if (stacked && method.kind !== 'lora' && method.kind !== 'poly') throw new ExportError(`${where}: per-task ${method.kind} adapters (tasks: ${tasks}) are not supported by the ONNX exporter; per-task lora and poly are`);
    let delta: string;
    switch (method.kind) {
      case 'lora': {
        if (stacked) {
          // Every task's A and B are stored ([tasks, r, d_in], [tasks, d_out, r]); the graph runs task 0's.
          const a = g.weight(`${key}_a`, [tasks, r, dIn], Math.sqrt(3 / dIn));
          const b = g.weight(`${key}_b`, [tasks, dOut, r], 0.01);
          if (!taskZeroOwns(m.effect)) continue;
          const first = (w: string, shape: readonly number[]): string => taskZeroRow(g, w, shape, `${name}_task0`);
          delta = g.op('Gemm', [g.op('Gemm', [x, first(a.name, [r, dIn])], T, { hint: `${name}_lora_a` }), first(b.name, [dOut, r])], T, { hint: `${name}_lora_b` });
          break;
        }
        const a = g.weight(`${key}_a`, [r, dIn], Math.sqrt(3 / dIn));
        const b = g.weight(`${key}_b`, [dOut, r], 0.01);
        delta = g.op('Gemm', [g.op('Gemm', [x, a.name], T, { hint: `${name}_lora_a` }), b.name], T, { hint: `${name}_lora_b` });
        break;
      }
      case 'tied_lora': {
        const a = g.weight(`${statement}:A:${dIn}x${dOut}`, [r, dIn], Math.sqrt(3 / dIn));
        const b = g.weight(`${statement}:B:${dIn}x${dOut}`, [dOut, r], 0.01);
        const u = g.weight(`${key}_u`, [r], 0.1, 1);
        const v = g.weight(`${key}_v`, [dOut], 0.1, 1);
        const low = g.op('Mul', [g.op('Gemm', [x, a.name], T, { hint: `${name}_tied_a` }), u.name], undefined, { hint: `${name}_tied_u` });
        delta = g.op('Mul', [g.op('Gemm', [low, b.name], T, { hint: `${name}_tied_b` }), v.name], undefined, { hint: `${name}_tied_v` });
        break;
      }
      case 'aslora': {
        const a = g.weight(`${statement}:A:${dIn}`, [r, dIn], Math.sqrt(3 / dIn));
        const bank = g.weight(`${statement}:B:${dOut}`, [method.groups, dOut, r], 0.01);
        const cursors = generationState(g).cursors;
        const turn = cursors.get(bank.name) ?? 0;
        cursors.set(bank.name, turn + 1);
        // Selecting the group's B is a generation step (a gather ORT folds when materialised).
        const b = g.op('Gather', [source(ctx, bank.name), g.ints([turn % method.groups], true)], { axis: attr.int(0) }, { hint: `${name}_aslora_b` }); // [d_out, r]
        tally(ctx, 0n);
        delta = g.op('Gemm', [g.op('Gemm', [x, a.name], T, { hint: `${name}_aslora_a` }), b], T, { hint: `${name}_aslora` });
        break;
      }
      case 'vblora': {
        const f = vectorBankFactors(ctx, { statement: m.range.start, rank: r, vectors: method.vectors, length: method.length, topK: method.topK }, key, dIn, dOut);
        delta = g.op('MatMul', [g.op('Gemm', [x, f.a], T, { hint: `${name}_vb_a` }), f.bT], undefined, { hint: `${name}_vblora` });
        break;
      }
      case 'poly': {
        const f = polyFactors(ctx, key, { rank: r, skills: method.skills, splits: method.splits, tasks }, dIn, dOut);
        delta = g.op('MatMul', [g.op('MatMul', [x, f.a], undefined, { hint: `${name}_poly_a` }), f.b], undefined, { hint: `${name}_poly` });
        break;
      }
      case 'mos': {
        const f = shardFactors(ctx, where, { statement: m.range.start, rank: r, shards: method.shards, pool: method.pool, privateShards: method.privateShards }, key, dIn, dOut);
        delta = g.op('MatMul', [g.op('Gemm', [x, f.a], T, { hint: `${name}_mos_a` }), f.bT], undefined, { hint: `${name}_mos` });
        break;
      }
    }
    y = g.op('Add', [y, delta]);
  }
  return y;
}

/**
 * The projection's input with the adapters that sit before its matmul: LoRETTA_adp with
 * `side: input` (the reference's mh_adapter, x + up(σ(down(x))) fed to W), in statement order.
 */
export function inputAdapters(ctx: EmitContext, steps: readonly PathStep[], name: string, x: string, dIn: number, dOut: number): string {
  const where = `${pathText(steps)}.${name}`;
  for (const [i, m] of adapterModifiersFor(ctx.model, steps, name).entries()) {
    if (m.effect.kind !== 'adapter' || m.effect.method.kind !== 'loretta_adp' || m.effect.method.side !== 'input') continue;
    if (m.effect.tasks > 1) throw new ExportError(`${where}: per-task loretta_adp adapters (tasks: ${m.effect.tasks}) are not supported by the ONNX exporter; per-task lora and poly are`);
    x = lorettaAdapter(ctx, where, `${where}.loretta_adp${i === 0 ? '' : i}`, m.effect.method, x, dIn, dOut);
  }
  return x;
}

/**
 * Task 0's Polytropon adapter of one target: A [d_in, r] and B [r, d_out] mixed from the target's
 * inventory by σ(logits) normalised over the skills (PEFT's PolyRouter at inference, PolyLayer's
 * einsums and reshapes).
 */
function polyFactors(ctx: EmitContext, key: string, p: { rank: number; skills: number; splits: number; tasks: number }, dIn: number, dOut: number): { a: string; b: string } {
  const g = ctx.g;
  const { rank: r, skills: m, splits: h, tasks } = p;
  if (dIn % h !== 0 || dOut % h !== 0) throw new ExportError(`${key}: poly splits ${h} must divide d_in ${dIn} and d_out ${dOut}`);
  const invA = g.weight(`${key}_a`, [h, m, dIn / h, r], Math.sqrt(3 / dIn));
  const invB = g.weight(`${key}_b`, [h, m, r, dOut / h], 0.01);
  const logits = g.weight(`${key}_logits`, [tasks, h * m], 1);
  const first = g.op('Gather', [source(ctx, logits.name), g.ints([0], true)], { axis: attr.int(0) }, { hint: 'poly_task0' }); // [h·m]
  const sig = g.op('Reshape', [g.op('Sigmoid', [first]), g.ints([h, 1, m])], undefined, { hint: 'poly_sigmoid' });
  const total = g.op('Add', [g.op('ReduceSum', [sig, g.ints([-1])], { keepdims: attr.int(1) }), g.float(1e-12)]);
  const w = g.op('Div', [sig, total], undefined, { hint: 'poly_weights' }); // [h, 1, m]
  const mix = (inv: string, width: number) => g.op('MatMul', [w, g.op('Reshape', [source(ctx, inv), g.ints([h, m, width])])]); // [h, 1, width]
  // A: [h, (d_in/h)·r] → [d_in, r], the splits stacked along d_in.
  const a = g.op('Reshape', [mix(invA.name, (dIn / h) * r), g.ints([dIn, r])], undefined, { hint: 'poly_A' });
  // B: [h, r·(d_out/h)] → [h, r, d_out/h] → [r, h, d_out/h] → [r, d_out], the splits along d_out.
  const bSplits = g.op('Reshape', [mix(invB.name, r * (dOut / h)), g.ints([h, r, dOut / h])]);
  const b = g.op('Reshape', [g.op('Transpose', [bSplits], { perm: attr.ints([1, 0, 2]) }), g.ints([r, dOut])], undefined, { hint: 'poly_B' });
  tally(ctx, BigInt(m) * BigInt(dIn) * BigInt(r));
  tally(ctx, BigInt(m) * BigInt(dOut) * BigInt(r));
  return { a, b };
}

/**
 * The weight a projection multiplies by: `weight` (its store's tensor, [d_out, d_in], or
 * [d_in, d_out] when `transposed`) with the entries of every sparse mask on it replaced by the
/**
 * A convolution kernel [c_out, c_in/groups, k, …] with its merged full-rank deltas added (TAPS on
 * ResNet, `delta(merged: true)` on a Conv2d): each statement's ΔW is an initializer of the kernel's
 * shape (per task [tasks, c_out, c_in/groups, k, …], or one row per owning task with `for_tasks`),
 * and the graph convolves with W + ΔW of task 0 — one Conv, as the engine counts (no delta FLOPs).
 */
export function kernelWithDeltas(ctx: EmitContext, steps: readonly PathStep[], name: string, kernel: string, shape: readonly number[]): string {
  const g = ctx.g;
  const where = `${pathText(steps)}.${name}`;
  let w = kernel;
  for (const [i, m] of adapterModifiersFor(ctx.model, steps, name).entries()) {
    if (m.effect.kind !== 'adapter') continue;
    const method = m.effect.method;
    if (method.kind !== 'delta' || !method.merged) throw new ExportError(`${where}: only a merged full-rank delta adapts a convolution kernel (the engine refuses the rest)`);
    const dw = declareTaskStore(g, m.effect, `${where}.delta${i === 0 ? '' : i}`, shape, 0.01);
    if (!taskZeroOwns(m.effect)) continue;
    const own = taskZeroOf(g, m.effect, dw, shape, `${name}_task0`);
    w = g.op('Add', [w, own], undefined, { hint: `${name}_plus_delta` });
  }
  return w;
}

/** Whether a sparse mask (FISH) is merged into weight `name`: then W itself is read, never its factors alone. */
export function hasSparseMask(ctx: EmitContext, steps: readonly PathStep[], name: string): boolean {
  return adapterModifiersFor(ctx.model, steps, name).some((m) => m.effect.kind === 'adapter' && m.effect.method.kind === 'sparse');
}

/**
 * The weight a projection multiplies by: `weight` (its store's tensor, [d_out, d_in], or
 * [d_in, d_out] when `transposed`) with the entries of every sparse mask on it replaced by the
 * mask's k stored values (task 0's of [tasks, k] per task) — FISH's masked fine-tuning, merged.
 */
export function sparseMerged(ctx: EmitContext, steps: readonly PathStep[], name: string, weight: string, dOut: number, dIn: number, transposed: boolean): string {
  const g = ctx.g;
  const where = `${pathText(steps)}.${name}`;
  let w = weight;
  for (const [i, m] of adapterModifiersFor(ctx.model, steps, name).entries()) {
    if (m.effect.kind !== 'adapter' || m.effect.method.kind !== 'sparse') continue;
    const k = m.effect.method.elements;
    const tasks = adapterTaskRows(m.effect);
    const key = `${where}.sparse${i === 0 ? '' : i}`;
    const values = m.effect.tasks > 1 ? g.weight(key, [tasks, k], 0.02) : g.weight(key, [k], 0.02);
    if (!taskZeroOwns(m.effect)) continue;
    const taskValues = m.effect.tasks > 1 ? g.op('Gather', [source(ctx, values.name), g.ints([0], true)], { axis: attr.int(0) }, { hint: `${name}_sparse_task0` }) : source(ctx, values.name);
    const positions: number[] = [];
    for (let j = 0; j < k; j++) {
      const flat = Math.floor((j * dOut * dIn) / k);
      const [o, c] = [Math.floor(flat / dIn), flat % dIn];
      positions.push(...(transposed ? [c, o] : [o, c]));
    }
    const indices = g.op('Reshape', [g.ints(positions), g.ints([k, 2])], undefined, { hint: `${name}_sparse_at` });
    w = g.op('ScatterND', [w === weight ? source(ctx, w) : w, indices, taskValues], undefined, { hint: `${name}_sparse` });
    tally(ctx, 0n);
  }
  return w;
}
