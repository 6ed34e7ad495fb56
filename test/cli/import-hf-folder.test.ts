// `npas import-hf FOLDER`: the spec from FOLDER/config.json, checked against the checkpoint's
// safetensors headers (one file or index shards). The checkpoints here are written by the test
// with the tensor names and shapes Transformers' LlamaForCausalLM saves, so the expected counts
// come from those shapes, not from the engine.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';

const CONFIG = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  vocab_size: 100,
  hidden_size: 16,
  intermediate_size: 24,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  tie_word_embeddings: false,
};

type Shapes = Record<string, number[]>;

/** LlamaForCausalLM's tensors for CONFIG: embedding 1,600 + 2 layers × 1,952 (norms 2·16, q 256, k 128, v 128, o 256, MLP 3·384) + norm 16 + head 1,600 = 7,120. */
function llamaTensors(layers = 2): Shapes {
  const t: Shapes = { 'model.embed_tokens.weight': [100, 16], 'model.norm.weight': [16], 'lm_head.weight': [100, 16] };
  for (let i = 0; i < layers; i++) {
    const p = `model.layers.${i}.`;
    Object.assign(t, {
      [`${p}input_layernorm.weight`]: [16],
      [`${p}self_attn.q_proj.weight`]: [16, 16],
      [`${p}self_attn.k_proj.weight`]: [8, 16],
      [`${p}self_attn.v_proj.weight`]: [8, 16],
      [`${p}self_attn.o_proj.weight`]: [16, 16],
      [`${p}post_attention_layernorm.weight`]: [16],
      [`${p}mlp.gate_proj.weight`]: [24, 16],
      [`${p}mlp.up_proj.weight`]: [24, 16],
      [`${p}mlp.down_proj.weight`]: [16, 24],
    });
  }
  return t;
}

/** A safetensors file of zero-filled BF16 tensors with these shapes; returns its data bytes. */
function writeSafetensors(path: string, shapes: Shapes, dtype = 'BF16', size = 2): number {
  const header: Record<string, unknown> = {};
  let at = 0;
  for (const [name, shape] of Object.entries(shapes)) {
    const bytes = shape.reduce((p, d) => p * d, 1) * size;
    header[name] = { dtype, shape, data_offsets: [at, at + bytes] };
    at += bytes;
  }
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path, Buffer.concat([length, json, Buffer.alloc(at)]));
  return at;
}

function run(dir: string): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = main(['import-hf', dir], {
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    readFile: (p) => readFileSync(p, 'utf8'),
    writeFile: () => {},
  });
  return { code, out, err };
}

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'npas-hf-folder-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(CONFIG));
  return dir;
}

test('a folder whose checkpoint matches: count and bytes agree, exit 0', () => {
  const dir = folder();
  try {
    const bytes = writeSafetensors(join(dir, 'model.safetensors'), llamaTensors());
    assert.equal(bytes, 7120 * 2);
    const r = run(dir);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^model /m);
    assert.match(r.err, /checkpoint of 21 tensors in 1 file\(s\): 7,120 parameters, 14,240 bytes/);
    assert.match(r.err, /matches \w+: stored 7,120, 14,240 bytes at BF16/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sharded checkpoints: the index total_size is checked; a differing layer and an extra one are named', () => {
  const dir = folder();
  try {
    const shapes = llamaTensors(3);
    // Layer 1's MLP is wider than the config says; layer 2 does not exist in the config.
    shapes['model.layers.1.mlp.up_proj.weight'] = [32, 16];
    const first: Shapes = {};
    const second: Shapes = {};
    for (const [name, shape] of Object.entries(shapes)) (name.includes('layers.2.') || name.startsWith('lm_head') ? second : first)[name] = shape;
    const a = writeSafetensors(join(dir, 'model-00001-of-00002.safetensors'), first);
    const b = writeSafetensors(join(dir, 'model-00002-of-00002.safetensors'), second);
    const weightMap = Object.fromEntries(Object.keys(shapes).map((n) => [n, n in first ? 'model-00001-of-00002.safetensors' : 'model-00002-of-00002.safetensors']));
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: a + b + 2 }, weight_map: weightMap }));
    const r = run(dir);
    assert.equal(r.code, 1);
    assert.match(r.out, /^model /m, 'the spec is still written');
    assert.match(r.err, new RegExp(`index.json gives total_size ${(a + b + 2).toLocaleString('en-US')} bytes but the shards' tensors hold ${(a + b).toLocaleString('en-US')}`));
    // 7,120 + 1,952 (layer 2) + 8·16 (the wider up_proj) = 9,200.
    assert.match(r.err, /the checkpoint holds 9,200 parameters but \w+ stores 7,120 \(\+2,080\)/);
    // Layer 0 matches, so of layer 1 only the tensor whose shape differs from layer 0's is named.
    assert.match(r.err, /model\.layers\.1 holds 2,080 parameters but the spec's body\[1\] stores 1,952: model\.layers\.1\.mlp\.up_proj\.weight \[32, 16\]\n/);
    assert.match(r.err, /model\.layers\.2 has no counterpart in the spec \(body has 2 layers\): 1,952 parameters in model\.layers\.2\./);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a folder without a checkpoint imports its config and says nothing was checked; a shard outside the folder is refused', () => {
  const dir = folder();
  try {
    const r = run(dir);
    assert.equal(r.code, 0);
    assert.match(r.err, /no model\.safetensors or model\.safetensors\.index\.json/);
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { 'model.norm.weight': '../elsewhere.safetensors' } }));
    const bad = run(dir);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /weight_map\['model\.norm\.weight'\] must be a file name in the folder/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
