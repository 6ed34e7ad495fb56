// Deterministic synthetic weights, built in bulk. A tensor's values depend only on its store key
// (so an export is reproducible and a tied twin can copy them) and on its role's scale.
// One block of at most 64Ki values is drawn from a xorshift generator seeded by the key, then
// tiled over the tensor with TypedArray.copyWithin: building a 4096² tensor never walks its
// elements in JavaScript (see ../shared/gpu/README.md: element-by-element fills take minutes).

import { DataType, type DataTypeCode } from './onnx-writer.js';

const BLOCK = 65536;

/** FNV-1a of a string: the seed of a store's generator. */
export function seedOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h || 1;
}

/** `n` uniform values in [-scale, scale) + offset, as float32. */
function block(n: number, seed: number, scale: number, offset: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = offset + ((s / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half of a float (round to nearest even; overflow to infinity, underflow to zero/subnormal). */
export function toHalf(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let man = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (man ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    man |= 0x800000;
    const shift = 14 - e;
    let h = man >>> shift;
    const rem = man & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (man >>> 13);
  const rem = man & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

export type WeightDType = 'fp32' | 'fp16';

export function onnxType(dtype: WeightDType): DataTypeCode {
  return dtype === 'fp16' ? DataType.FLOAT16 : DataType.FLOAT;
}

/** The bytes of a tensor of `elements` values for store `key`: uniform ±scale around offset. */
export function synthetic(key: string, elements: number, dtype: WeightDType, scale: number, offset = 0): Uint8Array {
  const n = Math.min(elements, BLOCK);
  const values = block(n, seedOf(key), scale, offset);
  if (dtype === 'fp32') {
    const out = new Float32Array(elements);
    out.set(values);
    tile(out, n);
    return new Uint8Array(out.buffer);
  }
  const halves = new Uint16Array(elements);
  for (let i = 0; i < n; i++) halves[i] = toHalf(values[i]!);
  tile(halves, n);
  return new Uint8Array(halves.buffer);
}

/** Repeats the first `n` values over the whole array by doubling copies (O(log) calls). */
function tile(a: Float32Array | Uint16Array, n: number): void {
  let filled = n;
  while (filled < a.length) {
    const take = Math.min(filled, a.length - filled);
    a.copyWithin(filled, 0, take);
    filled += take;
  }
}
