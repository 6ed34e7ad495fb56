// A small protobuf encoder for the subset of onnx.proto the exporter writes: ModelProto,
// GraphProto, NodeProto, AttributeProto, TensorProto (raw data or external data) and
// ValueInfoProto. Why hand-written rather than onnx-proto/protobufjs: see ARCHITECTURE.md,
// "ONNX export". Messages are encoded as lists of byte chunks, so a multi-gigabyte tensor is
// never copied into a single buffer: its raw bytes are one chunk, written as they are.
//
// Field numbers follow onnx/onnx.proto (IR version 8).

/** A message body: its chunks in order and their total byte length. */
export interface Encoded {
  readonly chunks: Uint8Array[];
  readonly length: number;
}

export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  BFLOAT16: 16,
} as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** Bytes per element of the data types the exporter writes. */
export function bytesPerElement(t: DataTypeCode): number {
  switch (t) {
    case DataType.FLOAT:
    case DataType.INT32:
      return 4;
    case DataType.INT64:
    case DataType.DOUBLE:
      return 8;
    case DataType.FLOAT16:
    case DataType.BFLOAT16:
      return 2;
    default:
      return 1;
  }
}

// ---- wire format -------------------------------------------------------------------------

const WIRE_VARINT = 0;
const WIRE_FIXED32 = 5;
const WIRE_LEN = 2;

/** A varint of a non-negative integer up to 2^53 (lengths of multi-gigabyte messages included). */
function varint(value: number | bigint): Uint8Array {
  let v = BigInt.asUintN(64, BigInt(value)); // negative int64 values are ten bytes, as protobuf says
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return Uint8Array.from(out);
}

/** Fast path for small non-negative numbers (keys, short lengths). */
function smallVarint(value: number): Uint8Array {
  if (value < 0x80) return Uint8Array.of(value);
  if (value < 0x4000) return Uint8Array.of((value & 0x7f) | 0x80, value >>> 7);
  return varint(value);
}

const key = (field: number, wire: number): Uint8Array => smallVarint(field * 8 + wire);
const utf8 = new TextEncoder();

/** Builds one message body from fields appended in order. */
export class MessageBuilder {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  private push(c: Uint8Array): void {
    this.chunks.push(c);
    this.length += c.length;
  }

  int(field: number, value: number | bigint): this {
    this.push(key(field, WIRE_VARINT));
    this.push(typeof value === 'number' && value >= 0 && value < 0x4000 ? smallVarint(value) : varint(value));
    return this;
  }

  float(field: number, value: number): this {
    this.push(key(field, WIRE_FIXED32));
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(b);
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.push(key(field, WIRE_LEN));
    this.push(varint(data.length));
    if (data.length > 0) this.push(data);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, utf8.encode(s));
  }

  message(field: number, m: Encoded): this {
    this.push(key(field, WIRE_LEN));
    this.push(varint(m.length));
    for (const c of m.chunks) this.chunks.push(c);
    this.length += m.length;
    return this;
  }

  /** Packed repeated int64 (dims, ints attributes are written unpacked by most tools; both parse). */
  ints(field: number, values: readonly (number | bigint)[]): this {
    for (const v of values) this.int(field, v);
    return this;
  }

  done(): Encoded {
    return { chunks: this.chunks, length: this.length };
  }
}

