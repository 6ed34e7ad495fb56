// `npas export-onnx FILE --model NAME -o OUT.onnx [--dtype fp16|fp32]`: the model as an ONNX
// graph with deterministic synthetic weights, one initializer per stored tensor (so the file's
// initializer elements equal params.stored). Weights past the protobuf limit go to
// OUT.onnx.data (ONNX external data). Exit 2 on spec errors or unsupported layers and schemes.

import { ExportError, exportModel, writeOnnx } from '../../../kernels/export.js';
import { writeFileSync } from 'node:fs';
import { graphJson } from '../../../kernels/graph-json.js';
import { availableMemory, exportMemoryEstimate, exportMemoryRefusal } from '../../../kernels/probe-memory.js';
import { parseCommand, positiveIntFlag, usageOf, type CommandSpec } from '../args.js';
import { formatBytes, groupDigits } from '../format.js';
import { CliError, type CliIO } from '../io.js';
import { withJsonFailures } from '../json-failure.js';
import { readSpecProgram } from '../spec-program.js';
import type { CliFailureKind, ExportOnnxJson } from '../../protocol/kernel-rpc.js';

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
    { name: 'graph-json', takesValue: true, value: 'OUT.json' },
    { name: 'with-weights', takesValue: false },
    { name: 'external-threshold', takesValue: true, value: 'BYTES' },
    { name: 'ignore-memory', takesValue: false },
    { name: 'json', takesValue: false },
  ],
};

const USAGE = usageOf(EXPORT_ONNX_COMMAND);

export function runExportOnnx(argv: readonly string[], io: CliIO): number {
  return withJsonFailures(argv, io, () => exportOnnx(argv, io));
}

/** A failure of the export itself, its detail free of the command's name (the `--json` answer). */
const exportFailure = (detail: string, exitCode = 2, kind?: CliFailureKind): CliError => new CliError(`export-onnx: ${detail}`, exitCode, detail, kind);

