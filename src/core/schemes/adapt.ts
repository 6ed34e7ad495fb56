// `adapt PATHS: lora(rank: r, …)` (and the adapter after `share …: … relax`): adapters over a
// frozen base — LoRA, Tied-LoRA, AS-LoRA, VB-LoRA, Mixture of Shards, adapter inventories routed
// per task (Polytropon, Multi-Head Routing), LoRA libraries routed per token (Arrow), full-rank
// deltas (TAPS), sparse masks (FISH), adapters a hypernetwork generates per task and layer
// (HyperFormer) or per language pair and layer (Hyper-Adapters), learned scales over frozen source adapters (ScaLearn) and tensor-train adapters
// (LoRETTA_rep and LoRETTA_adp, sharing/tt-adapter.ts). Resolves to an `adapter`
// modifier; `analysis/layer-totals.ts` counts each method's parameters and FLOPs.

import type { ModuleNode } from '../model/module-tree.js';
import type { EvalContext } from '../semantics/evaluator.js';
import type { Scope } from '../semantics/scope.js';
import { adaptedMatrix, isKernel } from '../sharing/adapted-matrix.js';
import { onSub } from '../layout/scheme-drawing.js';
import type { AdapterMethod } from '../sharing/declarations.js';
import type { ResolvedPath } from '../sharing/resolve-path.js';
import { indexableLength } from '../sharing/indexable-stack.js';
import { lorettaExecution, lorettaMatrices } from '../sharing/tt-adapter.js';
import { eachTarget, readMethodCall, type SchemeArg, type SchemeContext, type SchemeMethod, type SharingScheme } from '../sharing/scheme.js';
import { asStatementCall, type StatementArgValue, type StatementCall } from '../sharing/statement-args.js';
import type { Expression, TextRange } from '../syntax/syntax-tree.js';

const lora = (name: string, doc: string, extra: readonly SchemeArg[] = [], snippet = `${name}(rank: \${1:16})`): SchemeMethod => ({
  name,
  call: true,
  args: [
    { name: 'rank', type: 'int', required: true, min: 1, doc: 'Rank r of each adapter: r·(d_in + d_out) params per matrix.' },
    { name: 'merged', type: 'bool', required: false, doc: 'Merged into the base weight at inference: no extra FLOPs.', values: ['true', 'false'] },
    { name: 'targets', type: 'name-list', required: false, doc: 'Only the named weights, e.g. [q, v].' },
    { name: 'alpha', type: 'ratio', required: false, doc: 'LoRA scaling α (does not change counts).' },
    { name: 'tasks', type: 'int', required: false, min: 1, doc: 'Tasks T: one adapter per task on each target, each stored and trained; a token runs its task\'s (default 1: shared by every task).' },
    ...(name === 'lora' ? [FOR_TASKS] : []),
    ...extra,
  ],
  snippet,
  doc,
});

const TARGETS: SchemeArg = { name: 'targets', type: 'name-list', required: false, doc: 'Only the named weights, e.g. [q, v].' };
const TASKS: SchemeArg = { name: 'tasks', type: 'int', required: false, min: 1, doc: 'Tasks T: one adapter per task on each target, each stored and trained; a token runs its task\'s (default 1: shared by every task).' };
/**
 * `for_tasks: [0, 3]`: only these tasks (numbered 0 … T − 1) own an adapter on the statement's
 * targets — TAPS's per-task layer subsets, each task adapting its own layers, written as one
 * statement per group of layers. Only the methods whose per-task part is one plain copy per task
 * (lora, delta, sparse) list it among their arguments; the others refuse it as an unknown argument.
 */
const FOR_TASKS: SchemeArg = {
  name: 'for_tasks',
  type: 'int-list',
  required: false,
  doc: 'Only these tasks (0 … T − 1, with tasks: T) own an adapter here, |for_tasks| stored per target; the other tasks run the base weight (TAPS: each task adapts its own layers). Default: every task.',
};