/** The bytes of an encoded message as one buffer (small models, tests, in-memory sessions). */
export function concat(m: Encoded): Uint8Array {
  const out = new Uint8Array(m.length);
  let o = 0;
  for (const c of m.chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

// ---- ONNX messages ------------------------------------------------------------------------

export type AttributeValue =
  | { readonly kind: 'int'; readonly value: number | bigint }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'ints'; readonly value: readonly (number | bigint)[] }
  | { readonly kind: 'tensor'; readonly value: TensorData };

/** One spelling for a node's attributes, so a builder writes `{ axis: attr.int(0) }`, not the tagged union. */
export const attr = {
  int: (value: number | bigint): AttributeValue => ({ kind: 'int', value }),
  ints: (value: readonly (number | bigint)[]): AttributeValue => ({ kind: 'ints', value }),
  float: (value: number): AttributeValue => ({ kind: 'float', value }),
  string: (value: string): AttributeValue => ({ kind: 'string', value }),
} as const;

export interface NodeSpec {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name?: string;
  readonly domain?: string;
  readonly attributes?: Readonly<Record<string, AttributeValue>>;
}

/** A tensor: name, type, shape and its little-endian bytes (a view, never copied). */
export interface TensorData {
  readonly name: string;
  readonly dataType: DataTypeCode;
  readonly dims: readonly number[];
  readonly raw: Uint8Array;
}

export interface ValueInfo {
  readonly name: string;
  readonly dataType: DataTypeCode;
  /** A number is a fixed size, a string a symbolic one (`batch`), undefined an unknown one. */
  readonly dims: readonly (number | string | undefined)[];
}

export interface GraphSpec {
  readonly name: string;
  readonly nodes: readonly NodeSpec[];
  readonly initializers: readonly TensorData[];
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
}

export interface ModelSpec {
  readonly graph: GraphSpec;
  /** Operator sets by domain ('' is ai.onnx). */
  readonly opsets: ReadonlyMap<string, number>;
  readonly producer: string;
  readonly docString?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_TENSOR = 4;
const ATTR_INTS = 7;

/** Where tensors go: inline (`raw_data`), or a byte range of the external data file. */
interface Placement {
  readonly location: string;
  readonly offset: number;
}

function encodeTensor(t: TensorData, placement?: Placement): Encoded {
  const m = new MessageBuilder();
  m.ints(1, t.dims).int(2, t.dataType).string(8, t.name);
  if (placement) {
    const entry = (k: string, v: string): Encoded => new MessageBuilder().string(1, k).string(2, v).done();
    m.message(13, entry('location', placement.location));
    m.message(13, entry('offset', String(placement.offset)));
    m.message(13, entry('length', String(t.raw.length)));
    m.int(14, 1); // data_location = EXTERNAL
  } else {
    m.bytes(9, t.raw);
  }
  return m.done();
}

function encodeAttribute(name: string, a: AttributeValue): Encoded {
  const m = new MessageBuilder().string(1, name);
  switch (a.kind) {
    case 'float':
      return m.float(2, a.value).int(20, ATTR_FLOAT).done();
    case 'int':
      return m.int(3, a.value).int(20, ATTR_INT).done();
    case 'string':
      return m.string(4, a.value).int(20, ATTR_STRING).done();
    case 'tensor':
      return m.message(5, encodeTensor(a.value)).int(20, ATTR_TENSOR).done();
    case 'ints':
      return m.ints(8, a.value).int(20, ATTR_INTS).done();
  }
}

function encodeNode(n: NodeSpec): Encoded {
  const m = new MessageBuilder();
  for (const i of n.inputs) m.string(1, i);
  for (const o of n.outputs) m.string(2, o);
  if (n.name) m.string(3, n.name);
  m.string(4, n.op);
  for (const [name, a] of Object.entries(n.attributes ?? {})) m.message(5, encodeAttribute(name, a));
  if (n.domain) m.string(7, n.domain);
  return m.done();
}

function encodeValueInfo(v: ValueInfo): Encoded {
  const shape = new MessageBuilder();
  for (const d of v.dims) {
    const dim = new MessageBuilder();
    if (typeof d === 'number') dim.int(1, d);
    else if (typeof d === 'string') dim.string(2, d);
    shape.message(1, dim.done());
  }
  const tensorType = new MessageBuilder().int(1, v.dataType).message(2, shape.done()).done();
  const type = new MessageBuilder().message(1, tensorType).done();
  return new MessageBuilder().string(1, v.name).message(2, type).done();
}

export interface EncodeOptions {
  /**
   * Tensors go to an external data file when the initializers total more than this many bytes
   * (protobuf messages cannot exceed 2 GiB). Default: 1.75 GiB.
   */
  readonly externalThresholdBytes?: number;
  /** The external data file name, relative to the model file (required to go external). */
  readonly externalName?: string;
  /** Tensors smaller than this stay inline even in an external-data model. Default 1 KiB. */
  readonly externalMinBytes?: number;
}

export interface EncodedModel {
  readonly model: Encoded;
  /** The external data file's chunks (tensors back to back, 64-byte aligned), if any. */
  readonly external: Encoded | undefined;
}

export const DEFAULT_EXTERNAL_THRESHOLD = 1.75 * 1024 ** 3;
const IR_VERSION = 8;

export function encodeModel(spec: ModelSpec, options: EncodeOptions = {}): EncodedModel {
  const threshold = options.externalThresholdBytes ?? DEFAULT_EXTERNAL_THRESHOLD;
  const total = spec.graph.initializers.reduce((s, t) => s + t.raw.length, 0);
  const goExternal = total > threshold;
  if (goExternal && !options.externalName) throw new Error(`the initializers take ${total} bytes, more than a protobuf file may hold: write the model to a file so that its weights go to external data`);
  const minBytes = options.externalMinBytes ?? 1024;
  const ext: Uint8Array[] = [];
  let extLength = 0;

  const g = new MessageBuilder();
  for (const n of spec.graph.nodes) g.message(1, encodeNode(n));
  g.string(2, spec.graph.name);
  for (const t of spec.graph.initializers) {
    if (goExternal && t.raw.length >= minBytes) {
      const pad = (64 - (extLength % 64)) % 64;
      if (pad) {
        ext.push(new Uint8Array(pad));
        extLength += pad;
      }
      g.message(5, encodeTensor(t, { location: options.externalName!, offset: extLength }));
      ext.push(t.raw);
      extLength += t.raw.length;
    } else {
      g.message(5, encodeTensor(t));
    }
  }
  for (const v of spec.graph.inputs) g.message(11, encodeValueInfo(v));
  for (const v of spec.graph.outputs) g.message(12, encodeValueInfo(v));

  const m = new MessageBuilder().int(1, IR_VERSION);
  m.string(2, spec.producer);
  m.message(7, g.done());
  if (spec.docString) m.string(6, spec.docString);
  for (const [domain, version] of spec.opsets) m.message(8, new MessageBuilder().string(1, domain).int(2, version).done());
  for (const [k, v] of Object.entries(spec.metadata ?? {})) m.message(14, new MessageBuilder().string(1, k).string(2, v).done());
  return { model: m.done(), external: goExternal ? { chunks: ext, length: extLength } : undefined };
}
