// A QLoRA plan of Llama-2-7B (Dettmers et al. 2023, "QLoRA: Efficient Finetuning of Quantized
// LLMs"): the frozen base's linear weights in NF4 with double quantisation (4 + 8/64 + 32/(64·256)
// = 4.127 bits per weight, §2), LoRA r = 64 on every linear layer of the blocks (their setting),
// bf16 adapters with fp32 master copies and AdamW states, gradient checkpointing (full
// recomputation). The embedding, the norms and the output head stay bf16 (transformers keeps the
// output module unquantised). Every figure below is derived here from Llama-2-7B's shapes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NF4_DOUBLE_QUANT_BYTES, evaluatePlan } from '../../../src/core/index.js';
import { LLAMA2_7B, ceilDiv, plan, settings, source } from './fixtures.js';

const d = 4096n;
const ffn = 11_008n;
const L = 32n;
const V = 32_000n;
const r = 64n;
const seq = 2048;
const spec = LLAMA2_7B.replace('  lm_head = Linear(d, vocab)\n}', '  lm_head = Linear(d, vocab)\n  adapt body: lora(rank: 64)\n}');
const src = source(spec, seq);

const linearPerLayer = 4n * d * d + 3n * d * ffn;
const loraPerLayer = 4n * r * (d + d) + 3n * r * (d + ffn);
const adapters = L * loraPerLayer;
const bf16Base = V * d /* embed */ + V * d /* head */ + (2n * L + 1n) * d; /* RMSNorms */

test('LoRA r = 64 on every linear layer of Llama-2-7B trains 159,907,840 params over a frozen 6.74B base', () => {
  assert.equal(adapters, 159_907_840n);
  assert.equal(src.report.params.trainable, adapters);
  assert.equal(src.report.params.stored, 6_738_415_616n + adapters);
});

test('NF4 with double quantisation is 4.127 bits per weight', () => {
  assert.equal(NF4_DOUBLE_QUANT_BYTES.num * 4096n, 2113n * NF4_DOUBLE_QUANT_BYTES.den);
});

test('the QLoRA plan: NF4 base, bf16 adapters, fp32 master + AdamW for the adapters only, checkpointed activations', () => {
  const b = 1n;
  const p = plan(src, settings({}, { seq, finetune: 'qlora', recompute: 'full' })).perGpuBytes;
  // NF4: 2113/4096 bytes per weight of the 32 blocks' linear layers.
  assert.equal(p.weights, ceilDiv(L * linearPerLayer * 2113n, 4096n) + 2n * (bf16Base + adapters));
  assert.equal(p.gradients, 2n * adapters);
  assert.equal(p.optimizer, (4n + 8n) * adapters);
  // Checkpointing keeps each block's input (the first RMSNorm's, d per token); the final norm and
  // the head keep theirs; the loss holds bf16 logits and their fp32 log-softmax.
  const tokens = BigInt(seq) * b;
  assert.equal(p.activations, 2n * tokens * (L * d + d + d));
  assert.equal(p.loss, tokens * V * (2n + 4n));
  // 7.4 GB in all at seq 2048: within a 24 GB consumer card, as QLoRA reports for 7B.
  assert.ok(p.total < 24_000_000_000n, String(p.total));
});

test('LoRA without quantisation keeps the base in bf16; full fine-tuning needs states for every param', () => {
  const lora = plan(src, settings({}, { seq, finetune: 'lora', recompute: 'full' })).perGpuBytes;
  assert.equal(lora.weights, 2n * (6_738_415_616n + adapters));
  const full = plan(source(LLAMA2_7B, seq), settings({}, { seq, recompute: 'full' })).perGpuBytes;
  assert.equal(full.gradients + full.optimizer, 14n * 6_738_415_616n);
});

test('LoRA or QLoRA on a spec without adapters is refused with a way out', () => {
  const o = evaluatePlan(source(LLAMA2_7B, seq).model, settings({}, { seq, finetune: 'qlora' }));
  assert.ok(!o.ok && /adapt/.test(o.problems.join(' ')));
});
