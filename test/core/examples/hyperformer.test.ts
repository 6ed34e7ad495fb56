// HyperFormer++ (examples/hyperformer.npas) against its paper's "0.29% parameters per task"
// (Karimi Mahabadi et al., ACL 2021, arXiv:2106.04489, abstract). Every expected value is derived
// here from the released configuration (rabeehk/hyperformer configs/hyperformer++.json on
// t5-base) and the shapes of adapters/adapter_modeling.py, adapter_utils.py, independently of the
// engine.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../../src/core/index.js';

const text = readFileSync(join(__dirname, '..', '..', '..', 'examples', 'hyperformer.npas'), 'utf8');

// t5-base: d_model 768, d_ff 3072, 12 heads of 64, 12 encoder and 12 decoder blocks, vocabulary
// 32,128 (tied), 32 relative-position buckets in the first block of each stack; T5LayerNorm has a
// weight only.
const d = 768n, ff = 3072n, vocab = 32_128n, layers = 12n;
const attention = 4n * d * d;
const mlp = 2n * d * ff;
const encoderBlock = attention + mlp + 2n * d;
const decoderBlock = 2n * attention + mlp + 3n * d;
const T5_BASE = vocab * d + layers * encoderBlock + layers * decoderBlock + 2n * (32n * 12n) + 2n * d;

// hyperformer++.json: reduction_factor 32 (r = 768 / 32), task_embedding_dim 64 (t; the file's
// second key), projected_task_embedding_dim 64 (p), MetaAdapterConfig.task_hidden_dim 128 (h),
// eight tasks. Per stack, AdapterLayersOneHyperNetController holds:
const r = d / 32n, t = 64n, p = 64n, h = 128n, tasks = 8n;
const linear = (i: bigint, o: bigint): bigint => i * o + o; // nn.Linear with its bias
const controller =
  layers * t + // layer_id_embeddings: nn.Embedding(num_layers, t)
  2n * t + // adapters_block_type: nn.Embedding(2, t)
  linear(3n * t, h) + linear(h, p) + // TaskHyperNet over [task; layer; block type]
  2n * p + // unique_hyper_net_layer_norm: nn.LayerNorm(p)
  linear(p, d * r) + linear(p, d) + // up_sampler_hyper_net = AdapterLayersHyperNet(config, d, r): weight and bias generators
  linear(p, r * d) + linear(p, r) + // down_sampler_hyper_net = AdapterLayersHyperNet(config, r, d)
  2n * linear(p, d); // post_layernorm_hypernet = LayerNormHyperNet: weight and bias generators
const taskEmbeddings = tasks * t; // TaskEmbeddingController: one [t] parameter per task
const layerNorms = (2n * layers + 1n + 3n * layers + 1n) * d; // unfreeze_layer_norms

test('T5-base is 222,903,552 parameters', () => {
  assert.equal(T5_BASE, 222_903_552n);
  const base = analyze(text).models.find((m) => m.name === 'T5Base')!;
  assert.equal(base.params.stored, T5_BASE);
});

test('HyperFormer++: two shared generators and one task table; 0.29% of T5-base trained per task', () => {
  const r0 = analyze(text);
  assert.deepEqual(r0.diagnostics.map((x) => `${x.code}: ${x.message}`), []);
  const hyper = r0.models.find((m) => m.name === 'HyperFormerPP')!;
  assert.equal(controller, 2_581_464n);
  assert.equal(hyper.params.stored, T5_BASE + 2n * controller + taskEmbeddings);
  assert.equal(hyper.params.trainable, 2n * controller + taskEmbeddings + layerNorms);
  // What each task owns alone is its embedding; the generators and the base serve every task.
  assert.deepEqual(hyper.tasks, { tasks: 8, perTask: t, shared: T5_BASE + 2n * controller });
  // The paper's "0.29% parameters per task": the trained parameters over the tasks, against
  // T5-base, to two decimals of a percent (10,000ths).
  const perTaskBasisPoints = (hyper.params.trainable * 10_000n * 100n) / (tasks * T5_BASE);
  assert.equal((perTaskBasisPoints + 50n) / 100n, 29n, `${perTaskBasisPoints} hundredths of a basis point`);
  // Generated adapters: 2 per block in 24 blocks, each d → r → d with biases and a LayerNorm,
  // applied per token (effective and active count them, the decode step runs them).
  const generated = 2n * d * r + r + d + 2n * d;
  const base = r0.models.find((m) => m.name === 'T5Base')!;
  assert.equal(hyper.params.effective - base.params.effective, 48n * generated);
  assert.equal(hyper.params.active - base.params.active, 48n * generated);
});
