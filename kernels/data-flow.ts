// The exporter's data flow: how the members of a spec wire on the [T, width] hidden state
// (the language declares modules, not wiring; docs/probes.md, "Data flow", states the convention).
// Members run in order; inside a sequence, a norm followed by Attention/MLP/GatedMLP is a
// pre-norm residual branch (x + f(norm(x))), Attention/MLP followed by a norm is post-norm
// (norm(x + f(x))), a bare Attention/MLP is residual; everything else is applied in sequence.

import { ExportError, pathText, routeOf, type BlockMember, type StackRoute, type LayerNode, type ModuleNode, type PathStep, type StreamsPlan } from './engine-bridge.js';
import { GraphBuilder } from './graph-builder.js';
import type { ValueInfo } from './onnx-writer.js';
import { altupDecoder } from './layers/altup.js';
import { convBlock } from './layers/conv-block.js';
import { moeutLayer, switchHeadSpan } from './layers/switch-head.js';
import { emitLayer, type EmitContext, type Hidden } from './layers/emit.js';
import { residualAdd } from './layers/residual.js';
import { inBranch } from './layers/branch-input.js';
import { declareRouterCell } from './layers/recurrent-router.js';
import { workersContext } from './layers/parallel-streams.js';
import { continuationsContext } from './layers/shared-prefix.js';
import { crossSourceOf, setCrossSource, type CrossSource } from './layers/cross-attention.js';
import { setRelativeBias } from './layers/relative-position.js';
import { Router, checkRoutable, recursionRanges } from './layers/routing.js';
import { haltingScorer } from './layers/halting.js';
import { sameR, smashStates, smashedStream, unsmashStates, type SmashedStream } from './layers/token-smashing.js';
import { mergeStreams, streamContext } from './layers/parallel-streams.js';
import { attr } from './onnx-writer.js';

// The recurrent mixers mix tokens as attention does: MambaBlock (Mamba2Block, Qwen3-Next's
// linear-attention layer) is x + mixer(norm(x)).
const TRANSFORMS = new Set(['Attention', 'MLA', 'MoA', 'MLP', 'GatedMLP', 'MoE', 'Mamba', 'Mamba2', 'GatedDeltaNet']);
const NORMS = new Set(['LayerNorm', 'RMSNorm']);

export interface Item {
  readonly name: string;
  readonly node: ModuleNode;
}

export class Exporter {
  maxSeq: number | undefined;
  inputVocab = 1;

  /** The graph's token-id inputs, in the order they were read (an encoder-decoder has two). */
  readonly inputs: TokenInput[] = [];
  /** The smashed stream the top-level members run in now (token smashing), if any. */
  private smashed: SmashedStream | undefined;
  /**
   * Token smashing's decode graphs (layers/token-smashing.ts): the macro step's output
   * `smashed_state` and the micro step's input of that name and output `token_state`.
   */
  readonly smashInputs: ValueInfo[] = [];
  readonly smashOutputs: ValueInfo[] = [];
  /** An encoder-decoder decode step's members, whose prefill reads stores the step does not. */
  private prefillItems: readonly Item[] | undefined;

  /**
   * `ctx` is the context of the first token stream (the encoder's in an encoder-decoder prefill,
   * else the only one); after run() it is the stream the output is read from. `sourceLength`:
   * the cached source positions of an encoder-decoder's decode step (the engine's src_seq).
   */
  constructor(
    public ctx: EmitContext,
    private readonly sourceLength?: number,
  ) {}

