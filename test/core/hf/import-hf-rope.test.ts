// import-hf's rotary embeddings: every family that rotates q and k in Transformers (llama,
// mistral, mixtral, qwen2, gemma, phi, gpt_neox) imports with rope: true, the rotary dims of
// PhiAttention / GPTNeoXAttention (int(fraction · head_dim)) and the config's base; the others
// (GPT-2, BERT, ALBERT, T5) have none. Checked on the engine's evaluated attention geometry,
// not only on the text, so a spec the engine reads differently fails here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze, evaluateArchitecture } from '../../../src/core/index.js';
import { importHfConfig } from '../../../src/core/hf/import-hf.js';
import type { AttentionInfo } from '../../../src/core/layers/layer-kind.js';
import type { ModuleNode } from '../../../src/core/model/module-tree.js';

const FIXTURES = join(process.cwd(), 'test', 'fixtures', 'hf');
const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as Record<string, unknown>;

function specOf(config: Record<string, unknown>): string {
  const result = importHfConfig(JSON.stringify(config), { modelName: 'M' });
  if (!result.ok) assert.fail(`refused (${result.key ?? 'no key'}): ${result.message}`);
  return result.spec;
}

/** The rope of every attention layer the engine evaluates (undefined = none), deduplicated. */
function ropesOf(spec: string): (AttentionInfo['rope'] | 'none')[] {
  assert.deepEqual(analyze(spec).diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
  const seen = new Map<string, AttentionInfo['rope'] | 'none'>();
  const walk = (n: ModuleNode): void => {
    if (n.kind === 'layer') {
      const info = n.cost.attention;
      if (info?.variant === 'mha') seen.set(JSON.stringify(info.rope ?? 'none'), info.rope ?? 'none');
    } else if (n.kind === 'block') n.members.forEach((m) => walk(m.node));
    else n.runs.forEach((r) => walk(r.node));
  };
  for (const m of evaluateArchitecture(spec).models[0]!.members) walk(m.node);
  return [...seen.values()];
}

const CASES: readonly { file: string; rope: AttentionInfo['rope'] | 'none' }[] = [
  { file: 'llama-2-7b-hf.json', rope: { dim: 128, theta: 10_000 } },
  { file: 'mistral-7b-v0-1.json', rope: { dim: 128, theta: 10_000 } },
  { file: 'mixtral-8x7b-v0-1.json', rope: { dim: 128, theta: 1_000_000 } },
  { file: 'qwen2-0-5b.json', rope: { dim: 64, theta: 1_000_000 } },
  { file: 'gemma-2b.json', rope: { dim: 256, theta: 10_000 } },
  // Phi-2: partial_rotary_factor 0.4 of head_dim 80; Pythia-160M: rotary_pct 0.25 of 64.
  { file: 'phi-2.json', rope: { dim: 32, theta: 10_000 } },
  { file: 'pythia-160m.json', rope: { dim: 16, theta: 10_000 } },
  { file: 'gpt2.json', rope: 'none' },
  { file: 'bert-base-uncased.json', rope: 'none' },
  { file: 'albert-base-v2.json', rope: 'none' },
  { file: 't5-small.json', rope: 'none' },
];

for (const c of CASES) {
  test(`import-hf rope: ${c.file}`, () => {
    assert.deepEqual(ropesOf(specOf(fixture(c.file))), [c.rope]);
  });
}

test('config defaults: Mixtral without rope_theta is 1e6, GPT-NeoX without rotary_pct is 0.25', () => {
  const mixtral = fixture('mixtral-8x7b-v0-1.json');
  delete mixtral['rope_theta'];
  assert.deepEqual(ropesOf(specOf(mixtral)), [{ dim: 128, theta: 1_000_000 }]);
  const pythia = fixture('pythia-160m.json');
  delete pythia['rotary_pct'];
  delete pythia['rotary_emb_base'];
  assert.deepEqual(ropesOf(specOf(pythia)), [{ dim: 16, theta: 10_000 }]);
  const phi = fixture('phi-2.json');
  delete phi['partial_rotary_factor'];
  assert.deepEqual(ropesOf(specOf(phi)), [{ dim: 40, theta: 10_000 }]);
});

test('Llama-3 base 500000, also from the newer rope_parameters; rope_scaling is named as not modelled', () => {
  const llama3 = { ...fixture('llama-2-7b-hf.json'), rope_theta: 500_000 };
  assert.deepEqual(ropesOf(specOf(llama3)), [{ dim: 128, theta: 500_000 }]);
  const v5 = { ...fixture('llama-2-7b-hf.json'), rope_parameters: { rope_type: 'default', rope_theta: 500_000 } };
  assert.deepEqual(ropesOf(specOf(v5)), [{ dim: 128, theta: 500_000 }]);
  const scaled = specOf({ ...llama3, rope_scaling: { rope_type: 'llama3', factor: 8 } });
  assert.match(scaled, /rope_theta += 500_000 +# rope_theta: rotary base; rope_scaling "llama3" is not modelled/);
});

test('a rotary fraction that leaves an odd or zero number of dims, or a bad base, is refused on its key', () => {
  const odd = importHfConfig(JSON.stringify({ ...fixture('pythia-160m.json'), rotary_pct: 0.11 }), { modelName: 'M' });
  assert.equal(odd.ok, false);
  if (!odd.ok) assert.equal(odd.key, 'rotary_pct');
  const negative = importHfConfig(JSON.stringify({ ...fixture('llama-2-7b-hf.json'), rope_theta: -1 }), { modelName: 'M' });
  assert.equal(negative.ok, false);
  if (!negative.ok) assert.equal(negative.key, 'rope_theta');
  const over = importHfConfig(JSON.stringify({ ...fixture('phi-2.json'), partial_rotary_factor: 1.5 }), { modelName: 'M' });
  assert.equal(over.ok, false);
  if (!over.ok) assert.equal(over.key, 'partial_rotary_factor');
});
