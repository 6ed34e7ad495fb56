// `npas probe|export-onnx --request FILE` (issue 11, item 5): the extension hands the CLI its
// parameters as one typed JSON object (ProbeRequest, ExportOnnxRequest in
// src/protocol/kernel-rpc.ts) instead of flags it would parse back. The flags and a request are
// read by one reader per command, so both give the same typed request; a request names each
// wrong field as written and refuses a field the schema does not have. (Running an export and a
// probe from a request file: test/kernels/export-json.test.ts and test/kernels/probe.test.ts.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommand } from '../../src/cli/args.js';
import { CliError, type CliIO } from '../../src/cli/io.js';
import { commandRequest, requestFieldNames } from '../../src/cli/request-fields.js';
import { PROBE_COMMAND, probeRequest } from '../../src/cli/commands/probe.js';
import { EXPORT_ONNX_COMMAND, exportOnnxRequest } from '../../src/cli/commands/export-onnx.js';
import type { CommandSpec } from '../../src/cli/args.js';

/** The request a command reads from `argv`, a request file's text served at `req.json`. */
function read<T>(spec: CommandSpec, reader: (s: ReturnType<typeof commandRequest>) => T, argv: readonly string[], file?: unknown): T {
  const io: CliIO = { stdout: () => {}, stderr: () => {}, readFile: () => JSON.stringify(file), writeFile: () => {} };
  return reader(commandRequest(spec, parseCommand(argv, spec), io));
}
const refusal = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof CliError) return e.message;
    throw e;
  }
  throw new Error('not refused');
};

test('a probe request file and the same flags read to the same ProbeRequest', () => {
  const flags = read(PROBE_COMMAND, probeRequest, ['m.npas', '--model', 'M', '--ep', 'cpu', '--seq', '8Ki', '--src-seq', '64', '--warmup', '0', '--threads', '2', '--device', 'h100', '--fallback', '--profile', '--timeout', '90', '--provider-path', '/opt/ep', '--json']);
  const file = read(PROBE_COMMAND, probeRequest, ['--request', 'req.json'], {
    specPath: 'm.npas',
    model: 'M',
    ep: 'cpu',
    seq: 8192,
    srcSeq: 64,
    warmup: 0,
    threads: 2,
    device: 'h100',
    allowCpuFallback: true,
    profile: true,
    timeoutSeconds: 90,
    providerPath: '/opt/ep',
  });
  assert.deepEqual(file, flags);
  // 8Ki = 8 × 1024; the device as the engine names it; the CPU's default dtype; the defaults written out.
  assert.deepEqual(flags, {
    specPath: 'm.npas',
    model: 'M',
    ep: 'cpu',
    dtype: 'fp32',
    ops: 'fused',
    generation: 'materialised',
    batch: 1,
    seq: 8192,
    srcSeq: 64,
    runs: 10,
    warmup: 0,
    threads: 2,
    device: 'H100',
    providerPath: '/opt/ep',
    profile: true,
    allowCpuFallback: true,
    ignoreMemory: false,
    timeoutSeconds: 90,
  });
  // The schema's fields are the flags' (each through its spec), and the spec's path.
  assert.deepEqual(requestFieldNames(PROBE_COMMAND).sort(), ['allowCpuFallback', 'batch', 'continuations', 'device', 'dtype', 'ep', 'generation', 'ignoreMemory', 'model', 'ops', 'profile', 'providerPath', 'runs', 'seq', 'sharedPrefix', 'specPath', 'srcSeq', 'threads', 'timeoutSeconds', 'warmup']);
});

test('a shared prompt reads the same from the probe flags and a request file; k defaults to 2', () => {
  const flags = read(PROBE_COMMAND, probeRequest, ['m.npas', '--model', 'M', '--ep', 'cpu', '--seq', '2Ki', '--shared-prefix', '1Ki', '--continuations', '4']);
  const file = read(PROBE_COMMAND, probeRequest, ['--request', 'req.json'], { specPath: 'm.npas', model: 'M', ep: 'cpu', seq: 2048, sharedPrefix: '1Ki', continuations: 4 });
  assert.deepEqual(file, flags);
  assert.deepEqual([flags.sharedPrefix, flags.continuations], [1024, 4]);
  const pair = read(PROBE_COMMAND, probeRequest, ['m.npas', '--model', 'M', '--ep', 'cpu', '--seq', '64', '--shared-prefix', '16']);
  assert.deepEqual([pair.sharedPrefix, pair.continuations], [16, 2]);
  assert.equal(read(PROBE_COMMAND, probeRequest, ['m.npas', '--model', 'M', '--ep', 'cpu']).sharedPrefix, undefined);
});