  /**
   * Runs the model's members. A model with cross-attention is an encoder-decoder: the members
   * the engine classifies as encoder (only bidirectional self-attention) and the members after
   * them up to the decoder (a final norm) run first on `input_ids`; the rest run on
   * `decoder_input_ids` and their cross-attention reads the encoder output. The decoder begins
   * with its own embedding (`tgt_embed`), or reads the model's first one (T5's shared table). In
   * a decode step the encoder does not run: cross-attention reads a cache of the source.
   */
  run(items: readonly Item[]): Hidden {
    const empty: Hidden = { x: undefined, width: 0 };
    const split = encoderSplit(items);
    const streams = this.ctx.model.streams;
    const smashed = [...this.ctx.model.smashed.keys()];
    if (smashed.length > 0) {
      const what = `${smashed.join(', ')} over smashed positions (\`smash\`)`;
      if (streams || split) throw new ExportError(`${streams ? 'parallel streams' : 'an encoder-decoder'} that runs ${what} is not supported by the ONNX exporter`);
    }
    if (this.ctx.sharedPrefix && (streams || split || smashed.length > 0)) {
      throw new ExportError(`a prompt shared by continuations (--shared-prefix) in ${streams ? 'parallel streams' : split ? 'an encoder-decoder' : 'a model with `smash`'} is not supported by the ONNX exporter`);
    }
    if (streams) {
      if (split) throw new ExportError('parallel streams in an encoder-decoder are not supported by the ONNX exporter');
      return this.parallel(items, streams);
    }
    if (!split) {
      // A shared prompt's decode step runs the k continuations' new tokens, [B, k], as B·k rows
      // over the prompt's cache and each continuation's own (layers/shared-prefix.ts).
      const base = this.ctx;
      const share = base.decode ? base.sharedPrefix : undefined;
      if (share) this.ctx = continuationsContext(base, share);
      const h = this.stream(items, empty);
      this.inputs.push({ name: base.ids, vocab: this.inputVocab, length: 'seq', ...(share ? { decodeTokens: share.continuations } : {}) });
      return h;
    }
    const { encoder, decoder } = split;
    if (!this.ctx.decode) {
      const enc = this.stream(encoder, empty);
      if (enc.x === undefined) throw new ExportError('the encoder produced no output');
      this.inputs.push({ name: this.ctx.ids, vocab: this.inputVocab, length: 'src_seq' });
      const source: CrossSource = { kind: 'encoder', x: enc.x, width: enc.width, idsShape: this.ctx.idsShape };
      this.ctx = tokenStream(this.ctx, DECODER_IDS);
      setCrossSource(this.ctx, source);
    } else {
      setCrossSource(this.ctx, { kind: 'cache', length: this.sourceLength ?? this.ctx.decode.past });
      this.prefillItems = items;
    }
    let h = empty;
    const first = decoder[0];
    if (!(first?.node.kind === 'layer' && first.node.layerKind === 'Embedding')) {
      const shared = items[0];
      if (!(shared?.node.kind === 'layer' && shared.node.layerKind === 'Embedding')) throw new ExportError(`the decoder (from '${first?.name}') starts without an Embedding and the model's first member is not one to share`);
      h = this.module(shared, [{ kind: 'name', name: shared.name }], h);
    }
    h = this.stream(decoder, h);
    this.inputs.push({ name: this.ctx.ids, vocab: this.inputVocab, length: 'seq' });
    return h;
  }

  /**
   * Stored parameters the graph does not read: in an encoder-decoder's decode step, the encoder's
   * stores and the cross-attention K/V projections (the source's K/V are cached). Found by
   * emitting the prefill into a scratch graph whose weights are never drawn and keeping the
   * stores the decode graph lacks, so that initializer elements + skipped = params.stored stays
   * an exact check.
   */
  skippedParams(): bigint {
    if (!this.prefillItems) return 0n;
    const scratch = new GraphBuilder(this.ctx.g.dtype, () => new Uint8Array(0));
    const sub = new Exporter(tokenStream({ ...this.ctx, g: scratch, decode: undefined, kv: new Map() }, 'input_ids'));
    sub.run(this.prefillItems);
    const read = new Set(this.ctx.g.initializers.map((t) => t.name));
    let skipped = 0n;
    for (const t of scratch.initializers) if (!read.has(t.name)) skipped += BigInt(t.dims.reduce((a, b) => a * b, 1));
    return skipped;
  }