/** The adapters, after `adapt PATHS:` and after `relax`. */
export const ADAPTERS: readonly SchemeMethod[] = [
  lora('lora', 'LoRA: a rank-r update B·A per matrix and instance.'),
  lora('tied_lora', 'Tied-LoRA: A and B shared per weight shape, per-target vectors u and v.'),
  lora('aslora', 'AS-LoRA: one A per input width, B merged into g groups.', [{ name: 'groups', type: 'int', required: false, min: 1, doc: 'Distinct B matrices per target shape (default 1).' }]),
  lora('vblora', 'VB-LoRA: sub-vectors mixed from one shared vector bank.', [
    { name: 'vectors', type: 'int', required: false, min: 1, doc: 'Vectors in the bank (default 256).' },
    { name: 'length', type: 'int', required: false, min: 1, doc: 'Length of each vector (default 256).' },
    { name: 'top_k', type: 'int', required: false, min: 1, doc: 'Vectors mixed per sub-vector (default 2).' },
  ]),
  lora('mos', 'Mixture of Shards: low-rank vectors built from a global shard pool.', [
    { name: 'shards', type: 'int', required: true, min: 1, doc: 'Shards per low-rank vector.' },
    { name: 'pool', type: 'int', required: true, min: 1, doc: 'Shards in the global pool per side and width.' },
    { name: 'private', type: 'int', required: false, min: 0, doc: 'Private shards per target and side (default 0).' },
  ], 'mos(rank: ${1:16}, shards: ${2:4}, pool: ${3:8})'),
  lora('poly', 'Polytropon: an inventory of skills LoRA modules per target, mixed per task by learned logits (Multi-Head Routing with splits > 1).', [
    { name: 'skills', type: 'int', required: true, min: 1, doc: 'LoRA modules in each target\'s inventory (PEFT n_skills).' },
    { name: 'splits', type: 'int', required: false, min: 1, doc: 'Blocks of d_in and d_out each mixed by its own logits (Multi-Head Routing; PEFT n_splits, default 1).' },
  ], 'poly(rank: ${1:8}, skills: ${2:4}, tasks: ${3:8})'),
  {
    name: 'arrow',
    call: true,
    args: [
      { name: 'rank', type: 'int', required: true, min: 1, doc: 'Rank r of every LoRA in the library.' },
      { name: 'experts', type: 'int', required: true, min: 1, doc: 'LoRAs E in the library per target (one per training task in a private library: 256 FLAN tasks in the paper).' },
      { name: 'top_k', type: 'int', required: true, min: 1, doc: 'Experts k each token runs per target, by |prototype·x| (mttl: topk=4 in its Arrow example); at most experts.' },
      { name: 'shared_a', type: 'name-list', required: false, doc: 'Targets of one layer that read the same input and share one A and one prototype per expert, e.g. [q, k, v] (mttl tie_params; Phi-2\'s fused Wqkv).' },
      TARGETS,
    ],
    snippet: 'arrow(rank: ${1:4}, experts: ${2:256}, top_k: ${3:4})',
    doc:
      'A LoRA library routed per token with no trained router (Arrow, Ostapenko et al. 2024): E frozen rank-r LoRAs per target and their prototypes (top right singular vector of each B·A, E·d_in, stored beside the library); ' +
      'a token scores every prototype by |prototype·x|, runs the top_k LoRAs and mixes them by a softmax over those scores. Nothing trains.',
  },
  {
    name: 'delta',
    call: true,
    args: [
      { name: 'merged', type: 'bool', required: false, doc: 'Merged into the base weight at inference: no extra FLOPs (TAPS serves W + ΔW).', values: ['true', 'false'] },
      TARGETS,
      TASKS,
      FOR_TASKS,
    ],
    snippet: 'delta(tasks: ${1:5}, merged: true)',
    doc: 'A full-rank residual ΔW of each target\'s shape, d_in·d_out params (TAPS: a task\'s own weights on the layers it adapts).',
  },
  {
    name: 'sparse',
    call: true,
    args: [
      { name: 'elements', type: 'int', required: true, min: 1, doc: 'Trainable elements of each target weight (FISH: the k of largest Fisher information), merged into it; at most d_in·d_out.' },
      TARGETS,
      TASKS,
      FOR_TASKS,
    ],
    snippet: 'sparse(elements: ${1:64})',
    doc: 'A sparse mask: k trainable elements of each target weight, the rest frozen (FISH masks); the new values are merged into the weight.',
  },
  {
    name: 'hyper',
    call: true,
    args: [
      { name: 'bottleneck', type: 'int', required: true, min: 1, doc: 'Width r of each generated adapter d_out → r → d_out (HyperFormer: d / reduction_factor, 768 / 32 = 24).' },
      { name: 'embedding', type: 'int', required: false, min: 1, doc: 'Width t of the task, layer and block embeddings (HyperFormer++: 64, the default).' },
      { name: 'hidden', type: 'int', required: false, min: 1, doc: 'Hidden width of the MLP that maps the three concatenated embeddings to the generator\'s input (task_hidden_dim, default 128).' },
      { name: 'projected', type: 'int', required: false, min: 1, doc: 'Width p of the generator\'s input (projected_task_embedding_dim, default 64).' },
      { name: 'norm', type: 'bool', required: false, doc: 'A generated LayerNorm (weight and bias) after each adapter (add_layer_norm_after_adapter, default true).', values: ['true', 'false'] },
      TARGETS,
      TASKS,
    ],
    snippet: 'hyper(bottleneck: ${1:24}, targets: [${2:o, down}], tasks: ${3:8})',
    doc:
      'HyperFormer++: one shared hypernetwork generates a bottleneck adapter d_out → r → d_out for every task, layer and target from task, layer and block embeddings; ' +
      'the generator is stored once per statement and the task embeddings once per model, nothing per target.',
  },
  {
    name: 'psrp',
    call: true,
    args: [
      { name: 'rank', type: 'int', required: true, min: 1, doc: 'Width r of the shared down projection (PSRP reduction, 16 in Moment Probing\'s MP+).' },
      TARGETS,
      TASKS,
    ],
    snippet: 'psrp(rank: ${1:16})',
    doc:
      'PSRP (Moment Probing\'s MP+): a scale and a shift of each target\'s output y (width d = d_out) recomputed per token from the residual stream x its sub-layer adds to (the block\'s stream before norm2 for MP+\'s mlp.down), y ↦ up_bias(h) + (1 + up_weight(h)) ⊙ y with h = relu(down(x)); ' +
      'down [r, d], up_weight and up_bias [d, r], no biases: 3·d·r params per target, 8·d·r FLOPs per token (the reference runs down twice).',
  },
  {
    name: 'bottleneck_adapter',
    call: true,
    args: [
      { name: 'bottleneck', type: 'int', required: true, min: 1, doc: 'Width r of the adapter d → r → d (adapter_bottleneck_dim).' },
      { name: 'norm', type: 'bool', required: false, doc: 'The adapter\'s own LayerNorm(d), weight and bias (default true, as nn.LayerNorm; false: no norm).', values: ['true', 'false'] },
      { name: 'post_norm', type: 'bool', required: false, doc: 'Normalise after the residual add, LayerNorm(y + up(ReLU(down(y)))), as the reference does with normalize_before false; the same parameters (default false: LayerNorm before down).', values: ['true', 'false'] },
      TARGETS,
      TASKS,
    ],
    snippet: 'bottleneck_adapter(bottleneck: ${1:128}, tasks: ${2:52}, targets: [${3:down}])',
    doc:
      'A regular bottleneck adapter on each target\'s output (width d = d_out): LayerNorm(d), Linear(d, r), ReLU, Linear(r, d), residual — fairseq\'s BottleneckAdapter, one per language with `tasks: N` (BottleneckAdapterBlock): ' +
      '2·d·r + r + d (+ 2·d with the norm) per target and task, stored and trained; 4·d·r FLOPs per token and target.',
  },
  {
    name: 'hyper_lang',
    call: true,
    args: [
      { name: 'bottleneck', type: 'int', required: true, min: 1, doc: 'Width r of each generated adapter d → r → d (hyperadapter_bottleneck_dim).' },
      { name: 'languages', type: 'int', required: true, min: 1, doc: 'Languages N: rows of the source and of the target language tables (len(hyperadapter_langs)).' },
      { name: 'embedding', type: 'int', required: true, min: 1, doc: 'Width e of the language and layer embeddings (the reference sizes its input 3·e, so both are e).' },
      { name: 'hidden', type: 'int', required: true, min: 1, doc: 'Width h of the hypernetwork encoder (hyperadapter_hidden_dim).' },
      { name: 'encoder_layers', type: 'int', required: true, min: 0, doc: 'Residual blocks of the encoder, each LayerNorm(h) and two Linear(h, h) (hyperadapter_num_hidden_layers).' },
      { name: 'norm', type: 'bool', required: false, doc: 'Generate the adapter\'s LayerNorm γ and β, two heads Linear(h, d) (hyperadapter_generate_layernorm, default false: a LayerNorm without parameters).', values: ['true', 'false'] },
      { name: 'tied_languages', type: 'bool', required: false, doc: 'One language table for source and target (hyperadapter_language_embedding_tied, default false).', values: ['true', 'false'] },
      { name: 'input_norm', type: 'bool', required: false, doc: 'A LayerNorm(3e) on the encoder\'s input (pre-norm; default false).', values: ['true', 'false'] },
      { name: 'output_norm', type: 'bool', required: false, doc: 'A LayerNorm(h) on the encoder\'s output (post-norm; default false).', values: ['true', 'false'] },
      { name: 'post_norm', type: 'bool', required: false, doc: 'Normalise after each residual add instead of before the branch — the encoder\'s residual blocks LayerNorm(x + fc2(ReLU(fc1(x)))) and the generated adapter LayerNorm(y + up(ReLU(down(y)))) — as the reference does with normalize_before false (fairseq\'s default Transformer); the same parameters (default false: pre-norm).', values: ['true', 'false'] },
      TARGETS,
    ],
    snippet: 'hyper_lang(bottleneck: ${1:128}, languages: ${2:8}, embedding: ${3:50}, hidden: ${4:512}, encoder_layers: ${5:2}, targets: [${6:down}])',
    doc:
      'Hyper-Adapters: one hypernetwork generates a bottleneck adapter d → r → d for every language pair and layer from source-language, target-language and layer embeddings; ' +
      'stored once per statement (the language tables, the layer embeddings of every stack its paths reach, the encoder and the heads), nothing per target.',
  },
  {
    name: 'scalearn',
    call: true,
    args: [
      { name: 'bottleneck', type: 'int', required: true, min: 1, doc: 'Width r of each frozen source adapter d_out → r → d_out (a Pfeiffer adapter: d / reduction_factor, 768 / 16 = 48).' },
      { name: 'sources', type: 'int', required: false, min: 1, doc: 'Source adapters N combined at each target, one per source task (default: the tasks T, every declared task a source).' },
      { name: 'scaling', type: 'name', required: false, doc: 'vector: ω [N, d_out], a scale per source and channel (ScaLearn, the default); scalar: ω [N, 1] (ScaLearnUniform).', values: ['vector', 'scalar'] },
      { name: 'shared', type: 'bool', required: false, doc: 'One ω per statement read by every layer (ScaLearn++, ScaLearnUniform++) instead of one per target (default false).', values: ['true', 'false'] },
      TARGETS,
      TASKS,
    ],
    snippet: 'scalearn(bottleneck: ${1:48}, sources: ${2:8}, tasks: ${3:8})',
    doc:
      'ScaLearn: N frozen source-task bottleneck adapters d_out → r → d_out on each target\'s output, combined by learned scales ω per target task (Σ ω_n ⊙ adapter_n(y)); ' +
      'the adapters are stored once and never trained, ω ([N, d_out] or [N, 1], per layer or shared) is all a task trains.',
  },
  {
    name: 'loretta_rep',
    call: true,
    args: [
      { name: 'rank', type: 'int', required: true, min: 1, doc: 'LoRA rank r: A is d_in × r, B is r × d_out (the reference\'s r, default 8).' },
      { name: 'tt_rank', type: 'int', required: true, min: 1, doc: 'TT rank of every inner bond of both trains (the reference\'s tensor_rank: 5 in its README, 8 in its LLaMA runs).' },
      { name: 'modes_a', type: 'int-list', required: false, doc: 'Modes n₁…n_d of A\'s train, ∏ n_k = d_in·r (default: the reference\'s TRANSFORMERS_HIDDEN_SIZE_TO_TENSOR_SHAPE[r][d_in]).' },
      { name: 'modes_b', type: 'int-list', required: false, doc: 'Modes of B\'s train, ∏ n_k = r·d_out (default: the reference\'s table at [r][d_out]).' },
      { name: 'merged', type: 'bool', required: false, doc: 'B·A merged into the base weight at inference: no extra FLOPs.', values: ['true', 'false'] },
      TARGETS,
      { name: 'alpha', type: 'ratio', required: false, doc: 'LoRA scaling α (does not change counts).' },
      TASKS,
    ],
    snippet: 'loretta_rep(rank: ${1:8}, tt_rank: ${2:5}, targets: [${3:q, v}])',
    doc:
      'LoRETTA_rep: a LoRA update ΔW = B·A whose A and B are each a tensor train over their elements, cores [r_{k−1}, n_k, r_k] with one TT rank, no bias: ' +
      'Σ_k r_{k−1}·n_k·r_k params per train. Each train is applied as split factors or materialised once per step, whichever is cheaper.',
  },
  {
    name: 'loretta_adp',
    call: true,
    args: [
      { name: 'bottleneck', type: 'int', required: true, min: 1, doc: 'Width b of the bottleneck d → b → d (the reference\'s bottleneck_size: 64 for LLaMA).' },
      { name: 'tt_rank', type: 'int', required: true, min: 1, doc: 'TT rank of every inner bond of the down and up trains (the reference\'s tensor_rank).' },
      { name: 'side', type: 'name', required: false, values: ['output', 'input'], doc: 'Where the adapter sits: on the weight\'s output, d = d_out (the reference\'s output_adapter, default), or on its input before the matmul, d = d_in (mh_adapter: LLaMA\'s gate_proj and up_proj).' },
      { name: 'modes_down', type: 'int-list', required: false, doc: 'Modes of the down train, ∏ n_k = d·b (default: the reference\'s TRANSFORMERS_HIDDEN_SIZE_TO_TENSOR_SHAPE[b][d]).' },
      { name: 'modes_up', type: 'int-list', required: false, doc: 'Modes of the up train, ∏ n_k = b·d (default: the reference\'s table at [b][d]).' },
      TARGETS,
      TASKS,
    ],
    snippet: 'loretta_adp(bottleneck: ${1:64}, tt_rank: ${2:5}, targets: [${3:down}])',
    doc:
      'LoRETTA_adp: a bottleneck adapter x + up(σ(down(x))) whose down (d → b) and up (b → d) matrices are tensor trains, cores [r_{k−1}, n_k, r_k], each with its bias: ' +
      'the cores plus b + d params per target. Not mergeable (the nonlinearity).',
  },
];

