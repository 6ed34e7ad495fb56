// The words of sharing statements that are not layer kinds: stack strategies, KV strategies,
// adapters and the other statement methods, with their arguments and one-line docs, plus the
// keywords. The sharing stage (sharing/resolve-statements.ts) is the authority on what they
// mean; this table is what completion offers and hovers explain, and a test checks each
// method listed here is accepted by the engine.

import { PARALLEL_METHODS } from '../analysis/parallel-streams.js';
import { PARAM_ARGS } from '../parameterization/resolve-parameterization.js';
import { HALT_ARGS } from '../sharing/halting.js';
import { SCHEMES } from '../parameterization/schemes.js';

/** An argument of a statement method (`rank` of `lora(rank: 64)`). */
export interface MethodArg {
  readonly name: string;
  readonly required: boolean;
  readonly doc: string;
  /** Values to offer in the argument's value position. */
  readonly values?: readonly string[];
}

/** A strategy or method written after `:` (or after `relax`) in a statement. */
export interface StatementMethod {
  readonly name: string;
  /** Whether it is written as a call (`cycle(9)`) or a bare name (`all`). */
  readonly call: boolean;
  readonly args: readonly MethodArg[];
  /** The first argument may be written positionally (`cycle(9)`, `every(2)`). */
  readonly positional?: boolean;
  /** What completion inserts (a snippet with `${1:…}` placeholders). */
  readonly snippet: string;
  readonly doc: string;
}

const lora = (name: string, doc: string, extra: readonly MethodArg[] = [], snippet = `${name}(rank: \${1:16})`): StatementMethod => ({
  name,
  call: true,
  args: [
    { name: 'rank', required: true, doc: 'Rank r of each adapter: r·(d_in + d_out) params per matrix.' },
    { name: 'merged', required: false, doc: 'Merged into the base weight at inference: no extra FLOPs.', values: ['true', 'false'] },
    { name: 'targets', required: false, doc: 'Only the named weights, e.g. [q, v].' },
    { name: 'alpha', required: false, doc: 'LoRA scaling α (does not change counts).' },
    ...extra,
  ],
  snippet,
  doc,
});

/** `share STACK: …` — how the N instances of a stack map to stores. */
export const STACK_STRATEGIES: readonly StatementMethod[] = [
  { name: 'none', call: false, args: [], snippet: 'none', doc: 'Every instance keeps its own weights (σ(i) = i).' },
  { name: 'all', call: false, args: [], snippet: 'all', doc: 'One store for every instance (Universal Transformer, ALBERT).' },
  { name: 'cycle', call: true, positional: true, args: [{ name: 'n', required: true, doc: 'Number of stores M: instance i uses store i mod M.' }], snippet: 'cycle(${1:2})', doc: 'CYCLE: σ(i) = i mod M (Takase & Kiyono; Relaxed Recursive Transformers).' },
  { name: 'sequence', call: true, positional: true, args: [{ name: 'n', required: true, doc: 'Number of stores M: instance i uses store ⌊i·M/N⌋.' }], snippet: 'sequence(${1:2})', doc: 'SEQUENCE: consecutive instances share, σ(i) = ⌊i·M/N⌋.' },
  { name: 'cycle_rev', call: true, positional: true, args: [{ name: 'n', required: true, doc: 'Number of stores M.' }], snippet: 'cycle_rev(${1:2})', doc: 'CYCLE (REV): cycle, with the last cycle run backwards.' },
  { name: 'map', call: true, positional: true, args: [{ name: 'map', required: true, doc: 'One store index per instance.' }], snippet: 'map([${1:0, 0, 1, 1}])', doc: 'An explicit store index per instance: map([s0, s1, …]).' },
];