  /**
   * ParScale (layers/parallel-streams.ts): the members before the merge on the ids tiled P times,
   * the streams' hidden states merged, the rest once. A decode step's prefill (which reads the
   * prefixes its cache already holds) is the reference for the stores it skips.
   */
  private parallel(items: readonly Item[], plan: StreamsPlan): Hidden {
    const base = this.ctx;
    if (plan.sharedCache) {
      // Hogwild! workers: the prompt runs once (a plain prefill); a decode step runs every member
      // on the P workers' tokens over the one cache, and the output is every worker's.
      if (base.decode) this.ctx = workersContext(base, plan.count);
      const h = this.stream(items, { x: undefined, width: 0 });
      this.inputs.push({ name: base.ids, vocab: this.inputVocab, length: 'seq', ...(base.decode ? { decodeTokens: plan.count } : {}) });
      return h;
    }
    if (base.decode) this.prefillItems = items;
    this.ctx = streamContext(base, plan);
    const before = this.stream(items.slice(0, plan.mergeIndex), { x: undefined, width: 0 });
    this.ctx = base;
    const merged = mergeStreams(base, plan, before);
    const h = this.stream(items.slice(plan.mergeIndex), merged);
    this.inputs.push({ name: base.ids, vocab: this.inputVocab, length: 'seq' });
    return h;
  }

  /** One token stream: registers its relative position bias table (T5), then runs its members. */
  private stream(items: readonly Item[], h: Hidden): Hidden {
    const rel = findLayer(items, [], 'RelativePositionBias');
    if (rel) setRelativeBias(this.ctx, rel.node, rel.steps);
    return this.sequence(items, [], h);
  }

  /**
   * A stack under `route`: MoR's recursion r runs its instances on the tokens its router keeps
   * (layers/routing.ts); per-token halting's step r on the tokens its halting unit lets continue,
   * every token through step 0 and no step nobody reaches (layers/halting.ts).
   */
  private routed(node: ModuleNode & { kind: 'stack' }, steps: readonly PathStep[], h: Hidden, route: StackRoute): Hidden {
    if (h.x === undefined) throw new ExportError(`${pathText(steps)}: a routed stack needs a hidden state before it`);
    if (this.ctx.sharedPrefix) throw new ExportError(`${pathText(steps)}: a routed stack (\`route\`) with a prompt shared by continuations (--shared-prefix) is not supported by the ONNX exporter: its routers pick tokens over the whole packed sequence`);
    if (route.routerWidth !== h.width) throw new ExportError(`${pathText(steps)}: the ${route.halting ? 'halting unit reads' : 'routers read'} width ${route.routerWidth} but the stream carries ${h.width}`);
    checkRoutable(node, steps);
    const nodes: ModuleNode[] = [];
    for (const run of node.runs) for (let c = 0; c < run.count; c++) nodes.push(run.node);
    const router = new Router(this.ctx, steps, h.width, route.halting ? haltingScorer(this.ctx, steps, route.halting) : undefined);
    let x = h.x;
    const outer = this.ctx;
    recursionRanges(nodes.length, route.capacities.length).forEach(([start, end], r) => {
      const instance = (i: number): [Item, PathStep[]] => [{ name: '', node: nodes[i]! }, [...steps, { kind: 'index', index: i }]];
      if (route.halting && r === 0) {
        // Every token runs the first step; the unit first scores before the second.
        let y: Hidden = { x, width: h.width };
        for (let i = start; i < end; i++) y = this.module(...instance(i), y);
        if (y.width !== h.width) throw new ExportError(`${pathText(steps)}: a halting step must keep the width (${h.width} → ${y.width})`);
        x = y.x!;
        return;
      }
      if (route.halting && route.capacities[r]!.num === 0n) {
        for (let i = start; i < end; i++) this.storesOnly(...instance(i), h.width);
        return;
      }
      const sel = router.select(r, route.capacities[r]!, x);
      let y: Hidden = { x: sel.x, width: h.width };
      this.ctx = sel.ctx;
      try {
        for (let i = start; i < end; i++) y = this.module(...instance(i), y);
      } finally {
        this.ctx = outer;
      }
      if (y.width !== h.width) throw new ExportError(`${pathText(steps)}: a routed recursion must keep the width (${h.width} → ${y.width})`);
      x = router.merge(sel, x, y.x!);
    });
    return { x, width: h.width };
  }

