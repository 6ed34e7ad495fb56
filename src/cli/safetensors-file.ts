// Streams a `.safetensors` checkpoint from disk into the core's pure reader: the 8-byte length,
// the header, then only the tensors the allocator needs, in 1 MiB chunks, so a checkpoint of
// any size is never loaded whole. Every defect becomes a CliError naming the file.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { checkDtype, checkpointNames, parseHeader, readHeaderLength, TensorSketch, type AllocationItem, type TensorEntry } from '../core/index.js';
import { CliError } from './io.js';

const CHUNK = 1 << 20;

/** One similarity sketch per item path, read from the checkpoint at `path`. */
export function readCheckpointSketches(path: string, items: readonly AllocationItem[]): Map<string, Float64Array> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new CliError(`${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : 'cannot be read'}`);
  }
  try {
    // Opening a directory succeeds on Linux; reading it would fail later with EISDIR.
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new CliError(`${path}: is a directory (checkpoint: needs a .safetensors file)`);
    const size = stat.size;
    const first = readExactly(fd, 0, Math.min(8, size));
    const length = readHeaderLength(first, size);
    if (!length.ok) throw new CliError(`${path}: ${length.message}`);
    const dataStart = 8 + length.value;
    const header = parseHeader(readExactly(fd, 8, length.value), size - dataStart);
    if (!header.ok) throw new CliError(`${path}: ${header.message}`);
    const byName = new Map<string, TensorEntry>(header.value.map((t) => [t.name, t]));
    const sketches = new Map<string, Float64Array>();
    for (const item of items) {
      const names = checkpointNames(item);
      const tensor = names.map((n) => byName.get(n)).find((t) => t !== undefined);
      if (!tensor) throw new CliError(`${path}: no tensor for '${item.path}' (looked for ${names.map((n) => `'${n}'`).join(' or ')})`);
      const bad = checkDtype(tensor);
      if (bad) throw new CliError(`${path}: ${bad}`);
      const numel = tensor.shape.reduce((p, d) => p * d, 1);
      if (numel !== item.numel * item.copies) {
        throw new CliError(`${path}: tensor '${tensor.name}' is ${tensor.shape.join('×')} but '${item.path}' has ${item.copies > 1 ? `${item.copies}×` : ''}${item.shape.join('×')}`);
      }
      const sketch = new TensorSketch(tensor.dtype);
      for (let at = tensor.begin; at < tensor.end; at += CHUNK) sketch.push(readExactly(fd, dataStart + at, Math.min(CHUNK, tensor.end - at)));
      const done = sketch.finish();
      if (!done) throw new CliError(`${path}: tensor '${tensor.name}' has a partial element`);
      sketches.set(item.path, done);
    }
    return sketches;
  } finally {
    closeSync(fd);
  }
}

function readExactly(fd: number, position: number, length: number): Uint8Array {
  const buf = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    let n: number;
    try {
      n = readSync(fd, buf, got, length - got, position + got);
    } catch (e) {
      throw new CliError(`cannot read the safetensors file: ${(e as { code?: string }).code ?? 'read error'}`);
    }
    if (n === 0) throw new CliError(`truncated safetensors file: expected ${length} bytes at offset ${position}`);
    got += n;
  }
  return buf;
}