export const adaptScheme: SharingScheme = {
  keyword: 'adapt',
  snippet: 'adapt ${1:body}: lora(rank: ${2:16})',
  summary: 'Adds adapters on top of a frozen base.',
  hover: '`adapt PATHS: lora(rank: r)`: adapters over a frozen base.',
  methods: ADAPTERS,
  order: 2,
  keepsStores: false,
  resolve(s, scope, model) {
    const adapter = s.value ? readAdapter(s.value, scope, model) : undefined;
    if (!adapter) return;
    const { method, tasks, owners } = adapter;
    const targets = targetWeights(s.value);
    const resolved: { readonly r: ResolvedPath; readonly range: TextRange }[] = [];
    eachTarget(s, scope, model, (r, range) => {
      if (!checkAdapterTargets(method, r, range, model.ctx, targets)) return;
      resolved.push({ r, range });
    });
    const shaped = shapeAdapter(method, resolved, targets, model.ctx);
    if (!shaped) return;
    // Hyper-Adapters number the layers of every stack the statement reaches in turn: each path's
    // modifier says where its stack's layer embeddings start.
    const offsets = shaped.kind === 'hyper_lang' ? stackOffsets(resolved) : undefined;
    for (const [i, { r }] of resolved.entries()) {
      const perPath = shaped.kind === 'hyper_lang' ? { ...shaped, offset: offsets![i]! } : shaped;
      model.addModifier({ pattern: r.pattern, effect: { kind: 'adapter', method: perPath, weights: r.weight ? [r.weight] : targets, relax: false, tasks, ...(owners ? { owners } : {}) }, range: s.range });
    }
  },
  // A note on the instance (adapters of `adapt` and of `share … relax` alike): the method and rank,
  // and the tasks when each task has its own (a model's tasks are one of its dimensions), or
  // which of them own it (`for_tasks`: TAPS's per-task layers).
  drawing: {
    effects: ['adapter'],
    draw(mod, { reader, addNote }) {
      if (mod.effect.kind !== 'adapter') return;
      const { owners } = mod.effect;
      const tasks = owners ? `, task${owners.length > 1 ? 's' : ''} ${owners.join(', ')} of ${mod.effect.tasks}` : mod.effect.tasks > 1 ? `, per task ×${mod.effect.tasks}` : '';
      addNote({ kind: 'adapter', member: reader.member, index: reader.index, label: onSub(`${adapterLabel(mod.effect.method)}${tasks}${mod.effect.relax ? ' (relax)' : ''}`, reader), range: mod.range });
    },
  },
};