  /**
   * Before top-level member `it`: moves the stream to the positions its `smash` factor gives (the
   * groups' means), back to the tokens (each token its group's position), or leaves it, and sets
   * the context the member runs in (layers/token-smashing.ts).
   */
  private smashBoundary(it: Item, h: Hidden): Hidden {
    const want = this.ctx.model.smashed.get(it.name);
    const current = this.smashed;
    if (sameR(want, current?.r)) return h;
    if (h.x === undefined || h.spatial !== undefined || h.samples) throw new ExportError(`'${it.name}': a smashed member (\`smash\`) needs the token states before it (an unsmashed embedding), and ${h.x === undefined ? 'none precede it' : 'a feature map or per-sample rows precede it'}`);
    let x = h.x;
    if (current) {
      if (this.ctx.decode) this.macroOutput(h);
      else x = unsmashStates(current, x, h.width);
      this.ctx = current.tokens;
      this.smashed = undefined;
    }
    if (want) {
      const s = smashedStream(this.ctx, want);
      if (!this.ctx.decode) x = smashStates(s, x, h.width);
      this.ctx = s.ctx;
      this.smashed = s;
    }
    return { x, width: h.width };
  }

  /**
   * The stores of a module no token runs (a halting step nobody reaches) as initializers no node
   * reads, so initializer elements stay params.stored: the module is emitted into a scratch graph
   * whose weights are never drawn, and each store it read that this graph lacks is added.
   */
  private storesOnly(item: Item, steps: readonly PathStep[], width: number): number {
    const g = this.ctx.g;
    const scratch = new GraphBuilder(g.dtype, () => new Uint8Array(0));
    const ctx: EmitContext = { ...this.ctx, g: scratch, kv: new Map(), masks: new Map(), positions: undefined };
    const source = crossSourceOf(this.ctx);
    if (source) setCrossSource(ctx, source); // an unreached decoder step's cross-attention K/V stores
    const out = new Exporter(ctx).module(item, steps, { x: 'unreached', width });
    for (const t of scratch.initializers) {
      if (scratch.isCache(t.name)) continue; // a decode step's cache of the unreached step: nobody caches there
      const drawn = scratch.distributions.get(t.name)!;
      g.weight(t.name, t.dims.map(Number), drawn.scale, drawn.offset);
    }
    return out.width;
  }

