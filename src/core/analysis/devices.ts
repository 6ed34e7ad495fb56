// Device profiles for roofline latency, as data: peak dense throughput per dtype (no structured
// sparsity: a datasheet's "with sparsity" figure is halved) and memory bandwidth and size, each
// entry citing where its numbers come from. A roofline is a lower bound:
// time = max(FLOPs / peak, bytes / bandwidth); real kernels reach a fraction of both.
//
// A device lists a peak only for the dtypes its hardware runs natively. Work in a dtype it lacks
// runs at the rate of the dtype it is widened to (`WIDENED_TO`): Hopper has no INT4 tensor
// cores, so int4 compute on an H100 runs at the INT8 rate; an A100 has no FP8, so fp8 compute
// runs at the FP16 rate. Users add their own devices (a spec's settings or a JSON file, see
// `parseDeviceProfiles`).

import type { DType } from './report-types.js';

/** Peak dense FLOP/s (a multiply-add counted as 2) per dtype: fp32, bf16 and fp16 required. */
export type PeakTable = { readonly fp32: number; readonly bf16: number; readonly fp16: number } & { readonly [K in DType]?: number };

export interface DeviceProfile {
  readonly name: string;
  readonly description: string;
  readonly peakFlops: PeakTable;
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
  /** Other spellings `findDevice` accepts (`A100-80GB` for `A100`). */
  readonly aliases?: readonly string[];
}

const T = 1e12;
const GB = 1_000_000_000n;

/**
 * The dtype a device without native support for a dtype computes it in: the narrowest wider
 * type (int4 → int8, the 4-bit floats → fp8, fp8/int8 → the 16-bit tensor rate, tf32 → fp32).
 * fp32, bf16 and fp16 are in every table, so every chain ends.
 */
const WIDENED_TO: { readonly [K in DType]?: DType } = {
  int4: 'int8',
  mxfp4: 'fp8',
  nvfp4: 'fp8',
  fp8: 'fp16',
  int8: 'fp16',
  tf32: 'fp32',
};

/** The peak a device reaches for compute in `dtype` (its own, or the widened type's). */
export function peakFlopsFor(device: DeviceProfile, dtype: DType): { readonly flops: number; readonly dtype: DType } {
  let d: DType = dtype;
  for (;;) {
    const peak = device.peakFlops[d];
    if (peak !== undefined) return { flops: peak, dtype: d };
    const next = WIDENED_TO[d];
    if (next === undefined) return { flops: device.peakFlops.fp32, dtype: 'fp32' };
    d = next;
  }
}

