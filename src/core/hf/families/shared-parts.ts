// Pieces every family needs: reading the attention geometry with Transformers' derivations
// (head_dim = hidden / heads, kv heads = heads), the constants that name it, the LM head with its
// tying rule, and the layer stack with per-layer sliding windows written the way a person would
// (one window for all layers, a threshold comprehension, or an explicit list).

import { ConfigError, type ConfigReader } from '../config-reader.js';
import { isJsonObject, type JsonObject } from '../json-text.js';
import type { HeadKind } from '../family.js';
import { binding, call, formatArg, type Arg, type Binding } from '../spec-writer.js';

export interface AttentionShape {
  readonly d: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  /** Whether head_dim deserves a constant: the config gives it, or it is not d / heads. */
  readonly headDimNamed: boolean;
}

export interface AttentionKeys {
  readonly hidden: string;
  readonly hiddenDefault: number;
  readonly heads: string;
  readonly headsDefault: number;
  /** The kv-heads key, when the family has grouped-query attention. */
  readonly kvHeads?: string;
  /** Default when the kv-heads key is absent; undefined means "= heads". Null always means heads. */
  readonly kvHeadsDefault?: number;
  /** The head-dimension key, when the config class has one. */
  readonly headDim?: string;
  /** Default when the head-dimension key is absent; undefined means hidden / heads (GemmaConfig: 256). */
  readonly headDimDefault?: number;
}

/**
 * Transformers' usual key names (hidden_size, num_attention_heads, num_key_value_heads and, when
 * the class has it, head_dim) with a config class's defaults.
 */
export function standardAttentionKeys(defaults: { readonly hidden: number; readonly heads: number; readonly kvHeads: number; readonly headDim?: number; readonly headDimKey?: string }): AttentionKeys {
  return {
    hidden: 'hidden_size',
    hiddenDefault: defaults.hidden,
    heads: 'num_attention_heads',
    headsDefault: defaults.heads,
    kvHeads: 'num_key_value_heads',
    kvHeadsDefault: defaults.kvHeads,
    ...(defaults.headDim === undefined ? {} : { headDim: defaults.headDimKey ?? 'head_dim', headDimDefault: defaults.headDim }),
  };
}

export function readAttentionShape(cfg: ConfigReader, keys: AttentionKeys): AttentionShape {
  const d = cfg.positiveInt(keys.hidden, keys.hiddenDefault);
  const heads = cfg.positiveInt(keys.heads, keys.headsDefault);

  let headDim: number;
  let headDimNamed: boolean;
  const headDimKey = keys.headDim;
  if (headDimKey !== undefined && cfg.has(headDimKey)) {
    headDim = cfg.positiveInt(headDimKey, 0);
    headDimNamed = true;
  } else if (headDimKey !== undefined && keys.headDimDefault !== undefined && cfg.raw(headDimKey) === undefined) {
    headDim = cfg.positiveInt(headDimKey, keys.headDimDefault);
    headDimNamed = true;
  } else {
    const given = headDimKey === undefined ? '' : ` when ${headDimKey} is not given`;
    cfg.require(d % heads === 0, keys.heads, `${keys.heads} (${heads}) must divide ${keys.hidden} (${d})${given}`);
    headDim = d / heads;
    if (headDimKey !== undefined) cfg.optionalPositiveInt(headDimKey, headDim, `${keys.hidden} / ${keys.heads}`);
    headDimNamed = false;
  }

  let kvHeads = heads;
  const kvKey = keys.kvHeads;
  if (kvKey !== undefined) {
    const fallback = keys.kvHeadsDefault ?? heads;
    const why = keys.kvHeadsDefault === undefined ? `= ${keys.heads}` : undefined;
    kvHeads = cfg.optionalPositiveInt(kvKey, fallback, why, heads) ?? heads;
    cfg.require(heads % kvHeads === 0, kvKey, `${kvKey} (${kvHeads}) must divide ${keys.heads} (${heads})`);
  }
  return { d, heads, kvHeads, headDim, headDimNamed };
}