/** The adapter a statement puts on its resolved targets: a hypernetwork sized to them (hyperShape), any other as read. */
export function shapeAdapter(
  method: AdapterMethod,
  resolved: readonly { readonly r: ResolvedPath; readonly range: TextRange }[],
  targets: readonly string[] | undefined,
  ctx: EvalContext,
): AdapterMethod | undefined {
  if (method.kind === 'hyper') return hyperShape(method, resolved, targets, ctx);
  if (method.kind === 'hyper_lang') return languageHyperShape(method, resolved, targets, ctx);
  if (method.kind === 'loretta_rep' || method.kind === 'loretta_adp') {
    // How the statement's trains run over every weight it adapts, for the drawing's note.
    const shapes = resolved.flatMap(({ r }) => matmulTargets(r.node, r.weight, targets));
    const runs = lorettaExecution(method, shapes);
    return runs ? { ...method, runs } : method;
  }
  return method;
}

/**
 * A hypernetwork's embeddings, read from what its statement adapts: L layer embeddings, one per
 * instance of the longest stack a path fans out over (1 without one), and K block embeddings,
 * one per weight an instance adapts (HyperFormer++ on T5: self-attention's and the FFN's output,
 * K = 2, over 12 layers). One generator emits one shape, so every target has the same d_out.
 */