export const DEVICES: readonly DeviceProfile[] = [
  {
    name: 'H100',
    description: 'NVIDIA H100 SXM5 80 GB (HBM3)',
    // Hopper's tensor cores have no INT4 mode (the datasheet lists none); int4 runs at INT8.
    peakFlops: { fp32: 66.9 * T, tf32: 494.7 * T, bf16: 989.4 * T, fp16: 989.4 * T, fp8: 1978.9 * T, int8: 1978.9 * T },
    bandwidth: 3.35e12,
    memoryBytes: 80n * GB,
    links: { intraNode: 450e9, interNode: 50e9, source: 'NVLink 4: 900 GB/s bidirectional per GPU; DGX H100: one 400 Gb/s ConnectX-7 port per GPU' },
    source: 'NVIDIA H100 Tensor Core GPU datasheet (SXM5; dense = half the sparsity figures)',
    aliases: ['H100-SXM', 'H100-80GB'],
  },
  {
    name: 'H200',
    description: 'NVIDIA H200 SXM 141 GB (HBM3e)',
    peakFlops: { fp32: 66.9 * T, tf32: 494.7 * T, bf16: 989.4 * T, fp16: 989.4 * T, fp8: 1978.9 * T, int8: 1978.9 * T },
    bandwidth: 4.8e12,
    memoryBytes: 141n * GB,
    links: { intraNode: 450e9, interNode: 50e9, source: 'NVLink 4: 900 GB/s bidirectional per GPU; one 400 Gb/s NDR port per GPU (DGX H200)' },
    source: 'NVIDIA H200 Tensor Core GPU datasheet (SXM; dense = half the sparsity figures)',
    aliases: ['H200-SXM'],
  },
  {
    name: 'H20',
    description: 'NVIDIA H20 96 GB (HBM3)',
    peakFlops: { fp32: 44 * T, tf32: 74 * T, bf16: 148 * T, fp16: 148 * T, fp8: 296 * T, int8: 296 * T },
    bandwidth: 4.0e12,
    memoryBytes: 96n * GB,
    links: { intraNode: 450e9, interNode: 50e9, source: 'NVLink 4: 900 GB/s bidirectional per GPU (H20 product brief); a 400 Gb/s port per GPU assumed' },
    source: 'NVIDIA H20 product brief (dense tensor-core figures; 96 GB HBM3 at 4.0 TB/s)',
  },
  {
    name: 'B200',
    description: 'NVIDIA B200 (one GPU of an HGX B200, 180 GB HBM3e)',
    // The HGX B200 datasheet gives eight-GPU totals with sparsity: FP4 144 PF, FP8 72 PF,
    // INT8 72 POPS, FP16/BF16 36 PF, TF32 18 PF, FP32 600 TF, 1,440 GB at 62 TB/s. Per GPU and
    // dense: ÷8, and ÷2 for the sparse tensor figures.
    peakFlops: { fp32: 75 * T, tf32: 1125 * T, bf16: 2250 * T, fp16: 2250 * T, fp8: 4500 * T, int8: 4500 * T, mxfp4: 9000 * T, nvfp4: 9000 * T },
    bandwidth: 7.75e12,
    memoryBytes: 180n * GB,
    links: { intraNode: 900e9, interNode: 50e9, source: 'NVLink 5: 1.8 TB/s bidirectional per GPU; DGX B200: one 400 Gb/s ConnectX-7 port per GPU' },
    source: 'NVIDIA HGX B200 datasheet (8-GPU totals ÷ 8; dense = half the sparsity figures)',
    aliases: ['B200-SXM', 'HGX-B200'],
  },
  {
    name: 'A100',
    description: 'NVIDIA A100 SXM4 80 GB (HBM2e)',
    // Ampere has no FP8 (fp8 runs at the FP16 rate) but does have INT4 tensor cores.
    peakFlops: { fp32: 19.5 * T, tf32: 156 * T, bf16: 312 * T, fp16: 312 * T, int8: 624 * T, int4: 1248 * T },
    bandwidth: 2.039e12,
    memoryBytes: 80n * GB,
    links: { intraNode: 300e9, interNode: 25e9, source: 'NVLink 3: 600 GB/s bidirectional per GPU; DGX A100: one 200 Gb/s HDR port per GPU' },
    source: 'NVIDIA A100 Tensor Core GPU datasheet (SXM4 80GB, dense)',
    aliases: ['A100-80GB', 'A100-SXM4-80GB'],
  },
  {
    name: 'A100-40GB',
    description: 'NVIDIA A100 SXM4 40 GB (HBM2)',
    peakFlops: { fp32: 19.5 * T, tf32: 156 * T, bf16: 312 * T, fp16: 312 * T, int8: 624 * T, int4: 1248 * T },
    bandwidth: 1.555e12,
    memoryBytes: 40n * GB,
    links: { intraNode: 300e9, interNode: 25e9, source: 'NVLink 3: 600 GB/s bidirectional per GPU; DGX A100: one 200 Gb/s HDR port per GPU' },
    source: 'NVIDIA A100 Tensor Core GPU datasheet (SXM4 40GB, dense)',
  },
  {
    name: 'L40S',
    description: 'NVIDIA L40S 48 GB (GDDR6)',
    peakFlops: { fp32: 91.6 * T, tf32: 183 * T, bf16: 362.05 * T, fp16: 362.05 * T, fp8: 733 * T, int8: 733 * T, int4: 733 * T },
    bandwidth: 864e9,
    memoryBytes: 48n * GB,
    links: { intraNode: 32e9, interNode: 12.5e9, source: 'no NVLink: PCIe Gen4 x16 (32 GB/s per direction); a 100 Gb/s NIC per GPU assumed' },
    source: 'NVIDIA L40S datasheet (dense = half the sparsity figures)',
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
    name: 'MI300X',
    description: 'AMD Instinct MI300X 192 GB (HBM3)',
    // No INT4 matrix mode: int4 runs at INT8. FP32 is the matrix-core rate.
    peakFlops: { fp32: 163.4 * T, tf32: 653.7 * T, bf16: 1307.4 * T, fp16: 1307.4 * T, fp8: 2614.9 * T, int8: 2614.9 * T },
    bandwidth: 5.3e12,
    memoryBytes: 192n * GB,
    links: { intraNode: 448e9, interNode: 50e9, source: 'Infinity Fabric: 896 GB/s aggregate bidirectional per GPU (MI300X data sheet); a 400 Gb/s port per GPU assumed' },
    source: 'AMD Instinct MI300X data sheet (dense matrix figures; 192 GB HBM3 at 5.3 TB/s)',
  },
  {
    name: 'M2Ultra',
    description: 'Apple M2 Ultra, 76-core GPU, 192 GB unified memory (LPDDR5)',
    // Apple publishes bandwidth and memory, not FLOP/s: 76 GPU cores × 128 FP32 ALUs × 2 FLOPs
    // × 1.398 GHz = 27.2 TFLOP/s; the GPU runs fp16 and bf16 at the fp32 rate.
    peakFlops: { fp32: 27.2 * T, bf16: 27.2 * T, fp16: 27.2 * T },
    bandwidth: 800e9,
    memoryBytes: 192n * GB,
    links: { intraNode: 5e9, interNode: 5e9, source: 'one machine per chip: Thunderbolt 4 (40 Gb/s) between machines' },
    source: 'Apple Mac Studio (2023) technical specifications (800 GB/s, up to 192 GB); FLOP/s derived: 76 cores × 128 ALUs × 2 × 1.398 GHz',
    aliases: ['M2-Ultra', 'Apple-M2-Ultra'],
  },
  {
    name: 'M4Max',
    description: 'Apple M4 Max, 40-core GPU, 128 GB unified memory (LPDDR5X)',
    // 40 GPU cores × 128 FP32 ALUs × 2 FLOPs × 1.578 GHz = 16.2 TFLOP/s; fp16/bf16 at the fp32 rate.
    peakFlops: { fp32: 16.2 * T, bf16: 16.2 * T, fp16: 16.2 * T },
    bandwidth: 546e9,
    memoryBytes: 128n * GB,
    links: { intraNode: 15e9, interNode: 15e9, source: 'one machine per chip: Thunderbolt 5 (120 Gb/s) between machines' },
    source: 'Apple MacBook Pro (M4 Max, 2024) technical specifications (546 GB/s, up to 128 GB); FLOP/s derived: 40 cores × 128 ALUs × 2 × 1.578 GHz',
    aliases: ['M4-Max', 'Apple-M4-Max'],
  },
  {
    name: 'CPU',
    description: 'A 16-core AVX-512 server CPU at 3.0 GHz with 4-channel DDR5-4800',
    // 16 cores × 3.0 GHz × 2 FMA units × 16 fp32 lanes × 2 FLOPs = 3.07 TFLOP/s fp32;
    // AVX512-BF16 dot products double that, VNNI int8 quadruples it.
    peakFlops: { fp32: 3.072 * T, tf32: 3.072 * T, bf16: 6.144 * T, fp16: 3.072 * T, fp8: 6.144 * T, int8: 12.288 * T },
    bandwidth: 153.6e9,
    memoryBytes: 128n * GB,
    links: { intraNode: 12.5e9, interNode: 12.5e9, source: 'one 100 Gb/s NIC between hosts' },
    source: 'derived: 16 cores × 3.0 GHz × 64 FP32 FLOPs/cycle; 4 × DDR5-4800 channels × 38.4 GB/s',
  },
];

export const DEVICE_NAMES: readonly string[] = DEVICES.map((d) => d.name);

const key = (name: string): string => name.toLowerCase().replace(/[\s_-]/g, '');

/** A device by name or alias (case, spaces, `-` and `_` ignored); `extra` (user devices) first. */
export function findDevice(name: string, extra: readonly DeviceProfile[] = []): DeviceProfile | undefined {
  const k = key(name);
  const matches = (d: DeviceProfile): boolean => key(d.name) === k || (d.aliases ?? []).some((a) => key(a) === k);
  return extra.find(matches) ?? DEVICES.find(matches);
}
