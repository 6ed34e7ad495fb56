// The exporter's view of the engine: a model's evaluated module tree, its resolved sharing
// declarations and its budget report, plus the store key of every weight of every layer
// instance (the unit of sharing: one store, one ONNX initializer).
//
// It reads the core only through its public surface (src/core/index.ts: one `Compilation`).

import { compile, instanceAt, mainWeight, type Compilation } from '../src/core/index.js';
import type { AnalysisOptions, ArchitectureModel, Diagnostic, Modifier, ModelMember, ModelReport, ModuleNode, PatternStep, ResolvedSharing, StackShare, StackStrategy } from '../src/core/index.js';

export { mainWeight };
export type { BlockMember, ConvInfo, LayerNode, ModelMember, ModuleNode, WeightSpec } from '../src/core/index.js';

/** A step of a concrete instance path: a member name, or an instance index of a stack. */
export type PathStep = { readonly kind: 'name'; readonly name: string } | { readonly kind: 'index'; readonly index: number };

export class ExportError extends Error {}

export interface LoadedModel {
  readonly name: string;
  readonly members: readonly ModelMember[];
  readonly sharing: ResolvedSharing;
  readonly report: ModelReport;
  /** `a.key → src pattern` for `tie a = b` (every weight under a is b's). */
  readonly tieAll: ReadonlyMap<string, readonly PatternStep[]>;
  /** Top-level `x = … tied y`: member name → target pattern and weight. */
  readonly tieMain: ReadonlyMap<string, { readonly pattern: readonly PatternStep[]; readonly weight: string | undefined }>;
  /** `share heads PATH: pairs(n)`, one per target (layers/head-share.ts builds them). */
  readonly headShares: readonly HeadSharePlan[];
}

/**
 * Head-wise sharing of one target: the attention instances it fans out over (their concrete
 * paths, in stack order), the number of heads that read another layer's head slices, and
 * whether W_v and W_o slices are shared too (`qkvo: true`).
 */
export interface HeadSharePlan {
  readonly layers: readonly (readonly PathStep[])[];
  readonly heads: number;
  readonly qkvo: boolean;
}

/** Compiles `text` (or takes its compilation) and returns model `name` (or the only model); throws ExportError on errors. */
export function loadModel(source: string | Compilation, name: string | undefined, options: Partial<AnalysisOptions> = {}): LoadedModel {
  const compilation = typeof source === 'string' ? compile(source) : source;
  const analysis = compilation.analysis(options);
  const errors = analysis.diagnostics.filter((d: Diagnostic) => d.severity === 'error' && !d.code.startsWith('npas-budget'));
  const chosen = name ?? (analysis.models.length === 1 ? analysis.models[0]!.name : undefined);
  if (chosen === undefined) throw new ExportError(`the file defines ${analysis.models.length} models and variants (${analysis.models.map((m) => m.name).join(', ')}); name one with --model`);
  const report = analysis.models.find((m) => m.name === chosen);
  if (!report) throw new ExportError(`no model or variant named '${chosen}' (this file has: ${analysis.models.map((m) => m.name).join(', ') || 'none'})`);
  if (errors.length > 0) throw new ExportError(`the spec has errors (first: ${errors[0]!.code}: ${errors[0]!.message}); run npas check`);

  const model = compilation.model(chosen);
  if (!model) throw new ExportError(`model '${chosen}' did not evaluate`);
  const sharing = model.sharing;

  const tieAll = new Map<string, readonly PatternStep[]>();
  const tieMain = new Map<string, { pattern: readonly PatternStep[]; weight: string | undefined }>();
  for (const m of sharing.modifiers) {
    const e = m.effect;
    if (e.kind === 'tie-all') tieAll.set(e.targetKey, e.source.pattern);
    if (e.kind !== 'tie-main' || !e.source || m.pattern[0]?.kind !== 'name') continue;
    if (e.source.fansOut) throw new ExportError(`'${m.pattern[0].name}' is tied to '${e.source.key}', which fans out over a stack; index one instance`);
    tieMain.set(m.pattern[0].name, { pattern: e.source.pattern, weight: e.source.weight });
  }
  return { name: chosen, members: model.members, sharing, report, tieAll, tieMain, headShares: headSharePlans(model, sharing) };
}

