// Reads the `.safetensors` format without touching a file system: the caller streams bytes in
// (an 8-byte little-endian header length, a JSON header, then the raw tensor data) and this
// module validates the header and turns each tensor's bytes into a similarity sketch, chunk by
// chunk, so a checkpoint is never held in memory whole. Every defect is a refusal with a message.

/** The element types the sketches can decode. */
export const SKETCH_DTYPES: Readonly<Record<string, number>> = { F32: 4, F16: 2, BF16: 2 };
/** Sizes of the other safetensors dtypes, to tell a wrong dtype from a corrupt header. */
const OTHER_DTYPES: Readonly<Record<string, number>> = { F64: 8, I64: 8, U64: 8, I32: 4, U32: 4, I16: 2, U16: 2, I8: 1, U8: 1, BOOL: 1, F8_E4M3: 1, F8_E5M2: 1 };
/** The format caps the header at 100 MB; a larger length means a corrupt or foreign file. */
export const MAX_HEADER_BYTES = 100_000_000;
/** Sketch length: random ±1 projections (Johnson–Lindenstrauss), whose cosine tracks the weights'. */
export const SKETCH_DIM = 32;

export interface TensorEntry {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Byte range within the data section (after the header). */
  readonly begin: number;
  readonly end: number;
}

export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

/** The header length from the first 8 bytes. */
export function readHeaderLength(first: Uint8Array, fileSize: number): Checked<number> {
  if (first.length < 8 || fileSize < 8) return { ok: false, message: `not a safetensors file: ${fileSize} bytes, shorter than the 8-byte header length` };
  const view = new DataView(first.buffer, first.byteOffset, 8);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const length = hi * 2 ** 32 + lo;
  if (length === 0 || length > MAX_HEADER_BYTES) return { ok: false, message: `corrupt safetensors header: it claims ${length} header bytes (the format allows 1 to ${MAX_HEADER_BYTES})` };
  if (8 + length > fileSize) return { ok: false, message: `truncated safetensors file: the header needs ${length} bytes but only ${fileSize - 8} follow the length` };
  return { ok: true, value: length };
}

/** Parses and checks the JSON header against the data section's size. */
export function parseHeader(bytes: Uint8Array, dataBytes: number): Checked<TensorEntry[]> {
  let json: unknown;
  try {
    const text = decodeUtf8(bytes);
    if (text === undefined) throw new Error('invalid UTF-8');
    json = JSON.parse(text);
  } catch {
    return { ok: false, message: 'corrupt safetensors header: it is not valid UTF-8 JSON' };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { ok: false, message: 'corrupt safetensors header: expected a JSON object of tensors' };
  const out: TensorEntry[] = [];
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const t = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof t !== 'object' || t === null || typeof t.dtype !== 'string' || !Array.isArray(t.shape) || !Array.isArray(t.data_offsets) || t.data_offsets.length !== 2) {
      return { ok: false, message: `corrupt safetensors header: tensor '${name}' needs dtype, shape and data_offsets [begin, end]` };
    }
    const shape = t.shape as unknown[];
    const offsets = t.data_offsets as unknown[];
    if (!shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0) || !offsets.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      return { ok: false, message: `corrupt safetensors header: tensor '${name}' has a shape or offsets that are not non-negative integers` };
    }
    const size = SKETCH_DTYPES[t.dtype] ?? OTHER_DTYPES[t.dtype];
    if (size === undefined) return { ok: false, message: `corrupt safetensors header: tensor '${name}' has unknown dtype '${t.dtype}'` };
    const [begin, end] = offsets as [number, number];
    const numel = (shape as number[]).reduce((p, d) => p * d, 1);
    if (end < begin || end - begin !== numel * size) {
      return { ok: false, message: `corrupt safetensors header: tensor '${name}' (${t.dtype} ${(shape as number[]).join('×')}) needs ${numel * size} bytes but its offsets span ${end - begin}` };
    }
    if (end > dataBytes) return { ok: false, message: `truncated safetensors file: tensor '${name}' ends at data byte ${end} but the file holds ${dataBytes} data bytes` };
    out.push({ name, dtype: t.dtype, shape: shape as number[], begin, end });
  }
  // Sorted by offset, each non-empty tensor must start at or after the furthest end so far (not
  // only its neighbour's: an empty tensor or a short one between two overlapping ones would hide
  // the overlap). Empty tensors occupy no bytes and overlap nothing.
  const sorted = out.filter((t) => t.end > t.begin).sort((a, b) => a.begin - b.begin || a.end - b.end);
  let furthest: TensorEntry | undefined;
  for (const t of sorted) {
    if (furthest && t.begin < furthest.end) return { ok: false, message: `corrupt safetensors header: tensors '${furthest.name}' and '${t.name}' overlap` };
    if (!furthest || t.end > furthest.end) furthest = t;
  }
  return { ok: true, value: out };
}

