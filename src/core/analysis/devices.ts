// Device profiles for roofline latency: peak dense throughput per dtype (no structured
// sparsity) and memory bandwidth, from the vendors' datasheets. A roofline is a lower bound:
// time = max(FLOPs / peak, bytes / bandwidth); real kernels reach a fraction of both.

import type { DType } from './report-types.js';

export interface DeviceProfile {
  readonly name: string;
  readonly description: string;
  /** Peak dense FLOP/s per dtype (a multiply-add counted as 2). */
  readonly peakFlops: Readonly<Record<DType, number>>;
  /** Memory bandwidth in bytes per second. */
  readonly bandwidth: number;
  /** Device memory in bytes. */
  readonly memoryBytes: bigint;
  /**
   * Per-GPU link bandwidth in bytes per second, one direction, that ring collectives reach
   * (plans: TP, DP, EP and pipeline-shared gradients): `intraNode` between GPUs of one server
   * (NVLink, or PCIe where a card has none), `interNode` the server's network share per GPU.
   */
  readonly links: { readonly intraNode: number; readonly interNode: number; readonly source: string };
  readonly source: string;
}

const T = 1e12;
const GB = 1_000_000_000n;

export const DEVICES: readonly DeviceProfile[] = [
  {
    name: 'H100',
    description: 'NVIDIA H100 SXM5 80 GB (HBM3)',
    peakFlops: { fp32: 66.9 * T, tf32: 494.7 * T, bf16: 989.4 * T, fp16: 989.4 * T, fp8: 1978.9 * T, int8: 1978.9 * T, int4: 1978.9 * T },
    bandwidth: 3.35e12,
    memoryBytes: 80n * GB,
    links: { intraNode: 450e9, interNode: 50e9, source: 'NVLink 4: 900 GB/s bidirectional per GPU; DGX H100: one 400 Gb/s ConnectX-7 port per GPU' },
    source: 'NVIDIA H100 Tensor Core GPU datasheet (SXM5, dense)',
  },
  {
    name: 'H200',
    description: 'NVIDIA H200 SXM 141 GB (HBM3e)',
    peakFlops: { fp32: 66.9 * T, tf32: 494.7 * T, bf16: 989.4 * T, fp16: 989.4 * T, fp8: 1978.9 * T, int8: 1978.9 * T, int4: 1978.9 * T },
    bandwidth: 4.8e12,
    memoryBytes: 141n * GB,
    links: { intraNode: 450e9, interNode: 50e9, source: 'NVLink 4: 900 GB/s bidirectional per GPU; one 400 Gb/s NDR port per GPU (DGX H200)' },
    source: 'NVIDIA H200 Tensor Core GPU datasheet (SXM, dense)',
  },
  {
    name: 'A100',
    description: 'NVIDIA A100 SXM4 80 GB (HBM2e)',
    // A100 has no FP8: FP8 work runs at the FP16 rate.
    peakFlops: { fp32: 19.5 * T, tf32: 156 * T, bf16: 312 * T, fp16: 312 * T, fp8: 312 * T, int8: 624 * T, int4: 1248 * T },
    bandwidth: 2.039e12,
    memoryBytes: 80n * GB,
    links: { intraNode: 300e9, interNode: 25e9, source: 'NVLink 3: 600 GB/s bidirectional per GPU; DGX A100: one 200 Gb/s HDR port per GPU' },
    source: 'NVIDIA A100 Tensor Core GPU datasheet (SXM4 80GB, dense)',
  },
  {
    name: 'L4',
    description: 'NVIDIA L4 24 GB (GDDR6)',
    peakFlops: { fp32: 30.3 * T, tf32: 60 * T, bf16: 121 * T, fp16: 121 * T, fp8: 242.5 * T, int8: 242.5 * T, int4: 242.5 * T },
    bandwidth: 300e9,
    memoryBytes: 24n * GB,
    links: { intraNode: 32e9, interNode: 12.5e9, source: 'no NVLink: PCIe Gen4 x16 (32 GB/s per direction); a 100 Gb/s NIC per GPU assumed' },
    source: 'NVIDIA L4 Tensor Core GPU datasheet (dense: half the sparsity figures)',
  },
  {
    name: 'RTX4090',
    description: 'NVIDIA GeForce RTX 4090 24 GB (GDDR6X)',
    // Tensor rates with FP32 accumulation, as training and most inference kernels use.
    peakFlops: { fp32: 82.6 * T, tf32: 82.6 * T, bf16: 165.2 * T, fp16: 165.2 * T, fp8: 330.3 * T, int8: 660.6 * T, int4: 1321.2 * T },
    bandwidth: 1008e9,
    memoryBytes: 24n * GB,
    links: { intraNode: 32e9, interNode: 12.5e9, source: 'no NVLink: PCIe Gen4 x16 (32 GB/s per direction); a 100 Gb/s NIC per GPU assumed' },
    source: 'NVIDIA Ada Lovelace architecture whitepaper, RTX 4090 (dense, FP32 accumulate)',
  },
  {
    name: 'CPU',
    description: 'A 16-core AVX-512 server CPU at 3.0 GHz with 4-channel DDR5-4800',
    // 16 cores × 3.0 GHz × 2 FMA units × 16 fp32 lanes × 2 FLOPs = 3.07 TFLOP/s fp32;
    // AVX512-BF16 dot products double that, VNNI int8 quadruples it.
    peakFlops: { fp32: 3.072 * T, tf32: 3.072 * T, bf16: 6.144 * T, fp16: 3.072 * T, fp8: 6.144 * T, int8: 12.288 * T, int4: 12.288 * T },
    bandwidth: 153.6e9,
    memoryBytes: 128n * GB,
    links: { intraNode: 12.5e9, interNode: 12.5e9, source: 'one 100 Gb/s NIC between hosts' },
    source: 'derived: 16 cores × 3.0 GHz × 64 FP32 FLOPs/cycle; 4 × DDR5-4800 channels × 38.4 GB/s',
  },
];

export const DEVICE_NAMES: readonly string[] = DEVICES.map((d) => d.name);

export function findDevice(name: string): DeviceProfile | undefined {
  const key = name.toLowerCase().replace(/[\s_-]/g, '');
  return DEVICES.find((d) => d.name.toLowerCase() === key);
}
