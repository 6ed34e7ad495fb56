// The pure safetensors reader: sketches do not depend on how the bytes are chunked, decode F16
// and BF16 like F32, track similarity; headers with overlapping tensors are refused.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHeader, readHeaderLength, TensorSketch } from '../../../src/core/index.js';
import { cosine } from '../../../src/core/allocation/checkpoint-groups.js';

const f32 = (xs: number[]): Uint8Array => new Uint8Array(Float32Array.from(xs).buffer);
const sketch = (bytes: Uint8Array, dtype: string, chunk: number): Float64Array => {
  const s = new TensorSketch(dtype);
  for (let i = 0; i < bytes.length; i += chunk) s.push(bytes.subarray(i, i + chunk));
  const out = s.finish();
  assert.ok(out);
  return out;
};

test('a sketch is the same whatever the chunk boundaries', () => {
  const bytes = f32(Array.from({ length: 1000 }, (_, i) => Math.sin(i)));
  const whole = sketch(bytes, 'F32', bytes.length);
  for (const chunk of [1, 3, 7, 4096]) assert.deepEqual(sketch(bytes, 'F32', chunk), whole);
});

test('F16 and BF16 decode to the same sketch direction as F32; unrelated tensors are dissimilar', () => {
  const xs = Array.from({ length: 512 }, (_, i) => Math.cos(i * 0.37));
  const a = sketch(f32(xs), 'F32', 64);
  const bf16 = new Uint8Array(xs.length * 2);
  const f16 = new Uint8Array(xs.length * 2);
  const f = new DataView(new ArrayBuffer(4));
  xs.forEach((x, i) => {
    f.setFloat32(0, x);
    const bits = f.getUint32(0);
    new DataView(bf16.buffer).setUint16(2 * i, bits >>> 16, true);
    const exp = ((bits >>> 23) & 0xff) - 112;
    new DataView(f16.buffer).setUint16(2 * i, exp <= 0 ? (bits >>> 16) & 0x8000 : ((bits >>> 16) & 0x8000) | (exp << 10) | ((bits >>> 13) & 0x3ff), true);
  });
  assert.ok(cosine(a, sketch(bf16, 'BF16', 10)) > 0.99);
  assert.ok(cosine(a, sketch(f16, 'F16', 10)) > 0.99);
  const other = sketch(f32(xs.map((_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1)), 'F32', 64);
  assert.ok(Math.abs(cosine(a, other)) < 0.5);
});

test('a partial element is reported, overlapping tensors refused', () => {
  const s = new TensorSketch('F32');
  s.push(new Uint8Array(6));
  assert.equal(s.finish(), undefined);
  const header = new TextEncoder().encode(JSON.stringify({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }));
  const r = parseHeader(header, 12);
  assert.ok(!r.ok);
  assert.match(r.message, /tensors 'a' and 'b' overlap/);
  const len = readHeaderLength(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0]), 100);
  assert.ok(!len.ok);
  assert.match(len.message, /claims 0 header bytes/);
});