/**
 * One plan per head-shared target (the engine resolved its path, n and qkvo): the target must
 * fan out over one stack of MHA layers, each instance a layer.
 */
function headSharePlans(model: ArchitectureModel, sharing: ResolvedSharing): HeadSharePlan[] {
  return sharing.headShares.map(({ target: r, pairs, qkvo }) => {
    if (!r.fanOut || r.fanOut.sub.some((s) => s.startsWith('['))) throw new ExportError(`share heads ${r.key}: the ONNX exporter shares heads across the instances of one stack (a path such as body.attn)`);
    const info = r.node.kind === 'layer' ? r.node.cost.attention : undefined;
    if (!info) throw new ExportError(`share heads ${r.key}: not an attention layer`);
    if (info.kvHeads !== info.queryHeads) throw new ExportError(`share heads ${r.key}: head-wise sharing of grouped-query attention (kv_heads ${info.kvHeads} < heads ${info.queryHeads}) is not built by the ONNX exporter`);
    const { stack, sub, stackPattern } = r.fanOut;
    const layers = Array.from({ length: stack.length }, (_, k): PathStep[] => [...stackPattern, { kind: 'index', index: k }, ...sub.map((name) => ({ kind: 'name' as const, name }))]);
    // A path that fans out over nested stacks would leave an outer index out: refuse it.
    if (layers.some((l) => nodeAt({ members: model.members } as LoadedModel, l)?.kind !== 'layer')) throw new ExportError(`share heads ${r.key}: the ONNX exporter shares heads across the instances of one stack, not nested stacks`);
    return { layers, heads: pairs, qkvo };
  });
}

/** `body[3].attn` from steps. */
export function pathText(steps: readonly PathStep[]): string {
  let s = '';
  for (const step of steps) s += step.kind === 'name' ? (s === '' ? step.name : `.${step.name}`) : `[${step.index}]`;
  return s;
}

/**
 * The store a weight of the layer at `steps` reads: its own path, with every stack index
 * replaced by its store slot where a `share` strategy covers the rest of the path, then any
 * `tie a = b` prefix replaced by b. Equal keys ⇔ one stored tensor.
 */
export function storePath(model: LoadedModel, steps: readonly PathStep[], depth = 0): string {
  const out: PathStep[] = [];
  let stackKey = '';
  let indexedKey = '';
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    if (step.kind === 'name') {
      stackKey = stackKey === '' ? step.name : `${stackKey}.${step.name}`;
      indexedKey = indexedKey === '' ? step.name : `${indexedKey}.${step.name}`;
      out.push(step);
      continue;
    }
    const here = indexedKey;
    indexedKey += `[${step.index}]`;
    const rest: string[] = [];
    for (let j = i + 1; j < steps.length && steps[j]!.kind === 'name'; j++) rest.push((steps[j] as { name: string }).name);
    const shares = (model.sharing.stacks.get(here) ?? model.sharing.stacks.get(stackKey) ?? []).filter((s): s is StackShare => s.kind === 'share');
    let best: StackShare | undefined;
    for (const s of shares) if (s.sub.length <= rest.length && s.sub.every((n, k) => rest[k] === n) && (!best || s.sub.length > best.sub.length)) best = s;
    out.push({ kind: 'index', index: best ? best.slots.slotOf(step.index) : step.index });
  }
  let key = pathText(out);
  if (depth < 8) {
    for (const [target, src] of model.tieAll) {
      if (key === target || key.startsWith(`${target}.`) || key.startsWith(`${target}[`)) {
        const base = storePath(model, src as readonly PathStep[], depth + 1);
        key = base + key.slice(target.length);
        break;
      }
    }
  }
  return key;
}

export type StackRoute = Extract<StackStrategy, { kind: 'route' }>;