  sequence(all: readonly Item[], parent: readonly PathStep[], h: Hidden): Hidden {
    // RMoE's RecurrentRouter cell is no step of the hidden stream: it is recorded for the MoE
    // layers after it (layers/recurrent-router.ts), and the block is wired without it, so its
    // norm and MoE stay one pre-norm residual branch.
    const items = all.filter((it, k) => {
      if (it.node.kind !== 'layer' || it.node.cost.routerState?.role !== 'cell') return true;
      const steps = [...parent, { kind: 'name' as const, name: it.name }];
      // A cell no router reads would be stored but never in the graph (the spec's check refuses it first: npas-router-cell).
      if (!all.slice(k + 1).some((m) => m.node.kind === 'layer' && m.node.cost.routerState?.role === 'reader')) throw new ExportError(`${pathText(steps)}: a RecurrentRouter cell is read by the MoE(…, router_rnn) layers after it in its block, and none follows it`);
      declareRouterCell(this.ctx, it.node, steps);
      return false;
    });
    let i = 0;
    let prevWasNorm = false;
    // Token smashing acts on top-level members (layers/token-smashing.ts).
    const smashing = parent.length === 0 && this.ctx.model.smashed.size > 0;
    while (i < items.length) {
      const it = items[i]!;
      const next = items[i + 1];
      const steps = [...parent, { kind: 'name' as const, name: it.name }];
      if (smashing && this.ctx.decode?.micro) {
        const skipped = this.microStep(items, i, steps, h);
        if (skipped) {
          h = skipped;
          i++;
          continue;
        }
      }
      if (smashing) h = this.smashBoundary(it, h);
      const pairable = (x: Item | undefined) => !smashing || x === undefined || sameR(this.ctx.model.smashed.get(x.name), this.smashed?.r);
      const isNorm = (x: Item | undefined) => x?.node.kind === 'layer' && NORMS.has(x.node.layerKind);
      const isTransform = (x: Item | undefined) => x?.node.kind === 'layer' && TRANSFORMS.has(x.node.layerKind);
      // MoEUT's SwitchHead (+ σ-MoE), composed of generic layers: a narrow rule (layers/switch-head.ts).
      const moeut = h.x !== undefined ? switchHeadSpan(items, i) : undefined;
      if (moeut) {
        h = moeutLayer(this.ctx, moeut, items, parent, h, (j, x) => this.module(items[j]!, [...parent, { kind: 'name', name: items[j]!.name }], x));
        i += moeut.length;
        prevWasNorm = false;
        continue;
      }
      if (h.x !== undefined && isNorm(it) && isTransform(next) && pairable(next)) {
        const normed = this.module(it, steps, h);
        const f = this.branch(next!, [...parent, { kind: 'name', name: next!.name }], h, normed);
        h = f.width === h.width ? { x: residualAdd(this.ctx, h.x, f.x!), width: h.width } : f;
        i += 2;
        prevWasNorm = false;
        continue;
      }
      if (h.x !== undefined && isTransform(it) && isNorm(next) && !prevWasNorm && pairable(next)) {
        const f = this.branch(it, steps, h, h);
        const sum = f.width === h.width ? { x: residualAdd(this.ctx, h.x, f.x!), width: h.width } : f;
        h = this.module(next!, [...parent, { kind: 'name', name: next!.name }], sum);
        i += 2;
        prevWasNorm = true;
        continue;
      }
      if (h.x !== undefined && isTransform(it)) {
        const f = this.branch(it, steps, h, h);
        h = f.width === h.width ? { x: residualAdd(this.ctx, h.x, f.x!), width: h.width } : f;
      } else {
        h = this.module(it, steps, h);
      }
      prevWasNorm = isNorm(it);
      i++;
    }
    // Smashed members up to the end: the macro step's state leaving them is its output.
    if (smashing && this.smashed && this.ctx.decode && !this.ctx.decode.micro && h.x !== undefined) this.macroOutput(h);
    return h;
  }

  /**
   * A micro step (layers/token-smashing.ts) at top-level member `items[i]`: a smashed member does
   * not run (its stores are initializers no node reads) and the token reads its group's state,
   * the graph input `smashed_state` [B, width] a macro step output; the state the token brings is
   * the output `token_state`. Returns the hidden state after a smashed member; undefined for an
   * unsmashed one, which runs on the token as in any decode step.
   */
  private microStep(items: readonly Item[], i: number, steps: readonly PathStep[], h: Hidden): Hidden | undefined {
    const it = items[i]!;
    const factors = new Set([...this.ctx.model.smashed.values()].map((r) => `${r.num}/${r.den}`));
    if (factors.size > 1) throw new ExportError(`a micro step of members smashed at ${factors.size} factors is not built by the ONNX exporter (one smashed group of members: HAMburger's base model)`);
    if (!this.ctx.model.smashed.has(it.name)) return undefined;
    const smashedAt = items.map((x) => this.ctx.model.smashed.has(x.name));
    const first = smashedAt.indexOf(true);
    if (smashedAt.lastIndexOf(true) - first + 1 !== this.ctx.model.smashed.size) throw new ExportError(`a micro step of smashed members that are not consecutive is not built by the ONNX exporter`);
    const g = this.ctx.g;
    if (i === first) {
      if (h.x === undefined || h.spatial !== undefined || h.samples) throw new ExportError(`'${it.name}': a smashed member (\`smash\`) needs the token states before it (an unsmashed embedding)`);
      g.nodes.push({ op: 'Identity', inputs: [h.x], outputs: ['token_state'], name: 'token_state' });
      this.smashOutputs.push({ name: 'token_state', dataType: g.floatType, dims: [this.ctx.decode!.batch, h.width] });
    }
    const width = this.storesOnly(it, steps, h.width);
    if (i < smashedAt.lastIndexOf(true)) return { x: 'unreached', width };
    this.smashInputs.push({ name: 'smashed_state', dataType: g.floatType, dims: [this.ctx.decode!.batch, width] });
    return { x: 'smashed_state', width };
  }