/** `heads`, and `kv_heads` / `head_dim` only where they differ from what Attention derives. */
export function attentionConstants(shape: AttentionShape): Binding[] {
  const out = [binding('heads', shape.heads)];
  if (shape.kvHeads !== shape.heads) out.push(binding('kv_heads', shape.kvHeads));
  if (shape.headDimNamed) out.push(binding('head_dim', shape.headDim));
  return out;
}

/** Where a family's config keeps its rotary settings, and the config class's defaults. */
export interface RopeKeys {
  /** The base key (`rope_theta`; GPT-NeoX `rotary_emb_base`). */
  readonly theta: string;
  readonly thetaDefault: number;
  /** The fraction of head_dim that rotates (Phi `partial_rotary_factor`, GPT-NeoX `rotary_pct`). */
  readonly partial?: string;
  readonly partialDefault?: number;
}

/** The Attention arguments and constants of a rotary family: rope, and rope_dim/rope_theta where they differ from the defaults. */
export interface RopePlan {
  readonly constants: readonly Binding[];
  readonly args: Readonly<Record<string, Arg | undefined>>;
}

const ENGINE_ROPE_THETA = 10_000;

/**
 * Transformers v5's `rope_parameters` (rope_type, rope_theta and the scaling factors in one
 * object, replacing rope_theta and rope_scaling), or, for families with several attention types
 * (Gemma 3), its entry for `layerType` (`{"full_attention": {...}, "sliding_attention": {...}}`).
 */
export function ropeParameters(cfg: ConfigReader, layerType: string): JsonObject | undefined {
  const value = cfg.raw('rope_parameters');
  if (!isJsonObject(value)) return undefined;
  const perType = value[layerType];
  return isJsonObject(perType) ? perType : value;
}

/**
 * Reads the rotary embedding as Transformers applies it: the base from the theta key (or, in
 * newer configs, rope_parameters.rope_theta), rotary dims int(fraction · head_dim) for partial
 * rotary (PhiAttention's rotary_ndims, GPTNeoXAttention's rotary_ndims). rope_scaling (linear,
 * dynamic, llama3, yarn) rescales frequencies, which the engine does not model; its cost is the
 * same, and the comment on rope_theta says so.
 */
export function readRope(cfg: ConfigReader, keys: RopeKeys, headDim: number, layerType = 'full_attention'): RopePlan {
  const nested = ropeParameters(cfg, layerType);
  const nestedTheta = nested?.['rope_theta'];
  const theta =
    !cfg.has(keys.theta) && typeof nestedTheta === 'number' && Number.isFinite(nestedTheta) && nestedTheta > 0
      ? nestedTheta
      : cfg.positiveNumber(keys.theta, keys.thetaDefault);
  let ropeDim = headDim;
  let fraction: number | undefined;
  if (keys.partial !== undefined) {
    // Transformers v5 keeps the fraction in rope_parameters too (Qwen3-Next, Phi-3).
    const nestedPartial = nested?.[keys.partial];
    fraction =
      !cfg.has(keys.partial) && typeof nestedPartial === 'number' && Number.isFinite(nestedPartial) && nestedPartial > 0 && nestedPartial <= 1
        ? nestedPartial
        : cfg.positiveNumber(keys.partial, keys.partialDefault ?? 1, undefined, 1);
    ropeDim = Math.floor(fraction * headDim);
    cfg.require(ropeDim >= 2 && ropeDim % 2 === 0, keys.partial, `${keys.partial} (${fraction}) × head_dim (${headDim}) gives ${ropeDim} rotary dims; rotate-half needs an even number of at least 2`);
  }
  const scaling = cfg.raw('rope_scaling');
  const scalingType =
    scaling !== null && typeof scaling === 'object' && !Array.isArray(scaling) ? (scaling['rope_type'] ?? scaling['type']) : nested?.['rope_type'];
  const constants: Binding[] = [];
  const args: Record<string, Arg | undefined> = { rope: true };
  if (ropeDim !== headDim) {
    constants.push(binding('rope_dim', ropeDim, `rotary dims per head: int(${keys.partial} ${fraction} × head_dim ${headDim})`));
    args['rope_dim'] = 'rope_dim';
  }
  const scaled = typeof scalingType === 'string' && scalingType !== 'default' ? `; rope_scaling "${scalingType}" is not modelled (same cost, unscaled frequencies)` : '';
  if (theta !== ENGINE_ROPE_THETA || scaled !== '') {
    // The language keeps numbers exact as fractions of safe integers; a base written with more
    // digits than that (StarCoder2's 999999.4420358813) is rounded to 12 significant digits,
    // a relative change below 1e-11 in the frequencies and none in any count.
    const exact = Number.isSafeInteger(Number(String(theta).replace('.', '')));
    const shown = exact ? theta : Number(theta.toPrecision(12));
    const rounded = exact ? '' : ` (${theta} rounded to 12 digits)`;
    constants.push(binding('rope_theta', shown, `${keys.theta}: rotary base${rounded}${scaled}`));
    if (theta !== ENGINE_ROPE_THETA) args['rope_theta'] = 'rope_theta';
  }
  return { constants, args };
}