function hyperShape(
  method: Extract<AdapterMethod, { readonly kind: 'hyper' }>,
  resolved: readonly { readonly r: ResolvedPath; readonly range: TextRange }[],
  targets: readonly string[] | undefined,
  ctx: EvalContext,
): AdapterMethod | undefined {
  if (resolved.length === 0) return undefined;
  let layers = 1;
  let blocks = 0;
  let width: { readonly dOut: number; readonly name: string } | undefined;
  for (const { r, range } of resolved) {
    // One layer embedding per instance: the instances are addressed one by one.
    const stack = r.fanOut ? r.fanOut.stack : r.node.kind === 'stack' ? r.node : undefined;
    const instances = stack ? indexableLength(stack, range, ctx) : 1;
    if (instances === undefined) return undefined;
    layers = Math.max(layers, instances);
    const adapted = matmulTargets(r.node, r.weight, targets);
    blocks += adapted.length;
    for (const w of adapted) {
      width ??= w;
      if (w.dOut !== width.dOut) {
        ctx.sink.error('npas-adapter', `hyper: one generator emits one adapter shape, but '${w.name}' outputs ${w.dOut} and '${width.name}' ${width.dOut}; write one hyper statement per width`, range);
        return undefined;
      }
    }
  }
  return { ...method, layers, blocks };
}

/** The stack a resolved path fans out over or names, and its instances (1 and no stack for a single instance). */
function pathStack(r: ResolvedPath, range: TextRange, ctx: EvalContext): { readonly stack: ModuleNode | undefined; readonly instances: number } | undefined {
  const stack = r.fanOut ? r.fanOut.stack : r.node.kind === 'stack' ? r.node : undefined;
  const instances = stack ? indexableLength(stack, range, ctx) : 1;
  return instances === undefined ? undefined : { stack, instances };
}

/**
 * Hyper-Adapters' embeddings, read from what the statement adapts: one layer embedding per
 * instance of every distinct stack its paths reach (the reference's enc-i and dec-i ids, encoder
 * and decoder layers in one table), and one adapter width d for every target.
 */
function languageHyperShape(
  method: Extract<AdapterMethod, { readonly kind: 'hyper_lang' }>,
  resolved: readonly { readonly r: ResolvedPath; readonly range: TextRange }[],
  targets: readonly string[] | undefined,
  ctx: EvalContext,
): AdapterMethod | undefined {
  if (resolved.length === 0) return undefined;
  const seen = new Set<ModuleNode>();
  let layers = 0;
  let width: { readonly dOut: number; readonly name: string } | undefined;
  for (const { r, range } of resolved) {
    const at = pathStack(r, range, ctx);
    if (!at) return undefined;
    if (!at.stack) layers += 1;
    else if (!seen.has(at.stack)) {
      seen.add(at.stack);
      layers += at.instances;
    }
    for (const w of matmulTargets(r.node, r.weight, targets)) {
      width ??= w;
      if (w.dOut !== width.dOut) {
        ctx.sink.error('npas-adapter', `hyper_lang: one hypernetwork emits one adapter shape, but '${w.name}' outputs ${w.dOut} and '${width.name}' ${width.dOut}; write one hyper_lang statement per width`, range);
        return undefined;
      }
    }
  }
  return { ...method, layers };
}

/** Where each resolved path's stack starts among the statement's layer embeddings (as languageHyperShape counts them). */
function stackOffsets(resolved: readonly { readonly r: ResolvedPath; readonly range: TextRange }[]): number[] {
  const starts = new Map<ModuleNode, number>();
  let next = 0;
  return resolved.map(({ r }) => {
    const stack = r.fanOut ? r.fanOut.stack : r.node.kind === 'stack' ? r.node : undefined;
    if (!stack) return next++;
    let start = starts.get(stack);
    if (start === undefined) {
      start = next;
      starts.set(stack, start);
      next += stack.kind === 'stack' ? Number(stack.length) : 1;
    }
    return start;
  });
}

/** The matmul weights (name, d_in, d_out) an adapter statement adapts in one instance of a node. */
function matmulTargets(node: ModuleNode, weight: string | undefined, targets: readonly string[] | undefined): { readonly name: string; readonly dIn: number; readonly dOut: number }[] {
  const found: { name: string; dIn: number; dOut: number }[] = [];
  const visit = (n: ModuleNode): void => {
    if (n.kind === 'layer') {
      for (const w of n.cost.weights) {
        if (w.matmul && (weight === undefined ? targets === undefined || targets.includes(w.name) : w.name === weight)) found.push({ name: w.name, dIn: w.matmul.dIn, dOut: w.matmul.dOut });
      }
    } else if (n.kind === 'block') n.members.forEach((m) => visit(m.node));
    else visit(n.runs[0]!.node);
  };
  visit(node);
  return found;
}