/** Whether a tensor's dtype can be sketched; the message names what is supported. */
export function checkDtype(t: TensorEntry): string | undefined {
  return SKETCH_DTYPES[t.dtype] === undefined ? `tensor '${t.name}' has dtype ${t.dtype}; checkpoint grouping reads F32, F16 or BF16 weights` : undefined;
}

/** Accumulates a random-projection sketch of one tensor from byte chunks of any size. */
export class TensorSketch {
  private readonly size: number;
  private readonly sums = new Float64Array(SKETCH_DIM);
  private carry = new Uint8Array(0);
  private index = 0;

  constructor(readonly dtype: string) {
    this.size = SKETCH_DTYPES[dtype] ?? 4;
  }

  push(chunk: Uint8Array): void {
    let bytes = chunk;
    if (this.carry.length > 0) {
      bytes = new Uint8Array(this.carry.length + chunk.length);
      bytes.set(this.carry);
      bytes.set(chunk, this.carry.length);
    }
    const whole = bytes.length - (bytes.length % this.size);
    const view = new DataView(bytes.buffer, bytes.byteOffset, whole);
    for (let off = 0; off < whole; off += this.size) this.add(this.decode(view, off));
    this.carry = bytes.slice(whole);
  }

  /** The sketch; undefined when bytes were left over (the tensor's data was cut short). */
  finish(): Float64Array | undefined {
    return this.carry.length === 0 ? this.sums : undefined;
  }

  private decode(view: DataView, off: number): number {
    if (this.dtype === 'F32') return view.getFloat32(off, true);
    const h = view.getUint16(off, true);
    if (this.dtype === 'BF16') {
      const buf = new DataView(new ArrayBuffer(4));
      buf.setUint32(0, h << 16);
      return buf.getFloat32(0);
    }
    return halfToFloat(h);
  }

  private add(x: number): void {
    const i = this.index++;
    if (!Number.isFinite(x) || x === 0) return;
    // One 32-bit hash of the element index gives the signs of all 32 projections.
    let h = Math.imul((i % 4294967296) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.floor(i / 4294967296);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
    for (let j = 0; j < SKETCH_DIM; j++) this.sums[j]! += (h >>> j) & 1 ? x : -x;
  }
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Strict UTF-8 decoding (the core has no TextDecoder); undefined on a malformed sequence. */
function decodeUtf8(bytes: Uint8Array): string | undefined {
  const parts: string[] = [];
  let codes: number[] = [];
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    let cp: number;
    let extra: number;
    if (b < 0x80) (cp = b), (extra = 0);
    else if (b >= 0xc2 && b < 0xe0) (cp = b & 0x1f), (extra = 1);
    else if (b >= 0xe0 && b < 0xf0) (cp = b & 0x0f), (extra = 2);
    else if (b >= 0xf0 && b < 0xf5) (cp = b & 0x07), (extra = 3);
    else return undefined;
    for (let k = 1; k <= extra; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return undefined;
      cp = (cp << 6) | (c & 0x3f);
    }
    if ((extra === 2 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000))) || (extra === 3 && (cp < 0x10000 || cp > 0x10ffff))) return undefined;
    codes.push(cp);
    if (codes.length >= 8192) {
      parts.push(String.fromCodePoint(...codes));
      codes = [];
    }
    i += extra + 1;
  }
  parts.push(String.fromCodePoint(...codes));
  return parts.join('');
}
