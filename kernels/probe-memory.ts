// The probe's host-memory pre-check: a model that cannot fit is refused before a single weight is
// drawn, with the estimate, instead of the probe host dying out of memory (or the machine
// swapping) halfway through the export. The estimate comes from the engine's report at the
// probe's settings:
//   2 × weights   the exporter's synthetic tensors and ONNX Runtime's copy of them live together
//                 (below the external-data threshold the serialised model adds a third copy, but
//                 such models are small);
//   2 × KV cache  the decode graph holds its cache in initializers, again drawn and copied;
//   activations   the engine's saved-activation bytes at (batch, seq): an upper bound at inference.
// It is compared with the memory available now (MemAvailable, capped by a cgroup limit). The
// check is on the host for both providers: on CUDA the host still draws every weight.

import { freemem, totalmem } from 'node:os';
import type { ModelReport } from '../src/core/index.js';

export interface MemoryEstimate {
  readonly weights: number;
  readonly kvCache: number;
  readonly activations: number;
  /** Bytes the probe is expected to hold at its peak. */
  readonly need: number;
}

export function probeMemoryEstimate(report: Pick<ModelReport, 'memory'>): MemoryEstimate {
  const weights = Number(report.memory.weightBytes);
  const kvCache = Number(report.memory.kvCacheBytes);
  const activations = Number(report.memory.activationBytes);
  return { weights, kvCache, activations, need: 2 * weights + 2 * kvCache + activations };
}

/** Bytes this process can expect to allocate: available memory, capped by a cgroup limit. */
export function availableMemory(): { available: number; total: number } {
  const limit = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  const cap = limit && limit > 0 && limit < Number.MAX_SAFE_INTEGER ? limit : Infinity;
  return { available: Math.min(freemem(), cap), total: Math.min(totalmem(), cap) };
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;

/** The refusal's message when the estimate exceeds `available`; undefined when it fits. */
export function memoryRefusal(model: string, dtype: string, e: MemoryEstimate, mem: { available: number; total: number }): string | undefined {
  if (e.need <= mem.available) return undefined;
  return (
    `${model} needs about ${gib(e.need)} of host memory to probe at ${dtype} (weights ${gib(e.weights)} held twice — drawn by the exporter and copied by ONNX Runtime — ` +
    `+ KV cache ${gib(e.kvCache)} twice + activations ${gib(e.activations)}), but ${gib(mem.available)} is available (${gib(mem.total)} total). ` +
    `Probe it on a larger machine${dtype === 'fp32' && e.need / 2 <= mem.available ? ' or at fp16 (half the bytes)' : ''}, or export the graph alone (npas export-onnx --graph-json, which draws no weights); --ignore-memory tries anyway.`
  );
}

/**
 * The same pre-check for `npas export-onnx`: the exporter draws every stored weight once and
 * streams it to disk without a second copy (a decode graph also draws its KV cache), and it
 * builds no activations. A model that cannot fit is refused before the first tensor is drawn,
 * instead of growing to the machine's limit and failing with "Array buffer allocation failed".
 */
export function exportMemoryEstimate(report: Pick<ModelReport, 'memory'>, decode: boolean): MemoryEstimate {
  const weights = Number(report.memory.weightBytes);
  const kvCache = decode ? Number(report.memory.kvCacheBytes) : 0;
  return { weights, kvCache, activations: 0, need: weights + kvCache };
}

/** The export's refusal when the estimate exceeds `available`; undefined when it fits. */
export function exportMemoryRefusal(model: string, dtype: string, e: MemoryEstimate, mem: { available: number; total: number }): string | undefined {
  if (e.need <= mem.available) return undefined;
  return (
    `${model} needs about ${gib(e.need)} of host memory to export at ${dtype} (synthetic weights ${gib(e.weights)}${e.kvCache > 0 ? ` + KV cache ${gib(e.kvCache)}` : ''}), ` +
    `but ${gib(mem.available)} is available (${gib(mem.total)} total). Export it on a larger machine${dtype === 'fp32' && e.need / 2 <= mem.available ? ' or at fp16 (half the bytes)' : ''}, ` +
    `or the graph alone (--graph-json, which draws no weights); --ignore-memory tries anyway.`
  );
}
