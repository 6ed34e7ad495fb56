// `npas export-onnx --json`: the export's outcome as one typed JSON object (ExportOnnxJson,
// src/protocol/kernel-rpc.ts) for the extension, never a summary to scrape. Counts by hand:
// Embedding(100, 16) stores 1,600; RMSNorm(16) 16; Linear(16, 100) tied to the embedding adds
// nothing (no bias by default); Linear(16, 16, bias: true) 256 + 16 = 272 — 1,888 in all.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExportOnnxJson } from '../../src/protocol/kernel-rpc.js';

const SPEC = `model M {
  embed = Embedding(100, 16)
  mix = Linear(16, 16, bias: true)
  norm = RMSNorm(16)
  head = Linear(16, 100) tied embed
}
`;

test('export-onnx --json answers typed fields: initializers hold exactly params.stored', async () => {
  const { mainAsync } = await import('../../src/cli/main.js');
  const dir = mkdtempSync(join(tmpdir(), 'npas-export-json-'));
  try {
    const spec = join(dir, 'm.npas');
    const out = join(dir, 'm.onnx');
    writeFileSync(spec, SPEC);
    let stdout = '';
    let stderr = '';
    const io = { stdout: (t: string) => void (stdout += t), stderr: (t: string) => void (stderr += t), readFile: () => SPEC, writeFile: () => {} };
    assert.equal(await mainAsync(['export-onnx', spec, '--model', 'M', '-o', out, '--json'], io), 0, stderr);
    const json = JSON.parse(stdout) as ExportOnnxJson;
    assert.equal(json.model, 'M');
    assert.equal(json.output, out);
    assert.equal(json.storedParams, '1888');
    assert.equal(json.initializerElements, '1888');
    assert.equal(json.skippedParams, '0');
    assert.equal(json.matchesStored, true);
    assert.equal(json.dtype, 'fp32');
    assert.equal(json.externalData, null);
    assert.equal(json.bytes, statSync(out).size);
    assert.ok(json.initializers >= 4 && json.nodes > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