/** An adapter as the dashboard's note names it. */
function adapterLabel(m: AdapterMethod): string {
  switch (m.kind) {
    case 'lora':
      return `LoRA r=${m.rank}`;
    case 'tied_lora':
      return `tied LoRA r=${m.rank}`;
    case 'aslora':
      return `ASLoRA r=${m.rank}`;
    case 'vblora':
      return `VB-LoRA r=${m.rank}`;
    case 'mos':
      return `MoS r=${m.rank}`;
    case 'poly':
      // Multi-Head Routing's heads are what set it apart from Polytropon: name them when there are several.
      return `Poly r=${m.rank} ×${m.skills} skills${m.splits > 1 ? ` ×${m.splits} heads` : ''}`;
    case 'delta':
      return 'full-rank delta';
    case 'sparse':
      return `sparse mask k=${m.elements}`;
    case 'arrow':
      return `Arrow library r=${m.rank} ×${m.experts} LoRAs, top-${m.topK}${m.tie.length > 1 ? `, shared A ${m.tie.join('/')}` : ''}`;
    case 'hyper':
      return `hypernetwork-generated adapter r=${m.bottleneck}`;
    case 'psrp':
      return `PSRP r=${m.rank}`;
    case 'bottleneck_adapter':
      return `bottleneck adapter r=${m.bottleneck}${m.postNorm ? ', post-norm' : ''}`;
    case 'hyper_lang':
      return `Hyper-Adapter r=${m.bottleneck}, ${m.languages} languages, layer ${m.offset}+${m.postNorm ? ', post-norm' : ''}`;
    case 'scalearn':
      // The four variants of the paper: vector or scalar scales, per layer or shared (++).
      return `ScaLearn${m.scaling === 'scalar' ? 'Uniform' : ''}${m.shared ? '++' : ''} ×${m.sources} sources r=${m.bottleneck}`;
    case 'loretta_rep':
      return `LoRETTA_rep r=${m.rank}, TT rank ${m.ttRank}${ttRuns(m.runs)}`;
    case 'loretta_adp':
      return `LoRETTA_adp b=${m.bottleneck}, TT rank ${m.ttRank}, on the ${m.side}${ttRuns(m.runs)}`;
  }
}

/** Which execution a LoRETTA statement's FLOPs count (sharing/tt-adapter.ts, `factorExecution`). */
function ttRuns(runs: 'factors' | 'dense' | 'mixed' | undefined): string {
  return runs === 'factors' ? ': TT factors applied' : runs === 'dense' ? ': matrices materialised per step' : runs === 'mixed' ? ': factors or matrices per weight' : '';
}

/**
 * The adapter an expression names and its task count (`tasks: T`, one adapter per task; 1 by
 * default), its arguments checked; undefined after a located error. A model's per-task adapters
 * must agree on T: tasks are one dimension of the model.
 */
export function readAdapter(expr: Expression, scope: Scope, model: SchemeContext): { readonly method: AdapterMethod; readonly tasks: number; readonly owners?: readonly number[] } | undefined {
  const { ctx } = model;
  const expected = `expected an adapter: ${ADAPTERS.map((m) => `${m.name}(${m.args.find((a) => a.required)?.name ?? ''}${m.args.some((a) => a.required) ? ': …, ' : ''}…)`).join(', ')}`;
  const read = readMethodCall(expr, expr.range, ADAPTERS, 'npas-adapter', expected, scope, ctx);
  if (!read) return undefined;
  const { call, args } = read;
  const tasks = (args.get('tasks') as number | undefined) ?? 1;
  if (tasks > 1) {
    const other = model.modifiers.find((m) => m.effect.kind === 'adapter' && m.effect.tasks > 1 && m.effect.tasks !== tasks);
    if (other && other.effect.kind === 'adapter') {
      const written = call.args.find((a) => a.name?.text === 'tasks');
      ctx.sink.error('npas-adapter', `tasks: ${tasks} differs from the ${other.effect.tasks} tasks of another adapter of this model: a model has one number of tasks`, written?.value.range ?? call.argsRange);
      return undefined;
    }
  }
  const owners = readOwners(call, args, tasks, ctx);
  if (owners === null) return undefined;
  const method = adapterMethod(call, args, ctx, tasks);
  return method ? { method, tasks, ...(owners ? { owners } : {}) } : undefined;
}

/**
 * The tasks `for_tasks: [i, …]` names, ascending: each within 0 … T − 1 of a model with tasks: T,
 * none twice, not empty. Undefined when not written; null after a located error.
 */
function readOwners(call: StatementCall, args: Map<string, StatementArgValue>, tasks: number, ctx: EvalContext): readonly number[] | undefined | null {
  const list = args.get('for_tasks') as number[] | undefined;
  if (list === undefined) return undefined;
  const written = call.args.find((a) => a.name?.text === 'for_tasks')?.value.range ?? call.argsRange;
  if (tasks < 2) {
    ctx.sink.error('npas-adapter', `for_tasks names which of the model's tasks own this adapter: write tasks: T (at least 2) beside it`, written);
    return null;
  }
  if (list.length === 0) {
    ctx.sink.error('npas-adapter', 'for_tasks is empty: name at least one task (leave the statement out for none)', written);
    return null;
  }
  const seen = new Set<number>();
  for (const t of list) {
    if (t < 0 || t >= tasks) {
      ctx.sink.error('npas-adapter', `for_tasks: task ${t} is not one of the ${tasks} tasks (numbered 0 … ${tasks - 1})`, written);
      return null;
    }
    if (seen.has(t)) {
      ctx.sink.error('npas-adapter', `for_tasks: task ${t} is named twice`, written);
      return null;
    }
    seen.add(t);
  }
  return [...seen].sort((a, b) => a - b);
}

