// `npas export-onnx FILE --model NAME -o OUT.onnx [--dtype fp16|fp32]`, or
// `npas export-onnx --request REQUEST.json` (every parameter as one typed ExportOnnxRequest,
// answered in JSON: what the extension writes; src/protocol/kernel-rpc.ts): the model as an ONNX
// graph with deterministic synthetic weights, one initializer per stored tensor (so the file's
// initializer elements equal params.stored). Weights past the protobuf limit go to
// OUT.onnx.data (ONNX external data). Exit 2 on spec errors or unsupported layers and schemes.

import { ExportError, exportModel, writeOnnx } from '../../../kernels/export.js';
import { writeFileSync } from 'node:fs';
import { graphJson } from '../../../kernels/graph-json.js';
import { availableMemory, exportMemoryEstimate, exportMemoryRefusal } from '../../../kernels/probe-memory.js';
import { parseCommand, usageOf, type CommandSpec } from '../args.js';
import { formatBytes, groupDigits } from '../format.js';
import { CliError, type CliIO } from '../io.js';
import { withJsonFailures } from '../json-failure.js';
import { commandRequest, RequestFields, type RequestSource } from '../request-fields.js';
import { readSpecProgram } from '../spec-program.js';
import type { CliFailureKind, ExportOnnxJson, ExportOnnxRequest } from '../../protocol/kernel-rpc.js';

export const EXPORT_ONNX_COMMAND: CommandSpec = {
  name: 'export-onnx',
  operands: 'FILE',
  flags: [
    { name: 'model', takesValue: true, value: 'NAME', required: true },
    { name: 'out', alias: 'o', takesValue: true, value: 'OUT.onnx', required: true },
    { name: 'dtype', takesValue: true, value: 'fp16|fp32' },
    { name: 'ops', takesValue: true, value: 'fused|standard' },
    { name: 'generation', takesValue: true, value: 'materialised|live' },
    { name: 'decode-past', takesValue: true, value: 'S' },
    { name: 'batch', takesValue: true, value: 'B' },
    { name: 'micro-step', takesValue: false },
    { name: 'shared-prefix', takesValue: true, value: 'P' },
    { name: 'continuations', takesValue: true, value: 'K' },
    { name: 'graph-json', takesValue: true, value: 'OUT.json' },
    { name: 'with-weights', takesValue: false },
    { name: 'external-threshold', takesValue: true, value: 'BYTES', field: 'externalThresholdBytes' },
    { name: 'ignore-memory', takesValue: false },
    { name: 'json', takesValue: false, field: null },
    { name: 'request', takesValue: true, value: 'REQUEST.json', field: null },
  ],
};

const USAGE = usageOf(EXPORT_ONNX_COMMAND);

export function runExportOnnx(argv: readonly string[], io: CliIO): number {
  return withJsonFailures(argv, io, () => exportOnnx(argv, io));
}

/** A failure of the export itself, its detail free of the command's name (the `--json` answer). */
const exportFailure = (detail: string, exitCode = 2, kind?: CliFailureKind): CliError => new CliError(`export-onnx: ${detail}`, exitCode, detail, kind);

/**
 * The export's typed request, from `--request FILE` or from FILE and the flags: one reading of
 * both (request-fields.ts), so a request and the flags accept the same values.
 */
