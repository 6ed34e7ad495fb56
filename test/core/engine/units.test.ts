// Per-token and per-sample units. A convolution over the token sequence (Conv1d without
// `length`: Mamba's depthwise causal conv, a conv token mixer) costs per token, like a Linear:
// 2·(c_in/groups)·kernel·c_out FLOPs and c_in saved inputs per token, and a decode state of the
// last dilation·(kernel − 1) + 1 inputs per channel. A convolution over a declared input size
// costs per sample; in a token model that mixes units and is flagged (npas-units-mixed).
// Expected values are written out from these formulas (the PyTorch check in test/torch runs a
// causal depthwise Conv1d mixer and agrees to the FLOP).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, type NodeReport } from '../../../src/core/index.js';

// Mamba-130m's widths (state-spaces/mamba-130m-hf: d 768, inner 1,536, d_conv 4, 24 layers,
// vocabulary 50,280), its mixer written out as a projection, the depthwise causal conv and an
// output projection (no scan: this checks the units, not Mamba).
const MIXER = (conv: string): string => `model M {
  block Mix { inp = Linear(768, 1536); conv = ${conv}; out = Linear(1536, 768) }
  embed = Embedding(50280, 768)
  body  = Mix * 24
  head  = Linear(768, 50280)
}
variant Narrow of M { }`;

function find(node: NodeReport, name: string): NodeReport | undefined {
  if (node.name === name) return node;
  for (const c of node.children) {
    const hit = find(c, name);
    if (hit) return hit;
  }
  return undefined;
}

test('a Conv1d over the token sequence is per token: a 4,096-token prefill is 4,096 tokens of it', () => {
  const r = analyze(MIXER('Conv1d(1536, 1536, 4, groups: 1536, padding: 3)'), { seq: 4096 });
  assert.deepEqual(r.diagnostics.map((d) => d.code), []);
  const m = r.models[0]!;
  assert.equal(m.flops.unit, 'token');
  // Per token: inp 2·768·1,536 = 2,359,296; conv 2·(1,536/1,536)·4·1,536 = 12,288; out 2,359,296;
  // × 24 = 113,541,120; head 2·768·50,280 = 77,230,080. Total 190,771,200.
  const perToken = 24n * (2n * 768n * 1536n + 2n * 4n * 1536n + 2n * 1536n * 768n) + 2n * 768n * 50280n;
  assert.equal(perToken, 190_771_200n);
  assert.equal(m.flops.prefill, 4096n * perToken);
  assert.equal(m.flops.decode, perToken);
  assert.equal(m.flops.prefillPerToken, '190771200');
  // The conv saves its input, 1,536 elements per token.
  assert.equal(find(m.tree, 'conv')!.activationPerToken, 1536n);
  assert.equal(find(m.tree, 'conv')!.flopsPerToken, 12_288n);
  // Decode state: 24 layers × 1,536 channels × the last 4 inputs, bf16, per sequence.
  assert.equal(m.recurrentStateBytes, 24n * 1536n * 4n * 2n);
  assert.equal(analyze(MIXER('Conv1d(1536, 1536, 4, groups: 1536)'), { seq: 4096, batch: 3 }).models[0]!.recurrentStateBytes, 3n * 24n * 1536n * 4n * 2n);
  // Dilation 2 widens the window the state keeps: 2·(4 − 1) + 1 = 7 inputs; FLOPs unchanged.
  const dilated = analyze(MIXER('Conv1d(1536, 1536, 4, groups: 1536, dilation: 2, padding: 6)'), { seq: 4096 }).models[0]!;
  assert.equal(dilated.recurrentStateBytes, 24n * 1536n * 7n * 2n);
  assert.equal(dilated.flops.prefill, 4096n * perToken);
  // A dense (groups 1) conv: 2·1,536·4·1,536 per token.
  const dense = analyze(MIXER('Conv1d(1536, 1536, 4)'), { seq: 16 }).models[0]!;
  assert.equal(find(dense.tree, 'conv')!.flopsPerToken, 2n * 1536n * 4n * 1536n);
});

test('a Conv1d over a declared length in a token model is flagged once as mixing units', () => {
  const r = analyze(MIXER('Conv1d(1536, 1536, 4, groups: 1536, padding: 3, length: 4096)'));
  const mixed = r.diagnostics.filter((d) => d.code === 'npas-units-mixed');
  assert.equal(mixed.length, 1, 'once, though the model and its variant both hold the layer');
  assert.equal(mixed[0]!.severity, 'warning');
  const text = MIXER('Conv1d(1536, 1536, 4, groups: 1536, padding: 3, length: 4096)');
  assert.equal(text.slice(mixed[0]!.range.start, mixed[0]!.range.end), 'Conv1d(1536, 1536, 4, groups: 1536, padding: 3, length: 4096)');
  assert.match(mixed[0]!.message, /M is a token model \(it has Embedding\).*leave out length/);
  assert.equal(r.models[0]!.flops.unit, 'sample');
  // A convolutional model (no token layer) is per sample and not flagged; neither is a token
  // model with attention and a sequence conv.
  const cnn = analyze('model C { c = Conv1d(2, 8, 3, length: 32); h = Linear(240, 10) }');
  assert.deepEqual(cnn.diagnostics.map((d) => d.code), []);
  const attn = analyze('model A { e = Embedding(10, 8); c = Conv1d(8, 8, 3, groups: 8); a = Attention(8, heads: 2) }');
  assert.deepEqual(attn.diagnostics.map((d) => d.code), []);
  const withAttention = analyze('model A { a = Attention(8, heads: 2); c = Conv2d(8, 8, 3, size: 4) }');
  assert.deepEqual(withAttention.diagnostics.map((d) => d.code), ['npas-units-mixed']);
});

test('a Conv1d over the token sequence keeps one output per token: stride 1, causal padding', () => {
  const at = (call: string): { code: string; text: string; message: string }[] => {
    const src = `model M { e = Embedding(10, 8); c = ${call} }`;
    return analyze(src).diagnostics.map((d) => ({ code: d.code, text: src.slice(d.range.start, d.range.end), message: d.message }));
  };
  const stride = at('Conv1d(8, 8, 3, stride: 2)');
  assert.equal(stride.length, 1);
  assert.equal(stride[0]!.code, 'npas-layer-shape');
  assert.equal(stride[0]!.text, 'stride: 2');
  assert.match(stride[0]!.message, /stride must be 1/);
  const padding = at('Conv1d(8, 8, 3, padding: 1)');
  assert.equal(padding[0]!.text, 'padding: 1');
  assert.match(padding[0]!.message, /dilation·\(kernel − 1\) = 2/);
  assert.deepEqual(at('Conv1d(8, 8, 3, padding: 2)'), [], 'the causal padding as PyTorch writes it');
  assert.deepEqual(at('Conv1d(8, 8, 3, dilation: 3, padding: 6)'), []);
  assert.match(at('Conv1d(8, 6, 3, groups: 4)')[0]!.message, /groups \(4\) must divide/);
});
