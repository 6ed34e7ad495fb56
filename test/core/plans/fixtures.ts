// Specs and helpers the plan tests share: a Megatron-style GPT (no linear biases, LayerNorm,
// rotary positions, tied head: the layout Megatron's theoretical memory counts), Llama-2-7B, and
// a plan builder over the core's defaults.

import assert from 'node:assert/strict';
import { DEFAULT_PLAN, evaluatePlan, planSource, type PlanSettings, type TrainingPlan, type ParallelSettings, type PlanSource } from '../../../src/core/index.js';

/** Megatron's GPT: per layer 12h² + 4h params (two LayerNorms, no linear biases), a tied V×h table, a final LayerNorm. */
export function megatronGpt(L: number, h: number, a: number, vocab: number): string {
  return `model GPT(L = ${L}, d = ${h}, heads = ${a}) {
  vocab = ${vocab}
  block Layer {
    ln_1 = LayerNorm(d)
    attn = Attention(d, heads, rope: true)
    ln_2 = LayerNorm(d)
    mlp  = MLP(d, 4 * d, act: gelu, bias: false)
  }
  wte     = Embedding(vocab, d)
  h       = Layer * L
  ln_f    = LayerNorm(d)
  lm_head = Linear(d, vocab) tied wte
}
`;
}

export const LLAMA2_7B = `model Llama2_7B {
  vocab = 32_000
  d = 4096
  block Decoder {
    attn_norm = RMSNorm(d)
    attn      = Attention(d, 32, rope: true)
    mlp_norm  = RMSNorm(d)
    mlp       = GatedMLP(d, 11_008)
  }
  embed   = Embedding(vocab, d)
  body    = Decoder * 32
  norm    = RMSNorm(d)
  lm_head = Linear(d, vocab)
}
`;

export function source(text: string, seq: number, name?: string): Extract<PlanSource, { ok: true }> {
  const s = planSource(text, name, seq, 'bf16');
  assert.ok(s.ok, s.ok ? '' : s.message);
  return s;
}

export function settings(parallel: Partial<ParallelSettings>, rest: Partial<PlanSettings> = {}): PlanSettings {
  const p = { ...DEFAULT_PLAN.parallel, ...parallel };
  return { ...DEFAULT_PLAN, gpus: p.tp * p.pp * p.dp * p.cp, globalBatch: (rest.microBatch ?? 1) * p.dp, ...rest, parallel: p };
}

export function plan(src: Extract<PlanSource, { ok: true }>, s: PlanSettings): TrainingPlan {
  const o = evaluatePlan(src.model, s);
  assert.ok(o.ok, o.ok ? '' : o.problems.join('; '));
  return o.plan;
}

/** ⌈n/d⌉ for exact byte counts. */
export const ceilDiv = (n: bigint, d: bigint): bigint => (n + d - 1n) / d;