export function exportOnnxRequest(source: RequestSource): ExportOnnxRequest {
  const f = new RequestFields(source);
  const out = f.text('out');
  const graphFile = f.text('graphJson');
  if (out === undefined && graphFile === undefined) throw new CliError(`export-onnx: -o OUT.onnx is required\n${USAGE}`, 2, '-o OUT.onnx is required');
  const decodePast = f.size('decodePast');
  const batch = f.size('batch');
  if (decodePast === undefined && batch !== undefined) throw exportFailure(`${source.spelling('batch')} applies to a decode graph (${source.spelling('decodePast')} S); a prefill graph takes any batch`);
  const microStep = f.flag('microStep');
  if (decodePast === undefined && microStep) throw exportFailure(`${source.spelling('microStep')} applies to a decode graph (${source.spelling('decodePast')} S): the token smashing step after a macro step`);
  const sharedPrefix = f.size('sharedPrefix');
  const continuations = f.size('continuations');
  if (sharedPrefix === undefined && continuations !== undefined) throw exportFailure(`${source.spelling('continuations')} applies to a shared prompt (${source.spelling('sharedPrefix')} P)`);
  // A shared prompt's decode step runs at context S = P + C: each continuation needs a token of its own.
  if (sharedPrefix !== undefined && decodePast !== undefined && sharedPrefix >= decodePast) throw exportFailure(`${source.spelling('sharedPrefix')} ${sharedPrefix} must be below ${source.spelling('decodePast')} ${decodePast}: a decode step at context S runs each continuation after the prompt and S − P tokens of its own`);
  const model = f.text('model');
  const threshold = f.bytes('externalThresholdBytes');
  return {
    specPath: f.text('specPath') ?? '',
    ...(model !== undefined ? { model } : {}),
    ...(out !== undefined ? { out } : {}),
    ...(graphFile !== undefined ? { graphJson: graphFile } : {}),
    dtype: f.choice('dtype', ['fp16', 'fp32'] as const) ?? 'fp32',
    ops: f.choice('ops', ['fused', 'standard'] as const) ?? 'fused',
    generation: f.choice('generation', ['materialised', 'live'] as const) ?? 'materialised',
    ...(decodePast !== undefined ? { decodePast, batch: batch ?? 1 } : {}),
    ...(microStep ? { microStep } : {}),
    ...(sharedPrefix !== undefined ? { sharedPrefix, continuations: continuations ?? 2 } : {}),
    ...(threshold !== undefined ? { externalThresholdBytes: threshold } : {}),
    withWeights: f.flag('withWeights'),
    ignoreMemory: f.flag('ignoreMemory'),
  };
}