/** The `route` (MoR) strategy of the stack at `steps`, if any (looked up as the walk does: indexed key, then name key). */
export function routeOf(model: LoadedModel, steps: readonly PathStep[]): StackRoute | undefined {
  let stackKey = '';
  let indexedKey = '';
  for (const step of steps) {
    if (step.kind === 'name') {
      stackKey = stackKey === '' ? step.name : `${stackKey}.${step.name}`;
      indexedKey = indexedKey === '' ? step.name : `${indexedKey}.${step.name}`;
    } else indexedKey += `[${step.index}]`;
  }
  const strategies = model.sharing.stacks.get(indexedKey) ?? model.sharing.stacks.get(stackKey) ?? [];
  return strategies.find((s): s is StackRoute => s.kind === 'route');
}

/**
 * For a layer inside an instance that borrows KV (`share kv STACK: every(g) | map | tied`), the
 * path of the same layer in the producing instance; undefined when the layer produces its own.
 */
export function kvProducerPath(model: LoadedModel, steps: readonly PathStep[]): PathStep[] | undefined {
  let stackKey = '';
  let indexedKey = '';
  let out: PathStep[] | undefined;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    if (step.kind === 'name') {
      stackKey = stackKey === '' ? step.name : `${stackKey}.${step.name}`;
      indexedKey = indexedKey === '' ? step.name : `${indexedKey}.${step.name}`;
      continue;
    }
    const strategies = model.sharing.stacks.get(indexedKey) ?? model.sharing.stacks.get(stackKey) ?? [];
    indexedKey += `[${step.index}]`;
    const kv = strategies.find((s) => s.kind === 'kv');
    if (!kv || kv.kind !== 'kv') continue;
    // `tied` reads the KV of the first instance using the same store; the map says which.
    const producer = kv.producers.producerOf(step.index);
    if (producer !== step.index) {
      out = [...(out ?? steps)];
      out[i] = { kind: 'index', index: producer };
    }
  }
  return out;
}

/**
 * The adapters (`adapt`, `share … relax`) on weight `weight` of the layer at `steps`, with their
 * statements (ids, ranges): the modifiers that reach it (modifiersFor) restricted to its targets.
 */
export function adapterModifiersFor(model: LoadedModel, steps: readonly PathStep[], weight: string): Modifier[] {
  return modifiersFor(model, steps, weight).filter((m) => m.effect.kind === 'adapter' && (!m.effect.weights || m.effect.weights.includes(weight)));
}

/**
 * Every modifier (adapters, hash, bank, dict, ties, freeze/train) whose path pattern reaches
 * weight `weight` of the layer at `steps`, matched as the engine's walk matches it.
 */
export function modifiersFor(model: LoadedModel, steps: readonly PathStep[], weight: string): Modifier[] {
  const out: Modifier[] = [];
  for (const m of model.sharing.modifiers) {
    const p = m.pattern;
    let pos = 0;
    let ok = true;
    for (const step of steps) {
      const want = p[pos];
      if (pos >= p.length || !want) break;
      if (step.kind === 'index') {
        if (want.kind === 'index') {
          if (want.index !== step.index) ok = false;
          else pos++;
        }
      } else if (want.kind === 'name' && want.name === step.name) pos++;
      else ok = false;
      if (!ok) break;
    }
    const rest = p.slice(pos);
    if (ok && (rest.length === 0 || (rest.length === 1 && rest[0]!.kind === 'name' && rest[0]!.name === weight))) out.push(m);
  }
  return out;
}

/** The module at a pattern (indices pick instances), for tied targets. */
export function nodeAt(model: LoadedModel, pattern: readonly PatternStep[]): ModuleNode | undefined {
  const [head, ...rest] = pattern;
  if (!head || head.kind !== 'name') return undefined;
  let node: ModuleNode | undefined = model.members.find((m) => m.name === head.name)?.node;
  for (const step of rest) {
    if (!node) return undefined;
    if (step.kind === 'index') {
      node = node.kind === 'stack' ? instanceAt(node, step.index) : undefined;
    } else {
      node = node.kind === 'block' ? node.members.find((m) => m.name === step.name)?.node : undefined;
    }
  }
  return node;
}