function exportOnnx(argv: readonly string[], io: CliIO): number {
  const { positionals, flags } = parseCommand(argv, EXPORT_ONNX_COMMAND);
  if (positionals.length !== 1) throw new CliError(USAGE);
  const out = flags.get('out');
  const jsonPath = flags.get('graph-json');
  if (typeof out !== 'string' && typeof jsonPath !== 'string') throw new CliError(`export-onnx: -o OUT.onnx is required\n${USAGE}`, 2, '-o OUT.onnx is required');
  const dtype = flags.get('dtype') ?? 'fp32';
  if (dtype !== 'fp32' && dtype !== 'fp16') throw new CliError(`--dtype must be fp16 or fp32; got '${String(dtype)}'`);
  const ops = flags.get('ops') ?? 'fused';
  if (ops !== 'fused' && ops !== 'standard') throw new CliError(`--ops must be fused or standard; got '${String(ops)}'\n${USAGE}`);
  const generation = flags.get('generation') ?? 'materialised';
  if (generation !== 'materialised' && generation !== 'live') throw new CliError(`--generation must be materialised or live; got '${String(generation)}'\n${USAGE}`);
  const model = flags.get('model');
  const thresholdFlag = flags.get('external-threshold');
  const threshold = typeof thresholdFlag === 'string' ? Number(thresholdFlag) : undefined;
  if (threshold !== undefined && !(Number.isSafeInteger(threshold) && threshold >= 0)) throw new CliError(`--external-threshold must be a byte count; got '${String(thresholdFlag)}'`);
  const past = flags.get('decode-past');
  const batch = flags.get('batch');
  const decode = typeof past === 'string' ? { past: positiveIntFlag(past, 'decode-past'), batch: typeof batch === 'string' ? positiveIntFlag(batch, 'batch') : 1 } : undefined;
  if (!decode && batch !== undefined) throw exportFailure('--batch applies to a decode graph (--decode-past S); a prefill graph takes any batch');
  const { compilation } = readSpecProgram(positionals[0]!, io);
  // A graph description without weights need not draw them (a 7B model's take seconds).
  const graphOnly = typeof out !== 'string' && !flags.has('with-weights');
  if (!graphOnly && !flags.has('ignore-memory')) {
    const models = compilation.analysis({ dtype, ...(decode ? { seq: decode.past, batch: decode.batch } : {}) }).models;
    const report = typeof model === 'string' ? models.find((m) => m.name === model) : models.length === 1 ? models[0] : undefined;
    const refusal = report && exportMemoryRefusal(report.name, dtype, exportMemoryEstimate(report, decode !== undefined), availableMemory());
    if (refusal) throw exportFailure(refusal, 5);
  }
  let result;
  try {
    result = exportModel(compilation, typeof model === 'string' ? model : undefined, { dtype, decode, ops, generation, ...(graphOnly ? { fill: () => new Uint8Array(0) } : {}) });
  } catch (e) {
    if (e instanceof ExportError) throw exportFailure(e.message, 2, e.reason === 'spec' ? 'spec' : 'export');
    throw e;
  }
  let written = { bytes: 0, externalPath: undefined as string | undefined, externalBytes: 0 };
  if (typeof out === 'string') {
    try {
      written = writeOnnx(result, out, threshold !== undefined ? { externalThresholdBytes: threshold } : {});
    } catch (e) {
      throw exportFailure(`cannot write ${out}: ${(e as Error).message}`, 2, 'export');
    }
  }
  if (typeof jsonPath === 'string') {
    try {
      writeFileSync(jsonPath, JSON.stringify(graphJson(result, flags.has('with-weights'))));
    } catch (e) {
      throw exportFailure(`cannot write ${jsonPath}: ${(e as Error).message}`, 2, 'export');
    }
  }
  // An encoder-decoder's decode step does not read the encoder's stores nor the cross K/V projections (skippedParams).
  const match = result.initializerElements + result.skippedParams === result.storedParams;
  const skipped = result.skippedParams > 0n ? ` + ${groupDigits(result.skippedParams)} not read by a decode step (the encoder, cross-attention K/V projections)` : '';
  const inputs = result.inputs.map((i) => `${i.name} int64 [${decode ? `${decode.batch}, ${i.decodeTokens ?? 1}` : `batch, ${i.length}`}]`).join(', ');
  if (flags.has('json')) {
    const json: ExportOnnxJson = {
      model: result.modelName,
      output: typeof out === 'string' ? out : null,
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
    io.stdout(`${JSON.stringify(json)}\n`);
  } else io.stdout(
    `${result.modelName} → ${typeof out === 'string' ? out : `${String(jsonPath)} (graph only)`} (${formatBytes(BigInt(written.bytes))}${written.externalPath ? ` + external data ${written.externalPath}, ${formatBytes(BigInt(written.externalBytes))}` : ''})\n` +
      `  ${groupDigits(result.initializers)} initializers, ${groupDigits(result.initializerElements)} elements${skipped} ${match ? '= params.stored' : `≠ params.stored ${groupDigits(result.storedParams)}`}; ${groupDigits(result.nodes)} nodes; ${dtype}; ${ops} ops\n` +
      (result.generation.tensors > 0
        ? `  generated: ${groupDigits(result.generation.tensors)} tensors built in the graph from the stored ones (${groupDigits(result.generation.macs)} multiply-adds); ${generation === 'live' ? 'live: rebuilt on every run' : 'materialised: ONNX Runtime folds them once at session creation'}\n`
        : '') +
      (decode ? `  decode step: KV cache of ${decode.past} positions × batch ${decode.batch} in initializers (${groupDigits(result.kvCacheElements)} elements)\n` : '') +
      (decode && result.stateInputs.length > 0 ? `  recurrent state: ${result.stateInputs.length} inputs state.<layer>.<part> (${groupDigits(result.recurrentStateElements)} elements), updated as outputs next_state.<layer>.<part>\n` : '') +
      `  input${result.inputs.length > 1 ? 's' : ''}: ${inputs}; output: last_token float32 [batch, ${result.outputWidth}]\n`,
  );
  if (!match) {
    io.stderr(`npas: export-onnx: the initializers hold ${result.initializerElements} elements${skipped} but the engine counts ${result.storedParams} stored parameters (please report)\n`);
    return 70;
  }
  return 0;
}