/** The adapter method of a checked call. */
function adapterMethod(call: StatementCall, args: Map<string, StatementArgValue>, ctx: EvalContext, tasks: number): AdapterMethod | undefined {
  const rank = args.get('rank') as number;
  const merged = (args.get('merged') as boolean | undefined) ?? false;
  switch (call.name) {
    case 'psrp':
      return { kind: 'psrp', rank };
    case 'bottleneck_adapter':
      return { kind: 'bottleneck_adapter', bottleneck: args.get('bottleneck') as number, norm: (args.get('norm') as boolean | undefined) ?? true, postNorm: (args.get('post_norm') as boolean | undefined) ?? false };
    case 'scalearn': {
      // The sources are fixed here, not read from the tasks later: a model counted with one task
      // (tasks.ts, the per-task split) still combines the same N source adapters.
      const sources = (args.get('sources') as number | undefined) ?? tasks;
      if (sources < 2) {
        ctx.sink.error('npas-adapter', 'scalearn: combining source adapters needs at least 2 of them; write sources: N or tasks: T', call.argsRange);
        return undefined;
      }
      return {
        kind: 'scalearn',
        bottleneck: args.get('bottleneck') as number,
        sources,
        scaling: (args.get('scaling') as string | undefined) === 'scalar' ? 'scalar' : 'vector',
        shared: (args.get('shared') as boolean | undefined) ?? false,
      };
    }
    case 'poly':
      return { kind: 'poly', rank, skills: args.get('skills') as number, splits: (args.get('splits') as number | undefined) ?? 1, merged };
    case 'delta':
      return { kind: 'delta', merged };
    case 'sparse':
      return { kind: 'sparse', elements: args.get('elements') as number };
    case 'arrow': {
      const experts = args.get('experts') as number;
      const topK = args.get('top_k') as number;
      if (topK > experts) {
        ctx.sink.error('npas-adapter', `arrow: top_k (${topK}) cannot exceed experts (${experts})`, call.argsRange);
        return undefined;
      }
      return { kind: 'arrow', rank, experts, topK, tie: targetWeights(call, 'shared_a') ?? [] };
    }
    case 'hyper_lang':
      // layers and each path's offset are read from the statement's targets once they resolve (languageHyperShape).
      return {
        kind: 'hyper_lang',
        bottleneck: args.get('bottleneck') as number,
        languages: args.get('languages') as number,
        embedding: args.get('embedding') as number,
        hidden: args.get('hidden') as number,
        encoderLayers: args.get('encoder_layers') as number,
        norm: (args.get('norm') as boolean | undefined) ?? false,
        tied: (args.get('tied_languages') as boolean | undefined) ?? false,
        inputNorm: (args.get('input_norm') as boolean | undefined) ?? false,
        outputNorm: (args.get('output_norm') as boolean | undefined) ?? false,
        postNorm: (args.get('post_norm') as boolean | undefined) ?? false,
        layers: 1,
        offset: 0,
      };
    case 'hyper':
      // layers and blocks are read from the statement's targets once they resolve (hyperShape).
      return {
        kind: 'hyper',
        bottleneck: args.get('bottleneck') as number,
        embedding: (args.get('embedding') as number | undefined) ?? 64,
        hidden: (args.get('hidden') as number | undefined) ?? 128,
        projected: (args.get('projected') as number | undefined) ?? 64,
        norm: (args.get('norm') as boolean | undefined) ?? true,
        layers: 1,
        blocks: 1,
      };
    case 'lora':
      return { kind: 'lora', rank, merged };
    case 'loretta_rep':
    case 'loretta_adp':
      return lorettaMethod(call, args, ctx);
    case 'tied_lora':
      return { kind: 'tied_lora', rank, merged };
    case 'aslora':
      return { kind: 'aslora', rank, groups: (args.get('groups') as number | undefined) ?? 1, merged };
    case 'vblora': {
      const topK = (args.get('top_k') as number | undefined) ?? 2;
      const vectors = (args.get('vectors') as number | undefined) ?? 256;
      if (topK > vectors) {
        ctx.sink.error('npas-adapter', `vblora: top_k (${topK}) cannot exceed vectors (${vectors})`, call.argsRange);
        return undefined;
      }
      return { kind: 'vblora', rank, vectors, length: (args.get('length') as number | undefined) ?? 256, topK, merged };
    }
    default:
      return { kind: 'mos', rank, shards: args.get('shards') as number, pool: args.get('pool') as number, privateShards: (args.get('private') as number | undefined) ?? 0, merged };
  }
}

/**
 * A LoRETTA method of a checked call: every written mode at least 1 and at least two of them (a
 * train of one core is the dense matrix), reported as `npas-adapter-modes`; whether the modes
 * multiply to each target's size is checked per target (checkAdapterTargets).
 */
function lorettaMethod(call: StatementCall, args: Map<string, StatementArgValue>, ctx: EvalContext): AdapterMethod | undefined {
  const names = call.name === 'loretta_rep' ? ['modes_a', 'modes_b'] : ['modes_down', 'modes_up'];
  const modes: (readonly number[] | undefined)[] = [];
  for (const name of names) {
    const list = args.get(name) as readonly number[] | undefined;
    const written = call.args.find((a) => a.name?.text === name);
    if (list && (list.length < 2 || list.some((n) => n < 1))) {
      ctx.sink.error('npas-adapter-modes', `${call.name}(): '${name}' lists at least two modes, each at least 1 (a train of one core is the dense matrix), got [${list.join(', ')}]`, written?.value.range ?? call.argsRange);
      return undefined;
    }
    modes.push(list);
  }
  const ttRank = args.get('tt_rank') as number;
  if (call.name === 'loretta_rep') {
    return { kind: 'loretta_rep', rank: args.get('rank') as number, ttRank, modesA: modes[0], modesB: modes[1], merged: (args.get('merged') as boolean | undefined) ?? false };
  }
  return { kind: 'loretta_adp', bottleneck: args.get('bottleneck') as number, ttRank, side: (args.get('side') as 'input' | 'output' | undefined) ?? 'output', modesDown: modes[0], modesUp: modes[1] };
}