/** `share kv STACK: …` — which attention instances produce the KV cache. */
export const KV_STRATEGIES: readonly StatementMethod[] = [
  { name: 'every', call: true, positional: true, args: [{ name: 'n', required: true, doc: 'Group size: the first of n consecutive instances produces, the others read it.' }], snippet: 'every(${1:2})', doc: 'Cross-layer attention (CLA, MLKV): groups of n share one KV cache.' },
  { name: 'map', call: true, positional: true, args: [{ name: 'map', required: true, doc: 'For each instance, the instance whose KV it reads (≤ its own index).' }], snippet: 'map([${1:0, 0, 2, 2}])', doc: 'An explicit KV source per instance (LCKV layer types).' },
  { name: 'tied', call: false, args: [], snippet: 'tied', doc: 'Instances that share a store read the KV of its first instance (MoR recursive KV sharing).' },
];

/** `share heads PATH: …` */
export const HEAD_STRATEGIES: readonly StatementMethod[] = [
  {
    name: 'pairs',
    call: true,
    positional: true,
    args: [
      { name: 'n', required: true, doc: 'How many query/key head slices reuse another layer\'s head.' },
      { name: 'qkvo', required: false, doc: 'Also share the W_v and W_o slices.', values: ['true', 'false'] },
    ],
    snippet: 'pairs(${1:1})',
    doc: 'Head-wise sharing (DirectShare): n head slices reuse another layer\'s head.',
  },
];

/** `adapt PATHS: …` and `share …: … relax …` */
export const ADAPTERS: readonly StatementMethod[] = [
  lora('lora', 'LoRA: a rank-r update B·A per matrix and instance.'),
  lora('tied_lora', 'Tied-LoRA: A and B shared per weight shape, per-target vectors u and v.'),
  lora('aslora', 'AS-LoRA: one A per input width, B merged into g groups.', [{ name: 'groups', required: false, doc: 'Distinct B matrices per target shape (default 1).' }]),
  lora('vblora', 'VB-LoRA: sub-vectors mixed from one shared vector bank.', [
    { name: 'vectors', required: false, doc: 'Vectors in the bank (default 256).' },
    { name: 'length', required: false, doc: 'Length of each vector (default 256).' },
    { name: 'top_k', required: false, doc: 'Vectors mixed per sub-vector (default 2).' },
  ]),
  lora('mos', 'Mixture of Shards: low-rank vectors built from a global shard pool.', [
    { name: 'shards', required: true, doc: 'Shards per low-rank vector.' },
    { name: 'pool', required: true, doc: 'Shards in the global pool per side and width.' },
    { name: 'private', required: false, doc: 'Private shards per target and side (default 0).' },
  ], 'mos(rank: ${1:16}, shards: ${2:4}, pool: ${3:8})'),
];

/** The method each other statement takes after its `:`. */
const TRAIN_ARGS: readonly MethodArg[] = [
  { name: 'rank', required: false, doc: 'Every inner rank (bond dimension) r₁ … r_{d−1}.' },
  { name: 'ranks', required: false, doc: 'The d − 1 inner ranks, e.g. [4, 8, 4].' },
  { name: 'cores', required: false, doc: 'Number of cores d: each width is split into d balanced modes.' },
  { name: 'modes_out', required: false, doc: 'Row modes m₁ … m_d, multiplying to d_out.' },
  { name: 'modes_in', required: false, doc: 'Column modes n₁ … n_d, multiplying to d_in.' },
];