  /** The macro step's state leaving the smashed members, the output `smashed_state` [B, width] its micro steps read. */
  private macroOutput(h: Hidden): void {
    const g = this.ctx.g;
    if (this.smashOutputs.length > 0 || new Set([...this.ctx.model.smashed.values()].map((r) => `${r.num}/${r.den}`)).size > 1) return;
    g.nodes.push({ op: 'Identity', inputs: [h.x!], outputs: ['smashed_state'], name: 'smashed_state' });
    this.smashOutputs.push({ name: 'smashed_state', dataType: g.floatType, dims: [this.ctx.decode!.batch, h.width] });
  }

  /**
   * The f of a residual branch on the stream `stream`, run on `input` (norm(x) pre-norm, else x):
   * what f runs may read the stream beside its input (layers/branch-input.ts).
   */
  private branch(item: Item, steps: readonly PathStep[], stream: Hidden, input: Hidden): Hidden {
    return inBranch(this.ctx, { x: stream.x!, width: stream.width, layer: steps }, () => this.module(item, steps, input));
  }

  module(item: Item, steps: readonly PathStep[], h: Hidden): Hidden {
    const node = item.node;
    switch (node.kind) {
      case 'layer':
        if (node.layerKind === 'PositionEmbedding') {
          const rows = node.cost.weights[0]!.shape[0]!;
          this.maxSeq = Math.min(this.maxSeq ?? rows, rows);
        }
        if (node.layerKind === 'Embedding' && h.x === undefined) this.inputVocab = node.cost.weights[0]!.shape[0]!;
        if ((node.layerKind === 'Linear' || node.layerKind === 'Conv1d' || node.layerKind === 'Conv2d') && h.x === undefined) this.inputVocab = 1024; // ids only seed the input features or image
        return emitLayer(this.ctx, node, steps, h);
      case 'block': {
        const items = node.members.map((m: BlockMember) => ({ name: m.name, node: m.node }));
        // A block on a feature map (ResNet/WRN): residual and projection shortcuts read from the
        // shapes (layers/conv-block.ts); undefined when that convention does not apply.
        const wired = convBlock(this.ctx, items, steps, h, (it, at, x) => this.module(it as Item, at, x));
        // Gemma 3n's decoder layer: AltUp's copies around the layer (layers/altup.ts).
        const altup = wired ?? altupDecoder(this.ctx, items, steps, h, (j, x) => this.module(items[j]!, [...steps, { kind: 'name', name: items[j]!.name }], x));
        return altup ?? this.sequence(items, steps, h);
      }
      case 'stack': {
        const route = routeOf(this.ctx.model, steps);
        if (route) return this.routed(node, steps, h, route);
        let index = 0;
        for (const run of node.runs) {
          for (let c = 0; c < run.count; c++, index++) {
            const inst = [...steps, { kind: 'index' as const, index }];
            h = this.module({ name: '', node: run.node }, inst, h);
          }
        }
        return h;
      }
    }
  }
}

/** A token-id input of the graph: its name, the rows its ids index, and which length its second axis takes. */
export interface TokenInput {
  readonly name: string;
  /** Ids stay below it (the rows of the embedding that reads them). */
  readonly vocab: number;
  /** 'seq': the target sequence; 'src_seq': an encoder-decoder's source (the engine's src_seq, default seq). */
  readonly length: 'seq' | 'src_seq';
  /** Tokens per sequence of a decode step's input when not 1: Hogwild! workers' P, a shared prompt's k continuations (one each). */
  readonly decodeTokens?: number;
}