/** `Attention(d, heads, …)` naming the constants that attentionConstants wrote. */
export function attentionCall(shape: AttentionShape, named: Readonly<Record<string, Arg | undefined>> = {}): string {
  return call('Attention', ['d', 'heads'], {
    kv_heads: shape.kvHeads !== shape.heads ? 'kv_heads' : undefined,
    head_dim: shape.headDimNamed ? 'head_dim' : undefined,
    ...named,
  });
}

export function readTie(cfg: ConfigReader, familyDefault: boolean): boolean {
  return cfg.bool('tie_word_embeddings', familyDefault);
}

/** The LM head: `Linear(d, vocab)`, tied to the input embedding's table when `tied`. */
export function lmHead(tied: boolean, opts: { input?: string; bias?: boolean; embed?: string } = {}): Binding {
  const expr = call('Linear', [opts.input ?? 'd', 'vocab'], { bias: opts.bias === true ? true : undefined });
  return tied
    ? { name: 'lm_head', expr: `${expr} tied ${opts.embed ?? 'embed'}`, comment: 'tie_word_embeddings: one table for input and output' }
    : { name: 'lm_head', expr, comment: 'untied: its own vocab × d weight' };
}

/** The header's words for the LM head: "untied LM head", "LM head tied to the token embedding", … */
export function headDescription(withHead: boolean, tied: boolean, embedding = 'the embedding'): string {
  if (!withHead) return 'no LM head';
  return tied ? `LM head tied to ${embedding}` : 'untied LM head';
}

/** Whether the chosen class puts the LM head on top of the base model. */
export function hasLmHead(head: HeadKind): boolean {
  return head === 'lm' || head === 'mlm' || head === 'pretraining';
}

/** How the layer stack is written, with any constants and block parameters that needs. */
export interface StackPlan {
  readonly constants: readonly Binding[];
  /** Parameters for the block declaration (`attn_window = none`), if the window varies per layer. */
  readonly blockParams: readonly string[] | undefined;
  /** What to pass as the attention's `window:` inside the block, if any. */
  readonly windowArg: string | undefined;
  /** The stack expression: `Decoder * layers` or a comprehension. */
  readonly stack: string;
}

/**
 * Which layers of a stack use a sliding window. Described rather than listed so that a config
 * claiming millions of layers never allocates per layer; only an explicit per-layer list from the
 * config (bounded by the file's size) is carried element by element.
 */
export type WindowPattern =
  | { readonly kind: 'none' }
  | { readonly kind: 'all'; readonly window: number }
  /** Full attention below layer `from`, the window from there on (Qwen2's max_window_layers). */
  | { readonly kind: 'from'; readonly from: number; readonly window: number }
  /** Every `period`-th layer (i % period == period − 1) attends fully, the others slide (Gemma 2 and 3, GPT-OSS). */
  | { readonly kind: 'periodic'; readonly period: number; readonly window: number }
  | { readonly kind: 'list'; readonly windows: readonly (number | undefined)[] };