export const STATEMENT_METHODS: Readonly<Record<'hash' | 'bank' | 'dict' | 'route' | 'param' | 'factorize' | 'parallel', readonly StatementMethod[]>> = {
  factorize: [
    { name: 'fedpara', call: true, args: [{ name: 'rank', required: false, doc: 'Rank R of each of the two Hadamard factors: 2R·(d_out + d_in) stored (a kernel: 2(k²R² + R(O + I))), rank up to R².' }, { name: 'ratio', required: false, doc: 'The paper\'s γ in (0, 1] instead of a rank: R = ⌈(1 − γ)·r_min + γ·r_max⌉ per weight.' }], snippet: 'fedpara(rank: ${1:16})', doc: 'FedPara: W = (X₁Y₁ᵀ) ⊙ (X₂Y₂ᵀ), a low-rank Hadamard product (matrices and convolution kernels).' },
    { name: 'tensor_train', call: true, args: TRAIN_ARGS, snippet: 'tensor_train(rank: ${1:8}, cores: ${2:4})', doc: 'Tensor-train matrix (Novikov et al.): cores G_k of r_{k−1}·m_k·n_k·r_k each.' },
    {
      name: 'mpo',
      call: true,
      args: [...TRAIN_ARGS, { name: 'central', required: false, doc: 'Where the central tensor is stored once: layers (default, MPOBERT), experts (MPOE) or own.', values: ['layers', 'experts', 'own'] }],
      snippet: 'mpo(rank: ${1:8}, cores: ${2:5})',
      doc: 'Matrix product operator (Gao et al.): a tensor train whose central tensor is shared across layers or experts.',
    },
  ],
  // From the resolver's own specs (analysis/parallel-streams.ts).
  parallel: PARALLEL_METHODS.map((m) => ({
    name: m.name,
    call: true,
    positional: true,
    args: m.args.map((a) => ({ name: a.name, required: a.required, doc: a.doc, ...(a.name === 'aggregate' ? { values: ['mlp', 'mean'] } : {}) })),
    snippet: m.snippet,
    doc: m.doc,
  })),
  // From the parameterisation tables themselves, so completion offers exactly what the engine reads.
  param: SCHEMES.map((scheme) => ({
    name: scheme.name,
    call: true,
    args: PARAM_ARGS.filter((a) => a.name !== 'alpha' || scheme.alpha).map((a) => ({ name: a.name, required: a.required, doc: a.doc })),
    snippet: `${scheme.name}(base_width: \${1:256}, base_depth: \${2:4})`,
    doc: scheme.doc,
  })),
  hash: [
    { name: 'roast', call: true, args: [{ name: 'memory', required: true, doc: 'Parameters in the global hashed memory.' }, { name: 'scales', required: false, doc: 'One scale per weight.', values: ['true', 'false'] }], snippet: 'roast(memory: ${1:1M})', doc: 'ROAST: weights read their entries from one hashed memory.' },
    { name: 'rps', call: true, args: [{ name: 'memory', required: true, doc: 'Parameters in the global memory.' }, { name: 'scales', required: false, doc: 'One scale per weight.', values: ['true', 'false'] }], snippet: 'rps(memory: ${1:1M})', doc: 'STABLE-RPS (RANDOMFOLD) hashed memory.' },
  ],
  bank: [
    { name: 'ssn', call: true, args: [{ name: 'params', required: true, doc: 'Parameters P of the template store.' }, { name: 'templates', required: false, doc: 'Most templates K a layer mixes (default 8).' }], snippet: 'ssn(params: ${1:1M}, templates: ${2:8})', doc: 'Shapeshifter Networks: weights generated from a bank of templates.' },
  ],
  dict: [
    { name: 'masa', call: true, args: [{ name: 'atoms', required: true, doc: 'Shared atoms S per projection type.' }], snippet: 'masa(atoms: ${1:4})', doc: 'MASA: each projection type is a combination of S shared atoms.' },
  ],
  route: [
    {
      name: 'mor',
      call: true,
      args: [
        { name: 'recursions', required: true, doc: 'Recursions R over the stack.' },
        { name: 'capacity', required: false, doc: 'Fraction of tokens per recursion, e.g. [1, 2/3, 1/3].' },
        { name: 'router_width', required: false, doc: 'Input width of each router (default: the model width).' },
      ],
      snippet: 'mor(recursions: ${1:3})',
      doc: 'Mixture-of-Recursions expert-choice routing.',
    },
    {
      // From the resolver's own specs (sharing/halting.ts).
      name: 'halt',
      call: true,
      args: HALT_ARGS.map((a) => ({ name: a.name, required: a.required, doc: a.doc, ...(a.type === 'bool' ? { values: ['true', 'false'] } : {}) })),
      snippet: 'halt(expected_depth: ${1:2})',
      doc: 'Per-token halting (ACT, SUT\'s stick-breaking): compute and KV follow the expected depth, stored gains one halting unit.',
    },
  ],
};

