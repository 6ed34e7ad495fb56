// User-defined devices: a JSON file (`--devices FILE` of npas budget, report and diff; the
// extension reads one too, `npas.analysis.devicesFile`) lists accelerators the builtin table lacks, in the builtin
// table's own units, e.g.
//   { "devices": [ { "name": "MyChip", "description": "…", "source": "vendor datasheet, p. 3",
//       "peakFlops": { "fp32": 60e12, "bf16": 900e12, "fp16": 900e12, "fp8": 1.8e15 },
//       "bandwidth": 4e12, "memoryBytes": 96e9,
//       "links": { "intraNode": 450e9, "interNode": 50e9, "source": "…" } } ] }
// (`links`, optional, is what plans' collectives reach per GPU and direction; without it a PCIe
// Gen4 x16 card is assumed and said so.)
// Pure: the caller reads the file; problems are returned as messages, never thrown.

import { DTYPE_NAMES, isDType } from './dtypes.js';
import type { DeviceProfile, PeakTable } from './devices.js';
import type { DType } from './report-types.js';

export interface ParsedDevices {
  readonly devices: readonly DeviceProfile[];
  /** One message per rejected entry or field, naming it. */
  readonly problems: readonly string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const positive = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;

/** Without `links`, a card in a PCIe slot: Gen4 x16, 32 GB/s per direction, stated as assumed. */
const PCIE_LINKS = { intraNode: 32e9, interNode: 32e9, source: 'not given: PCIe Gen4 x16 (32 GB/s per direction) assumed' };

/** The optional `links` object (plans' collectives): intraNode and interNode bytes/s, one direction. */
function readLinks(v: unknown, label: string, problems: string[]): DeviceProfile['links'] | undefined {
  if (v === undefined) return PCIE_LINKS;
  if (!isObject(v) || !positive(v.intraNode) || !positive(v.interNode)) {
    problems.push(`${label}: "links" must be { "intraNode": bytes/s, "interNode": bytes/s, "source": "…" }, one direction per GPU`);
    return undefined;
  }
  return { intraNode: v.intraNode, interNode: v.interNode, source: typeof v.source === 'string' ? v.source : 'given in the devices file' };
}

/** Reads `{ "devices": [...] }` or a bare array of device entries. */
export function parseDeviceProfiles(json: unknown): ParsedDevices {
  const list = Array.isArray(json) ? json : isObject(json) ? json.devices : undefined;
  if (!Array.isArray(list)) return { devices: [], problems: ['a devices file must be a JSON array of devices or an object with a "devices" array'] };
  const devices: DeviceProfile[] = [];
  const problems: string[] = [];
  list.forEach((entry, i) => {
    const where = `device ${i + 1}`;
    if (!isObject(entry)) {
      problems.push(`${where}: not an object`);
      return;
    }
    const name = entry.name;
    if (typeof name !== 'string' || !/^[A-Za-z][A-Za-z0-9_-]*$/.test(name)) {
      problems.push(`${where}: "name" must be a name of letters, digits, '-' and '_' starting with a letter`);
      return;
    }
    const label = `device '${name}'`;
    if (!isObject(entry.peakFlops)) {
      problems.push(`${label}: "peakFlops" must be an object of FLOP/s per dtype (fp32, bf16 and fp16 required)`);
      return;
    }
    const peaks: Partial<Record<DType, number>> = {};
    let bad = false;
    for (const [k, v] of Object.entries(entry.peakFlops)) {
      if (!isDType(k)) {
        problems.push(`${label}: unknown dtype '${k}' in "peakFlops" (use ${DTYPE_NAMES.join(', ')})`);
        bad = true;
      } else if (!positive(v)) {
        problems.push(`${label}: "peakFlops.${k}" must be a positive number of FLOP/s`);
        bad = true;
      } else peaks[k] = v;
    }
    for (const required of ['fp32', 'bf16', 'fp16'] as const) {
      if (peaks[required] === undefined && !bad) {
        problems.push(`${label}: "peakFlops.${required}" is required (a device without native ${required} still runs it: give the rate it runs at)`);
        bad = true;
      }
    }
    if (!positive(entry.bandwidth)) {
      problems.push(`${label}: "bandwidth" must be a positive number of bytes per second`);
      bad = true;
    }
    if (!positive(entry.memoryBytes) || !Number.isSafeInteger(entry.memoryBytes)) {
      problems.push(`${label}: "memoryBytes" must be a positive whole number of bytes`);
      bad = true;
    }
    if (typeof entry.source !== 'string' || entry.source.trim() === '') {
      problems.push(`${label}: "source" must say where the numbers come from (a datasheet, a measurement)`);
      bad = true;
    }
    const links = readLinks(entry.links, label, problems);
    if (bad || !links) return;
    devices.push({
      name,
      description: typeof entry.description === 'string' ? entry.description : name,
      peakFlops: peaks as PeakTable,
      bandwidth: entry.bandwidth as number,
      memoryBytes: BigInt(entry.memoryBytes as number),
      links,
      source: entry.source as string,
    });
  });
  return { devices, problems };
}