/** The decoder's input of an encoder-decoder (the encoder reads `input_ids`). */
export const DECODER_IDS = 'decoder_input_ids';

/** Attention layers in a subtree (one instance per run of a stack). */
function attentionInfos(node: ModuleNode, out: { cross: boolean; causal: boolean }[] = []): { cross: boolean; causal: boolean }[] {
  if (node.kind === 'layer') {
    if (node.cost.attention) out.push(node.cost.attention);
  } else if (node.kind === 'block') for (const m of node.members) attentionInfos(m.node, out);
  else for (const run of node.runs) attentionInfos(run.node, out);
  return out;
}

/** True when the model has cross-attention (an encoder-decoder), as the engine's classifyEncoders decides. */
export function isEncoderDecoder(nodes: readonly ModuleNode[]): boolean {
  return nodes.some((n) => attentionInfos(n).some((a) => a.cross));
}

/**
 * Splits an encoder-decoder's top-level members: the encoder is every member up to the last one
 * with only bidirectional self-attention (the engine's encoder classification), plus the members
 * after it that hold no attention up to the decoder's embedding, relative position bias or first
 * attention (a final norm).
 */
function encoderSplit(items: readonly Item[]): { encoder: Item[]; decoder: Item[] } | undefined {
  if (!isEncoderDecoder(items.map((i) => i.node))) return undefined;
  const isEncoder = (i: Item) => {
    const a = attentionInfos(i.node);
    return a.length > 0 && a.every((x) => !x.cross && !x.causal);
  };
  let last = -1;
  items.forEach((it, i) => isEncoder(it) && (last = i));
  if (last < 0) throw new ExportError('the model has cross-attention but no encoder (a member with only bidirectional self-attention) for it to read');
  let end = last + 1;
  // A relative position bias table there belongs to the decoder (T5 written with one table per stack: `dec_bias` before `decoder`).
  const startsDecoder = (n: ModuleNode) => n.kind === 'layer' && (n.layerKind === 'Embedding' || n.layerKind === 'RelativePositionBias');
  while (end < items.length && attentionInfos(items[end]!.node).length === 0 && !startsDecoder(items[end]!.node)) end++;
  const encoder = items.slice(0, end);
  for (const it of encoder) if (attentionInfos(it.node).some((a) => a.cross)) throw new ExportError(`'${it.name}' has cross-attention but runs before the encoder's last layer`);
  return { encoder, decoder: items.slice(end) };
}

/** The first layer of `kind` in the members' subtrees, with its concrete path (stack instances by run). */
function findLayer(items: readonly Item[], parent: readonly PathStep[], kind: string): { node: LayerNode; steps: PathStep[] } | undefined {
  const inNode = (node: ModuleNode, steps: PathStep[]): { node: LayerNode; steps: PathStep[] } | undefined => {
    if (node.kind === 'layer') return node.layerKind === kind ? { node, steps } : undefined;
    if (node.kind === 'block') {
      for (const m of node.members) {
        const hit = inNode(m.node, [...steps, { kind: 'name', name: m.name }]);
        if (hit) return hit;
      }
      return undefined;
    }
    let index = 0;
    for (const run of node.runs) {
      const hit = inNode(run.node, [...steps, { kind: 'index', index }]);
      if (hit) return hit;
      // An exported model's instances are built one by one, far below 2⁵³: the index is exact.
      index += Number(run.count);
    }
    return undefined;
  };
  for (const it of items) {
    const hit = inNode(it.node, [...parent, { kind: 'name', name: it.name }]);
    if (hit) return hit;
  }
  return undefined;
}

/** A context for another token-id input: its own shape, positions and masks; the graph, model and K/V map shared. */
export function tokenStream(ctx: EmitContext, ids: string): EmitContext {
  const g = ctx.g;
  const idsShape = g.op('Shape', [ids], undefined, { hint: 'ids_shape' });
  const seqLen = g.op('Gather', [idsShape, g.ints([1], true)], { axis: attr.int(0) }, { hint: 'seq' });
  return { ...ctx, ids, idsShape, seqLen, masks: new Map(), positions: undefined };
}