/** Every method name that may appear in a statement, with its description (for hovers). */
export function findStatementMethod(name: string): StatementMethod | undefined {
  const all = [...STACK_STRATEGIES, ...KV_STRATEGIES, ...HEAD_STRATEGIES, ...ADAPTERS, ...Object.values(STATEMENT_METHODS).flat()];
  return all.find((m) => m.name === name);
}

/** Keywords that start a member, with what they declare. */
export const MEMBER_KEYWORDS: readonly { readonly keyword: string; readonly snippet: string; readonly doc: string }[] = [
  { keyword: 'block', snippet: 'block ${1:Name} {\n  $0\n}', doc: 'A reusable group of members, optionally with parameters.' },
  { keyword: 'share', snippet: 'share ${1:body}: ${2:cycle(2)}', doc: 'Ties the instances of a stack (or sub-paths) to fewer stores.' },
  { keyword: 'share kv', snippet: 'share kv ${1:body}: ${2:every(2)}', doc: 'Shares KV producers across attention instances (CLA, MLKV, LCKV, MoR).' },
  { keyword: 'share heads', snippet: 'share heads ${1:body.attn}: pairs(${2:1})', doc: 'Head-wise sharing of query/key slices.' },
  { keyword: 'tie', snippet: 'tie ${1:a} = ${2:b}', doc: 'Makes every weight of one module the store of another\'s.' },
  { keyword: 'adapt', snippet: 'adapt ${1:body}: lora(rank: ${2:16})', doc: 'Adds adapters on top of a frozen base.' },
  { keyword: 'hash', snippet: 'hash ${1:body}: roast(memory: ${2:1M})', doc: 'Reads weights from one hashed memory.' },
  { keyword: 'bank', snippet: 'bank ${1:g1} = ${2:body}: ssn(params: ${3:1M})', doc: 'Generates weights from an SSN template bank.' },
  { keyword: 'dict', snippet: 'dict ${1:body}: masa(atoms: ${2:4})', doc: 'Dictionary sharing of projections (MASA).' },
  { keyword: 'route', snippet: 'route ${1:body}: mor(recursions: ${2:3})', doc: 'Mixture-of-Recursions routing over a stack.' },
  { keyword: 'freeze', snippet: 'freeze ${1:embed}', doc: 'Marks stored weights as not trainable.' },
  { keyword: 'train', snippet: 'train ${1:embed}', doc: 'Marks stored weights as trainable.' },
  { keyword: 'allocate', snippet: 'allocate params: ${1:1M}', doc: 'Asks the NPAS allocator for a plan storing exactly N parameters.' },
  { keyword: 'factorize', snippet: 'factorize ${1:body}: fedpara(rank: ${2:16})', doc: 'Stores matmul weights as factors (FedPara, tensor train, MPO) materialised each step.' },
  { keyword: 'parallel', snippet: 'parallel ${1:streams}(${2:8}, prefix: ${3:48}, merge: ${4:lm_head})', doc: 'Parallel streams over the same weights: ParScale (`streams(P, prefix: m, merge: NAME)`) or Hogwild! workers on one shared cache (`workers(P)`).' },
  { keyword: 'precision', snippet: 'precision ${1:experts}: ${2:mxfp4}', doc: 'The dtypes this model stores and runs in, per tensor class (weights, experts, kv, activations, compute, gradients, master, optimizer).' },
  { keyword: 'param', snippet: 'param ${1:mup}(base_width: ${2:256})', doc: 'A parameterisation (sp, mup, depth_mup, completep, u_mup): every weight\'s init std, LR, multiplier, residual scale and weight decay relative to a tuned base model.' },
];

