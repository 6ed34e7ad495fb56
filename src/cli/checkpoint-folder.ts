// Reads what `npas import-hf FOLDER` checks a spec against: the model folder's config.json, and
// the tensors of its checkpoint from the safetensors headers alone (model.safetensors, or the
// shards model.safetensors.index.json names, with its total_size). Tensor data is never read.

import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseHeader, readHeaderLength, type CheckpointTensor } from '../core/index.js';
import { CliError, type CliIO } from './io.js';
import { readSpec } from './commands/read-spec.js';

export interface ModelFolder {
  readonly configText: string;
  /** Undefined when the folder has no safetensors checkpoint. */
  readonly checkpoint: { readonly files: readonly string[]; readonly tensors: readonly CheckpointTensor[]; readonly indexTotalSize: bigint | undefined } | undefined;
}

export function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The tensors of one safetensors file, from its header. */
function readTensors(path: string): CheckpointTensor[] {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    throw new CliError(`${path}: no such file (named by model.safetensors.index.json)`);
  }
  try {
    const size = fstatSync(fd).size;
    const first = readBytes(fd, 0, Math.min(8, size));
    const length = readHeaderLength(first, size);
    if (!length.ok) throw new CliError(`${path}: ${length.message}`);
    const header = parseHeader(readBytes(fd, 8, length.value), size - 8 - length.value);
    if (!header.ok) throw new CliError(`${path}: ${header.message}`);
    return header.value.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, bytes: t.end - t.begin }));
  } finally {
    closeSync(fd);
  }
}

function readBytes(fd: number, at: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, out, done, length - done, at + done);
    if (n === 0) break;
    done += n;
  }
  return out.subarray(0, done);
}

/** The index's shard files (in first-seen order) and total_size; refusals name the key. */
function readIndex(dir: string, io: CliIO): { files: string[]; totalSize: bigint | undefined } {
  const path = join(dir, 'model.safetensors.index.json');
  let index: unknown;
  try {
    index = JSON.parse(readSpec(path, io));
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`${path}: not valid JSON`);
  }
  const map = (index as { weight_map?: unknown }).weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new CliError(`${path}: weight_map must be an object of tensor names to shard files`);
  const files: string[] = [];
  for (const [name, file] of Object.entries(map as Record<string, unknown>)) {
    // Shards live beside the index: a name with a path separator could read elsewhere.
    if (typeof file !== 'string' || file === '' || /[\\/]/.test(file) || file === '..' || file === '.') throw new CliError(`${path}: weight_map['${name}'] must be a file name in the folder`);
    if (!files.includes(file)) files.push(file);
  }
  const total = (index as { metadata?: { total_size?: unknown } }).metadata?.total_size;
  const totalSize = typeof total === 'number' && Number.isSafeInteger(total) && total >= 0 ? BigInt(total) : undefined;
  return { files, totalSize };
}

export function readModelFolder(dir: string, io: CliIO): ModelFolder {
  const configText = readSpec(join(dir, 'config.json'), io);
  if (existsSync(join(dir, 'model.safetensors.index.json'))) {
    const { files, totalSize } = readIndex(dir, io);
    const tensors = files.flatMap((f) => readTensors(join(dir, f)));
    return { configText, checkpoint: { files, tensors, indexTotalSize: totalSize } };
  }
  if (existsSync(join(dir, 'model.safetensors'))) {
    return { configText, checkpoint: { files: ['model.safetensors'], tensors: readTensors(join(dir, 'model.safetensors')), indexTotalSize: undefined } };
  }
  return { configText, checkpoint: undefined };
}
