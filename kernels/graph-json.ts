// The exported graph as JSON, without its weights unless asked: the nodes, their attributes,
// the initializers' names, shapes and value distributions. scripts/gpu-probe-torch.py runs this
// same graph in PyTorch for a side-by-side with the ONNX Runtime probe (docs/probes.md).

import type { ExportResult } from './export.js';
import { DataType, type AttributeValue, type TensorData } from './onnx-writer.js';

export interface GraphJson {
  readonly model: string;
  readonly dtype: 'fp16' | 'fp32';
  readonly inputs: readonly { name: string; dims: readonly (number | string | undefined)[] }[];
  readonly outputs: readonly string[];
  readonly initializers: readonly { name: string; dims: readonly number[]; scale: number; offset: number; raw?: string }[];
  readonly nodes: readonly { op: string; domain: string; inputs: readonly string[]; outputs: readonly string[]; attrs: Record<string, unknown> }[];
}

function tensorJson(t: TensorData): { dtype: string; dims: readonly number[]; data: number[] } {
  const buf = t.raw.buffer.slice(t.raw.byteOffset, t.raw.byteOffset + t.raw.byteLength);
  let data: number[];
  switch (t.dataType) {
    case DataType.INT64:
      data = Array.from(new BigInt64Array(buf), Number);
      return { dtype: 'int64', dims: t.dims, data };
    case DataType.INT32: // GroupQueryAttention's seqlens_k / total_sequence_length in a decode step
      return { dtype: 'int32', dims: t.dims, data: Array.from(new Int32Array(buf)) };
    case DataType.FLOAT:
      return { dtype: 'float32', dims: t.dims, data: Array.from(new Float32Array(buf)) };
    case DataType.FLOAT16:
      return { dtype: 'float16-bits', dims: t.dims, data: Array.from(new Uint16Array(buf)) };
    default:
      throw new Error(`graph-json: constant of ONNX type ${t.dataType}`);
  }
}

function attrJson(a: AttributeValue): unknown {
  return a.kind === 'tensor' ? tensorJson(a.value) : a.kind === 'int' ? Number(a.value) : a.kind === 'ints' ? a.value.map(Number) : a.value;
}

/** `withWeights` embeds every initializer's bytes (base64): for tiny models and tests only. */
export function graphJson(r: ExportResult, withWeights = false): GraphJson {
  const g = r.spec.graph;
  return {
    model: r.modelName,
    dtype: r.dtype,
    inputs: g.inputs.map((i) => ({ name: i.name, dims: i.dims })),
    outputs: g.outputs.map((o) => o.name),
    initializers: g.initializers.map((t) => ({
      name: t.name,
      dims: t.dims,
      ...(r.distributions.get(t.name) ?? { scale: 1, offset: 0 }),
      ...(withWeights ? { raw: Buffer.from(t.raw.buffer, t.raw.byteOffset, t.raw.byteLength).toString('base64') } : {}),
    })),
    nodes: g.nodes.map((n) => ({
      op: n.op,
      domain: n.domain ?? '',
      inputs: n.inputs,
      outputs: n.outputs,
      attrs: Object.fromEntries(Object.entries(n.attributes ?? {}).map(([k, v]) => [k, attrJson(v)])),
    })),
  };
}