test('an export request file and the same flags read to the same ExportOnnxRequest', () => {
  const flags = read(EXPORT_ONNX_COMMAND, exportOnnxRequest, ['m.npas', '--model', 'M', '-o', 'm.onnx', '--dtype', 'fp16', '--decode-past', '1Ki', '--batch', '2', '--external-threshold', '0']);
  const file = read(EXPORT_ONNX_COMMAND, exportOnnxRequest, ['--request', 'req.json'], { specPath: 'm.npas', model: 'M', out: 'm.onnx', dtype: 'fp16', decodePast: 1024, batch: 2, externalThresholdBytes: 0 });
  assert.deepEqual(file, flags);
  assert.deepEqual(flags, { specPath: 'm.npas', model: 'M', out: 'm.onnx', dtype: 'fp16', ops: 'fused', generation: 'materialised', decodePast: 1024, batch: 2, externalThresholdBytes: 0, withWeights: false, ignoreMemory: false });
});

test('a request names each wrong field as written; the flags keep their own words', () => {
  const probe = (file: unknown): string => refusal(() => read(PROBE_COMMAND, probeRequest, ['--request', 'req.json'], file));
  assert.equal(probe({ specPath: 'm.npas', model: 'M', ep: 'gpu' }), `req.json: "ep" must be cuda or cpu; got 'gpu'`);
  assert.equal(probe({ specPath: 'm.npas', model: 'M', seq: 0 }), 'req.json: "seq" must be an integer from 1 to 1,073,741,824 (2^30 = 1Gi), e.g. 4096 or 8Ki; got 0');
  assert.equal(probe({ specPath: 'm.npas', model: 'M', seq: 1.5 }), 'req.json: "seq" must be an integer from 1 to 1,073,741,824 (2^30 = 1Gi), e.g. 4096 or 8Ki; got 1.5');
  assert.equal(probe({ specPath: 'm.npas', model: 'M', profile: 'yes' }), `req.json: "profile" must be true or false; got 'yes'`);
  assert.match(probe({ specPath: 'm.npas', model: 'M', device: 'TPUv9' }), /^req\.json: "device" must be one of H100, .*; got 'TPUv9'$/);
  // A misspelt field is refused, not ignored; so is anything but one object.
  assert.match(probe({ specPath: 'm.npas', model: 'M', sequence: 8 }), /^req\.json: unknown field "sequence" \(fields: specPath, model, ep, /);
  assert.equal(probe([1]), 'req.json: a request is one JSON object');
  // Flags as before: the flag's name in the refusal.
  assert.equal(refusal(() => read(PROBE_COMMAND, probeRequest, ['m.npas', '--model', 'M', '--ep', 'gpu'])), `--ep must be cuda or cpu; got 'gpu'`);
  assert.match(refusal(() => read(PROBE_COMMAND, probeRequest, ['m.npas', '--ep', 'cpu'])), /^probe: --model NAME is required\nusage: npas probe FILE --model NAME /);
  assert.equal(
    refusal(() => read(EXPORT_ONNX_COMMAND, exportOnnxRequest, ['m.npas', '-o', 'm.onnx', '--batch', '2'])),
    'export-onnx: --batch applies to a decode graph (--decode-past S); a prefill graph takes any batch',
  );
  // A request holds every parameter: no operand or field-setting flag beside it (--json may be).
  assert.match(refusal(() => read(PROBE_COMMAND, probeRequest, ['m.npas', '--request', 'req.json'], {})), /^probe: --request FILE holds every parameter; give no FILE operand or flag beside it/);
  assert.match(refusal(() => read(PROBE_COMMAND, probeRequest, ['--request', 'req.json', '--seq', '8', '--json'], {})), /give no FILE operand or --seq beside it/);
});
