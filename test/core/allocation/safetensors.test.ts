// The pure safetensors reader: sketches do not depend on how the bytes are chunked, decode F16
// and BF16 like F32, track similarity; headers with overlapping tensors are refused.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHeader, readHeaderLength, TensorSketch } from '../../../src/core/index.js';
import { cosine } from '../../../src/core/allocation/checkpoint-groups.js';
import { prng } from '../../fixtures/prng.js';

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

const headerOf = (tensors: Record<string, [number, number]>): Uint8Array =>
  new TextEncoder().encode(JSON.stringify(Object.fromEntries(Object.entries(tensors).map(([n, [b, e]]) => [n, { dtype: 'U8', shape: [e - b], data_offsets: [b, e] }]))));

test('an overlap hidden behind an empty or a short tensor is still refused (issue 12, item 11)', () => {
  // 'big' spans [0, 100); an empty tensor at 50 and 'inner' at [60, 70) sit inside it. Neighbours
  // compared pairwise saw big–empty (empty overlaps nothing) and empty–inner (disjoint).
  const hidden = parseHeader(headerOf({ big: [0, 100], empty: [50, 50], inner: [60, 70] }), 100);
  assert.ok(!hidden.ok);
  assert.match(hidden.message, /tensors 'big' and 'inner' overlap/);
  const short = parseHeader(headerOf({ big: [0, 100], a: [10, 20], b: [30, 40] }), 100);
  assert.ok(!short.ok);
  assert.match(short.message, /tensors 'big' and 'a' overlap/);
});

test('safetensors layouts: a seeded fuzz of disjoint, empty and overlapping tensors agrees with a byte-by-byte check', () => {
  const rnd = prng(11);
  for (let trial = 0; trial < 500; trial++) {
    const tensors: Record<string, [number, number]> = {};
    const count = 1 + Math.floor(rnd() * 6);
    for (let i = 0; i < count; i++) {
      const begin = Math.floor(rnd() * 40);
      const length = rnd() < 0.25 ? 0 : 1 + Math.floor(rnd() * 12);
      tensors[`t${i}`] = [begin, begin + length];
    }
    // Independent check: does any byte belong to two tensors?
    const owners = new Array<number>(64).fill(0);
    for (const [b, e] of Object.values(tensors)) for (let x = b; x < e; x++) owners[x]!++;
    const overlaps = owners.some((n) => n > 1);
    const r = parseHeader(headerOf(tensors), 64);
    assert.equal(!r.ok, overlaps, `trial ${trial}: ${JSON.stringify(tensors)} ${r.ok ? 'accepted' : r.message}`);
  }
});