/** The weight names of an adapter's `targets: [q, v]` argument (or another name-list argument); undefined when not given. */
export function targetWeights(expr: Expression | StatementCall | undefined, arg = 'targets'): readonly string[] | undefined {
  const call = expr === undefined ? undefined : 'kind' in expr ? asStatementCall(expr) : expr;
  const targets = call?.args.find((a) => a.name?.text === arg);
  if (!targets) return undefined;
  const list = targets.value.kind === 'List' ? targets.value.elements : [targets.value];
  return list.filter((e) => e.kind === 'Name').map((e) => (e.kind === 'Name' ? e.name.text : ''));
}

/** Adapters need matmul weights; VB-LoRA and MoS also need widths divisible by their unit. */
export function checkAdapterTargets(method: AdapterMethod, r: ResolvedPath, range: TextRange, ctx: EvalContext, targets?: readonly string[]): boolean {
  const widths: number[] = [];
  const kernels: string[] = [];
  let smallest: { readonly name: string; readonly elements: number } | undefined;
  const visit = (n: ModuleNode): void => {
    if (n.kind === 'layer') {
      for (const w of n.cost.weights) {
        if (!(r.weight === undefined ? targets === undefined || targets.includes(w.name) : w.name === r.weight)) continue;
        const matrix = adaptedMatrix(w, method);
        if (matrix) {
          widths.push(matrix.dIn, matrix.dOut);
          const elements = matrix.dIn * matrix.dOut;
          if (smallest === undefined || elements < smallest.elements) smallest = { name: w.name, elements };
        } else if (isKernel(w)) kernels.push(w.name);
      }
    } else if (n.kind === 'block') n.members.forEach((m) => visit(m.node));
    else n.runs.forEach((x) => visit(x.node));
  };
  r.nodes.forEach(visit);
  if (widths.length === 0 && kernels.length > 0) {
    ctx.sink.error('npas-adapter', `'${r.key}' holds convolution kernels, which only a merged full-rank delta adapts (delta(merged: true): W + ΔW, one kernel, as TAPS serves ResNets)`, range);
    return false;
  }
  if (widths.length === 0) {
    const named = targets && r.weight === undefined ? ` named ${targets.join(', ')}` : '';
    ctx.sink.error('npas-adapter', `'${r.key}' has no matrices${named} to adapt`, range);
    return false;
  }
  if (method.kind === 'sparse' && smallest && method.elements > smallest.elements) {
    ctx.sink.error('npas-adapter', `sparse: elements (${method.elements}) exceeds the ${smallest.elements} elements of target '${smallest.name}'`, range);
    return false;
  }
  if (method.kind === 'arrow' && method.tie.length > 0 && !checkArrowTie(method.tie, r, range, ctx, targets)) return false;
  const unit = method.kind === 'mos' ? method.shards : method.kind === 'poly' ? method.splits : undefined;
  if (unit && widths.some((w) => w % unit !== 0)) {
    ctx.sink.error('npas-adapter', `${method.kind}: every adapted width must be divisible by ${method.kind === 'mos' ? 'shards' : 'splits'} (${unit})`, range);
    return false;
  }
  if (method.kind === 'loretta_rep' || method.kind === 'loretta_adp') {
    // Every adapted weight's trains must hold its factors' elements exactly.
    for (let i = 0; i + 1 < widths.length; i += 2) {
      const result = lorettaMatrices(method, widths[i]!, widths[i + 1]!);
      if (!result.ok) {
        ctx.sink.error('npas-adapter-modes', result.message, range);
        return false;
      }
    }
  }
  if (method.kind === 'vblora') {
    // Sub-vectors have length b: r·d_in and r·d_out must split into whole sub-vectors.
    const bad = widths.find((w) => (method.rank * w) % method.length !== 0 && w % method.length !== 0);
    if (bad !== undefined) {
      ctx.sink.error('npas-adapter', `vblora: width ${bad} is not divisible by the vector length ${method.length}`, range);
      return false;
    }
  }
  return true;
}

/**
 * Arrow's `shared_a: [q, k, v]`: in every layer the statement adapts, each tied name is an adapted
 * matmul and all read one input width (they share one A [r, d_in] and one prototype per expert;
 * the first name holds them, the counting and the exporter both say so).
 */
function checkArrowTie(tie: readonly string[], r: ResolvedPath, range: TextRange, ctx: EvalContext, targets: readonly string[] | undefined): boolean {
  const outside = tie.find((n) => (r.weight !== undefined ? n !== r.weight : targets !== undefined && !targets.includes(n)));
  if (outside !== undefined) {
    ctx.sink.error('npas-adapter', `arrow: shared_a weight '${outside}' is not one of the weights this statement adapts`, range);
    return false;
  }
  let bad: string | undefined;
  const visit = (n: ModuleNode): void => {
    if (bad !== undefined) return;
    if (n.kind === 'layer') {
      const adapted = n.cost.weights.filter((w) => w.matmul && (targets === undefined || targets.includes(w.name)));
      if (adapted.length === 0) return;
      const tied = tie.map((name) => adapted.find((w) => w.name === name));
      const missing = tie.find((_, i) => tied[i] === undefined);
      if (missing !== undefined) bad = `arrow: shared_a weight '${missing}' is not a matrix of the adapted ${n.layerKind}`;
      else if (tied.some((w) => w!.matmul!.dIn !== tied[0]!.matmul!.dIn)) bad = `arrow: shared_a weights share one A, so they must read one input width; ${tie.map((name, i) => `'${name}' reads ${tied[i]!.matmul!.dIn}`).join(', ')}`;
    } else if (n.kind === 'block') n.members.forEach((m) => visit(m.node));
    else n.runs.forEach((x) => visit(x.node));
  };
  r.nodes.forEach(visit);
  if (bad !== undefined) ctx.sink.error('npas-adapter', bad, range);
  return bad === undefined;
}