/** Keywords that start a top-level declaration. */
export const TOP_LEVEL_KEYWORDS: readonly { readonly keyword: string; readonly snippet: string; readonly doc: string }[] = [
  { keyword: 'model', snippet: 'model ${1:Name} {\n  $0\n}', doc: 'A model: constants, blocks and modules, analysed for its budget report.' },
  { keyword: 'block', snippet: 'block ${1:Name} {\n  $0\n}', doc: 'A reusable group of members visible in every model.' },
  { keyword: 'variant', snippet: 'variant ${1:Name} of ${2:Base} {\n  $0\n}', doc: 'A model or variant with overrides and sharing statements.' },
  { keyword: 'budget', snippet: 'budget ${1:Model} {\n  params.stored <= ${2:1B}\n}', doc: 'Constraints a model or variant must meet.' },
];

/** What each keyword does, for hovers. */
export const KEYWORD_DOCS: Readonly<Record<string, string>> = {
  model: 'Declares a model: constants, blocks and modules; every module is a child in the order written.',
  block: 'Declares a reusable group of members (`block Decoder(window = none) { … }`); `Decoder` alone means `Decoder()`.',
  variant: 'Declares a variant: a model or variant with overridden constants or modules and added sharing statements.',
  of: 'Names the model or variant a variant derives from.',
  budget: 'Attaches constraints (`params.stored <= 1.2B`, `kv(seq: 8K) <= 128MiB`) to a model or variant.',
  share: '`share STACK: strategy [relax adapter]` ties stack instances to stores; `share kv` shares KV producers; `share heads` shares head slices.',
  tie: '`tie a = b`: every weight of `a` becomes the store of the corresponding weight of `b`.',
  tied: '`tied PATH`: this layer\'s main weight is the same store as the main weight at PATH; in `share kv X: tied`, instances sharing a store share its KV.',
  adapt: '`adapt PATHS: lora(rank: r)`: adapters over a frozen base.',
  hash: '`hash PATHS: roast(memory: m)`: weights read from one hashed memory.',
  bank: '`bank NAME = PATHS: ssn(params: P)`: weights generated from an SSN template bank.',
  dict: '`dict PATHS: masa(atoms: S)`: projections as combinations of shared atoms.',
  route: '`route STACK: mor(recursions: R)`: Mixture-of-Recursions routing; `route STACK: halt(expected_depth: D)`: per-token halting (ACT, stick-breaking), compute and KV at the expected depth.',
  freeze: '`freeze PATHS`: stored weights that receive no gradients.',
  train: '`train PATHS`: stored weights that receive gradients (overrides an adapter\'s frozen base).',
  allocate: '`allocate params: N, …`: a request for the NPAS allocator.',
  param: '`param scheme(base_width: W, base_depth: D, lr: η)`: the parameterisation (sp, mup, depth_mup, completep, u_mup) — each weight\'s init std, Adam LR, multiplier, residual branch scale and weight decay as factors of the tuned base model\'s (`npas param`).',
  factorize: '`factorize PATHS: fedpara(rank: R)` / `tensor_train(rank: r, cores: d)` / `mpo(rank: r, cores: d, central: layers)`: every matmul weight under the paths is stored as factors and materialised from them each training step — stored counts the factors, effective the dense weights.',
  parallel:
    '`parallel streams(P, prefix: m, merge: NAME)` (ParScale) or `parallel workers(P)` (Hogwild!) or `parallel P`: the model runs as P streams over the same weights — stored once (plus m·P prefix tokens per attention layer and the aggregator), read once per decode step, while FLOPs, activations and the KV cache (separate caches) grow P×.',
  precision:
    '`precision weights: bf16, experts: mxfp4, kv: fp8`: the dtypes of this model\'s tensor classes (weights, experts, kv, activations, compute, gradients, master or none, optimizer) — its storage format, over the analysis settings\' `dtype`; a class set in the settings (`--experts-dtype`, a budget\'s `experts_dtype`) still wins.',
  relax: '`relax adapter`: adds a separate adapter to every instance of a shared stack (Relaxed Recursive Transformers).',
};