/** Gemma2/3Config's default layer_types: layer i slides unless (i + 1) % period == 0. */
export function periodicWindows(layers: number, period: number, window: number): WindowPattern {
  // With fewer layers than a period no layer attends fully.
  return layers < period ? { kind: 'all', window } : { kind: 'periodic', period, window };
}

/** The simplest pattern equivalent to an explicit per-layer list. */
export function simplifyWindows(windows: readonly (number | undefined)[]): WindowPattern {
  const distinct = [...new Set(windows.filter((w): w is number => w !== undefined))];
  const only = distinct[0];
  if (only === undefined) return { kind: 'none' };
  if (distinct.length === 1) {
    if (windows.every((w) => w === only)) return { kind: 'all', window: only };
    const from = windows.findIndex((w) => w !== undefined);
    if (windows.every((w, i) => (i < from ? w === undefined : w === only))) return { kind: 'from', from, window: only };
    // A full layer every `period` layers, the last of each period (the first full layer's index + 1),
    // seen at least twice.
    const period = windows.findIndex((w) => w === undefined) + 1;
    if (period >= 2 && windows.length >= 2 * period && windows.every((w, i) => (i % period === period - 1 ? w === undefined : w === only))) {
      return { kind: 'periodic', period, window: only };
    }
  }
  return { kind: 'list', windows };
}

/**
 * The stack of `count` instances of `block` with the given sliding windows, spelled the way a
 * person would: no window; one window on every layer (Mistral); a threshold comprehension; or,
 * for irregular patterns, an explicit per-layer list indexed by the comprehension.
 */
export function windowedStack(block: string, count: string, pattern: WindowPattern, perLayer: readonly string[] = []): StackPlan {
  // Other per-layer arguments (`ff: layer_ff[i]`, MatFormer's widths) follow the window's.
  const more = perLayer.map((arg) => `, ${arg}`).join('');
  const plain = perLayer.length === 0 ? `${block} * ${count}` : `[${block}(${perLayer.join(', ')}) for i in ${count}]`;
  const param = ['attn_window = none'];
  switch (pattern.kind) {
    case 'none':
      return { constants: [], blockParams: undefined, windowArg: undefined, stack: plain };
    case 'all':
      return {
        constants: [binding('window', pattern.window, 'sliding window in tokens, every layer')],
        blockParams: undefined,
        windowArg: 'window',
        stack: plain,
      };
    case 'from':
      return {
        constants: [
          binding('window', pattern.window, 'sliding window in tokens'),
          binding('full_layers', pattern.from, 'layers below this index attend to the full context'),
        ],
        blockParams: param,
        windowArg: 'attn_window',
        stack: `[${block}(attn_window: if i >= full_layers then window else none${more}) for i in ${count}]`,
      };
    case 'periodic':
      return {
        constants: [
          binding('window', pattern.window, 'sliding window in tokens'),
          binding('full_every', pattern.period, 'every full_every-th layer attends to the full context'),
        ],
        blockParams: param,
        windowArg: 'attn_window',
        stack: `[${block}(attn_window: if i % full_every == full_every - 1 then none else window${more}) for i in ${count}]`,
      };
    case 'list': {
      const list = `[${pattern.windows.map((w) => (w === undefined ? 'none' : formatArg(w))).join(', ')}]`;
      return {
        constants: [binding('layer_windows', list, 'per-layer sliding window (none = full attention)')],
        blockParams: param,
        windowArg: 'attn_window',
        stack: `[${block}(attn_window: layer_windows[i]${more}) for i in ${count}]`,
      };
    }
  }
}

/** Refuses a config flag whose architecture change this importer does not model. */
export function refuseIfSet(cfg: ConfigReader, key: string, why: string): void {
  if (cfg.raw(key) === true) throw new ConfigError(key, `${key} = true is not supported: ${why}`);
}