function exportOnnx(argv: readonly string[], io: CliIO): number {
  const parsed = parseCommand(argv, EXPORT_ONNX_COMMAND);
  const request = exportOnnxRequest(commandRequest(EXPORT_ONNX_COMMAND, parsed, io));
  // A request file always answers in JSON: its writer is a program.
  const json = parsed.flags.has('json') || parsed.flags.has('request');
  const { model, out, graphJson: jsonPath, dtype = 'fp32', ops = 'fused', generation = 'materialised', externalThresholdBytes: threshold } = request;
  const decode = request.decodePast !== undefined ? { past: request.decodePast, batch: request.batch ?? 1, ...(request.microStep ? { micro: true } : {}) } : undefined;
  const share = request.sharedPrefix !== undefined ? { tokens: request.sharedPrefix, continuations: request.continuations ?? 2 } : undefined;
  const { compilation } = readSpecProgram(request.specPath, io);
  // A graph description without weights need not draw them (a 7B model's take seconds).
  const graphOnly = out === undefined && !request.withWeights;
  if (!graphOnly && !request.ignoreMemory) {
    const models = compilation.analysis({ dtype, ...(decode ? { seq: decode.past, batch: decode.batch } : {}) }).models;
    const report = model !== undefined ? models.find((m) => m.name === model) : models.length === 1 ? models[0] : undefined;
    const refusal = report && exportMemoryRefusal(report.name, dtype, exportMemoryEstimate(report, decode !== undefined), availableMemory());
    if (refusal) throw exportFailure(refusal, 5);
  }
  let result;
  try {
    result = exportModel(compilation, model, { dtype, decode, ops, generation, ...(share ? { analysis: { sharedPrefix: share, ...(decode ? { seq: decode.past, batch: decode.batch } : {}) } } : {}), ...(graphOnly ? { fill: () => new Uint8Array(0) } : {}) });
  } catch (e) {
    if (e instanceof ExportError) throw exportFailure(e.message, 2, e.reason === 'spec' ? 'spec' : 'export');
    throw e;
  }
  let written = { bytes: 0, externalPath: undefined as string | undefined, externalBytes: 0 };
  if (out !== undefined) {
    try {
      written = writeOnnx(result, out, threshold !== undefined ? { externalThresholdBytes: threshold } : {});
    } catch (e) {
      throw exportFailure(`cannot write ${out}: ${(e as Error).message}`, 2, 'export');
    }
  }
  if (jsonPath !== undefined) {
    try {
      writeFileSync(jsonPath, JSON.stringify(graphJson(result, request.withWeights === true)));
    } catch (e) {
      throw exportFailure(`cannot write ${jsonPath}: ${(e as Error).message}`, 2, 'export');
    }
  }
  // An encoder-decoder's decode step does not read the encoder's stores nor the cross K/V projections (skippedParams).
  const match = result.initializerElements + result.skippedParams === result.storedParams;
  const skipped = result.skippedParams > 0n ? ` + ${groupDigits(result.skippedParams)} not read by a decode step (the encoder, cross-attention K/V projections)` : '';
  const inputs = result.inputs.map((i) => `${i.name} int64 [${decode ? `${decode.batch}, ${i.decodeTokens ?? 1}` : share ? `batch, ${share.tokens} + ${share.continuations}·C` : `batch, ${i.length}`}]`).join(', ');
  if (json) {
    const answer: ExportOnnxJson = {
      model: result.modelName,
      output: out ?? null,
      bytes: written.bytes,
      externalData: written.externalPath ?? null,
      externalBytes: written.externalBytes,
      dtype,
      ops,
      generation,
      initializers: result.initializers,
      initializerElements: String(result.initializerElements),
      storedParams: String(result.storedParams),
      skippedParams: String(result.skippedParams),
      matchesStored: match,
      nodes: result.nodes,
      generatedTensors: result.generation.tensors,
    };
    io.stdout(`${JSON.stringify(answer)}\n`);
  } else io.stdout(
    `${result.modelName} → ${out ?? `${String(jsonPath)} (graph only)`} (${formatBytes(BigInt(written.bytes))}${written.externalPath ? ` + external data ${written.externalPath}, ${formatBytes(BigInt(written.externalBytes))}` : ''})\n` +
      `  ${groupDigits(result.initializers)} initializers, ${groupDigits(result.initializerElements)} elements${skipped} ${match ? '= params.stored' : `≠ params.stored ${groupDigits(result.storedParams)}`}; ${groupDigits(result.nodes)} nodes; ${dtype}; ${ops} ops\n` +
      (result.generation.tensors > 0
        ? `  generated: ${groupDigits(result.generation.tensors)} tensors built in the graph from the stored ones (${groupDigits(result.generation.macs)} multiply-adds); ${generation === 'live' ? 'live: rebuilt on every run' : 'materialised: ONNX Runtime folds them once at session creation'}\n`
        : '') +
      (decode ? `  decode step: KV cache of ${share ? `context ${decode.past} (the prompt's positions once, each continuation's own)` : `${decode.past} positions`} × batch ${decode.batch} in initializers (${groupDigits(result.kvCacheElements)} elements)\n` : '') +
      (decode && result.stateInputs.length > 0 ? `  recurrent state: ${result.stateInputs.length} inputs state.<layer>.<part> (${groupDigits(result.recurrentStateElements)} elements), updated as outputs next_state.<layer>.<part>\n` : '') +
      (share && !decode ? `  shared prompt: ${share.tokens} tokens then ${share.continuations} continuations of C tokens per row; positions restart at ${share.tokens} per continuation, each attends to the prompt and itself only\n` : '') +
      (share && decode ? `  shared prompt: the ${share.continuations} continuations of each sequence decode a token each at position ${decode.past}, over the prompt's cache (${share.tokens} positions, held once per sequence) and their own (${decode.past - share.tokens} each)\n` : '') +
      `  input${result.inputs.length > 1 ? 's' : ''}: ${inputs}; output: last_token float32 [batch, ${share ? `${share.continuations}, ` : ''}${result.outputWidth}]\n`,
  );
  if (!match) {
    io.stderr(`npas: export-onnx: the initializers hold ${result.initializerElements} elements${skipped} but the engine counts ${result.storedParams} stored parameters (please report)\n`);
    return 70;
  }
  return 0;
}
