// `npas export-onnx --json`: the export's outcome as one typed JSON object (ExportOnnxJson,
// src/protocol/kernel-rpc.ts) for the extension, never a summary to scrape. Counts by hand:
// Embedding(100, 16) stores 1,600; RMSNorm(16) 16; Linear(16, 100) tied to the embedding adds
// nothing (no bias by default); Linear(16, 16, bias: true) 256 + 16 = 272 — 1,888 in all.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliJsonFailure, ExportOnnxJson, ExportOnnxRequest } from '../../src/protocol/kernel-rpc.js';
import { CapturedIo } from '../cli/captured-io.js';

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
    const io = new CapturedIo(() => SPEC);
    assert.equal(await mainAsync(['export-onnx', spec, '--model', 'M', '-o', out, '--json'], io), 0, io.err);
    const json = JSON.parse(io.out) as ExportOnnxJson;
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

// Every failure under --json is a CliJsonFailure on stdout (the extension reads its kind and
// message as fields; stderr keeps the `npas: export-onnx: …` line for people).
test('export-onnx --json answers every failure as a typed CliJsonFailure: usage, spec, unsupported', async () => {
  const { mainAsync } = await import('../../src/cli/main.js');
  const dir = mkdtempSync(join(tmpdir(), 'npas-export-json-'));
  try {
    const run = async (text: string, argv: readonly string[]): Promise<{ code: number; failure: CliJsonFailure; stderr: string }> => {
      const spec = join(dir, 'f.npas');
      writeFileSync(spec, text);
      const io = new CapturedIo(() => text);
      const code = await mainAsync(['export-onnx', spec, ...argv, '--json'], io);
      return { code, failure: JSON.parse(io.out) as CliJsonFailure, stderr: io.err };
    };
    const usage = await run(SPEC, ['--model', 'M']);
    assert.equal(usage.code, 2);
    assert.deepEqual(usage.failure, { error: { kind: 'spec', message: '-o OUT.onnx is required' } });
    assert.match(usage.stderr, /^npas: export-onnx: -o OUT\.onnx is required/);

    const unknown = await run(SPEC, ['--model', 'Nope', '-o', join(dir, 'x.onnx')]);
    assert.equal(unknown.code, 2);
    assert.deepEqual(unknown.failure, { error: { kind: 'spec', message: "no model or variant named 'Nope' (this file has: M)" } });

    const broken = await run('model M { l = Linear(16) }\n', ['-o', join(dir, 'x.onnx')]);
    assert.equal(broken.code, 2);
    assert.equal(broken.failure.error.kind, 'spec');
    assert.match(broken.failure.error.message, /^the spec has errors \(first: npas-/);

    // A smashed embedding is not exported (token smashing of the members after it is, as are
    // Hogwild! workers, this test's earlier examples).
    const smashed = await run(`${SPEC}variant P of M { smash embed, mix: tokens(2) }\n`, ['--model', 'P', '-o', join(dir, 'x.onnx')]);
    assert.equal(smashed.code, 2, smashed.stderr);
    assert.equal(smashed.failure.error.kind, 'export');
    assert.match(smashed.failure.error.message, /^'embed': a smashed member \(`smash`\) needs the token states before it/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('probe --json answers a usage failure as a CliJsonFailure before starting any host', async () => {
  const { runProbeCommand } = await import('../../src/cli/commands/probe.js');
  const io = new CapturedIo(() => SPEC);
  await assert.rejects(runProbeCommand(['m.npas', '--ep', 'tpu', '--model', 'M', '--json'], io), /--ep must be cuda or cpu/);
  assert.deepEqual(JSON.parse(io.out), { error: { kind: 'spec', message: "--ep must be cuda or cpu; got 'tpu'" } });
});

// What the extension's Export ONNX runs: the parameters as one typed ExportOnnxRequest in a file
// (`--request`), the answer as JSON without asking (a program wrote the request).
test('export-onnx --request FILE reads a typed ExportOnnxRequest and answers in JSON, failures included', async () => {
  const { mainAsync } = await import('../../src/cli/main.js');
  const dir = mkdtempSync(join(tmpdir(), 'npas-export-request-'));
  try {
    const spec = join(dir, 'm.npas');
    const out = join(dir, 'm.onnx');
    writeFileSync(spec, SPEC);
    const run = async (request: unknown): Promise<{ code: number; answer: unknown; stderr: string }> => {
      const file = join(dir, 'request.json');
      writeFileSync(file, JSON.stringify(request));
      const io = new CapturedIo((p: string) => (p === file ? JSON.stringify(request) : SPEC));
      const code = await mainAsync(['export-onnx', '--request', file], io);
      return { code, answer: JSON.parse(io.out), stderr: io.err };
    };
    const request: ExportOnnxRequest = { specPath: spec, model: 'M', out, dtype: 'fp16' };
    const written = await run(request);
    assert.equal(written.code, 0, written.stderr);
    const json = written.answer as ExportOnnxJson;
    // 1,888 stored, counted by hand in this file's header.
    assert.deepEqual([json.model, json.output, json.dtype, json.storedParams, json.initializerElements, json.matchesStored, json.bytes], ['M', out, 'fp16', '1888', '1888', true, statSync(out).size]);
    const wrong = await run({ ...request, dtype: 'bf16' });
    assert.equal(wrong.code, 2);
    assert.deepEqual(wrong.answer, { error: { kind: 'spec', message: `${join(dir, 'request.json')}: "dtype" must be fp16 or fp32; got 'bf16'` } });
    const unknown = await run({ ...request, output: out });
    assert.equal(unknown.code, 2);
    assert.match((unknown.answer as CliJsonFailure).error.message, /unknown field "output" \(fields: specPath, model, out, /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
