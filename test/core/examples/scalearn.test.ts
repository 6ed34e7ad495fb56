// ScaLearn (examples/scalearn.npas) against its paper's figures (Frohmann et al., arXiv:2310.01217v3,
// abstract): "only 8 transfer parameters per target task" (ScaLearnUniform++ over GLUE's eight
// source adapters) and "~0.35% of those of AdapterFusion" (ScaLearn). Every expected value is
// derived here from CPJKU/ScaLearn@81d77ea's modules (adapter-transformers/src/transformers/
// adapters/modeling.py: Adapter, ScaLearn, ScaLearnPlusPlus, BertFusion; configuration.py:
// PfeifferConfig, DynamicAdapterFusionConfig) on RoBERTa-base's shapes, independently of the engine.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../../src/core/index.js';

const text = readFileSync(join(__dirname, '..', '..', '..', 'examples', 'scalearn.npas'), 'utf8');

// RoBERTa-base: d 768, 12 layers, FFN 3072, vocabulary 50,265, 514 positions, one token type.
const d = 768n, layers = 12n, ff = 3072n;
const linear = (i: bigint, o: bigint): bigint => i * o + o;
const encoderLayer = 4n * linear(d, d) + 2n * d + linear(d, ff) + linear(ff, d) + 2n * d;
const ROBERTA_BASE = 50_265n * d + 514n * d + d + 2n * d + layers * encoderLayer + linear(d, d);

// Stage one: a Pfeiffer adapter per source task after each layer's FFN output, reduction factor 16.
const N = 8n; // the eight GLUE tasks (af_config_GLUE.json)
const r = d / 16n;
const adapter = linear(d, r) + linear(r, d);
const sources = layers * N * adapter;

// Stage two, per target task: ω [N, d] or [N, 1], per layer or one for all layers.
const perTask: Record<string, bigint> = {
  ScaLearn: layers * N * d,
  ScaLearnUniform: layers * N,
  ScaLearnPP: N * d,
  ScaLearnUniformPP: N,
};

test('RoBERTa-base is 124,645,632 parameters', () => {
  assert.equal(ROBERTA_BASE, 124_645_632n);
  assert.equal(analyze(text).models.find((m) => m.name === 'RoBERTaBase')!.params.stored, ROBERTA_BASE);
});

test('ScaLearn: frozen source adapters once, ω per target task; ScaLearnUniform++ trains 8 per task', () => {
  const report = analyze(text);
  assert.deepEqual(report.diagnostics.filter((x) => x.severity === 'error').map((x) => `${x.code}: ${x.message}`), []);
  for (const [name, own] of Object.entries(perTask)) {
    const m = report.models.find((x) => x.name === name)!;
    assert.equal(m.params.stored, ROBERTA_BASE + sources + 8n * own, name);
    assert.equal(m.params.trainable, 8n * own, name);
    assert.deepEqual(m.tasks, { tasks: 8, perTask: own, shared: ROBERTA_BASE + sources }, name);
  }
  // The paper's "only 8 transfer parameters per target task".
  assert.equal(perTask.ScaLearnUniformPP, 8n);
});

test('ScaLearn\'s transfer parameters are ~0.35% of AdapterFusion\'s', () => {
  // BertFusion under DynamicAdapterFusionConfig: query and key nn.Linear(d, d), value nn.Linear(d, d, bias=False), per layer.
  const fusion = layers * (2n * linear(d, d) + d * d);
  assert.equal(fusion, 21_252_096n);
  const m = analyze(text).models.find((x) => x.name === 'ScaLearn')!;
  // Hundredths of a percent, rounded: 35 (0.347%).
  assert.equal((m.tasks!.perTask * 10_000n * 2n + fusion) / (2n * fusion), 35n);
});
