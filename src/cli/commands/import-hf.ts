// `npas import-hf CONFIG|FOLDER [-o FILE]`: writes a `.npas` spec for a Hugging Face config.json.
// Refusals name the offending key and exit 2. Given a model folder, it reads FOLDER/config.json
// and checks the spec against the checkpoint's safetensors headers: a disagreement is printed,
// naming the tensors, and exits 1 (the spec is still written).

import { analyze, compareWithCheckpoint, importHfConfig, type CheckpointComparison } from '../../core/index.js';
import { isFolder, readModelFolder, type ModelFolder } from '../checkpoint-folder.js';
import { parseCommand, usageOf, type CommandSpec } from '../args.js';
import { CliError, type CliIO } from '../io.js';
import { readSpec } from './read-spec.js';

export const IMPORT_HF_COMMAND: CommandSpec = {
  name: 'import-hf',
  operands: 'CONFIG|FOLDER',
  flags: [
    { name: 'output', alias: 'o', takesValue: true, value: 'FILE' },
    { name: 'name', takesValue: true, value: 'MODEL' },
  ],
};

export function runImportHf(argv: readonly string[], io: CliIO): number {
  const { positionals, flags } = parseCommand(argv, IMPORT_HF_COMMAND);
  if (positionals.length !== 1) throw new CliError(usageOf(IMPORT_HF_COMMAND));
  const path = positionals[0]!;
  const name = flags.get('name');
  const folder: ModelFolder | undefined = isFolder(path) ? readModelFolder(path, io) : undefined;
  const text = folder === undefined ? readSpec(path, io) : folder.configText;
  const result = importHfConfig(text, typeof name === 'string' ? { modelName: name, sourceName: path } : { sourceName: path });
  // Refusal messages already start with the key they name.
  if (!result.ok) throw new CliError(`${path}: ${result.message}`);
  for (const warning of result.warnings) io.stderr(`${path}: warning: ${warning}\n`);
  let exit = 0;
  if (folder?.checkpoint !== undefined) {
    const comparison = compareWithCheckpoint(analyze(result.spec).models, folder.checkpoint.tensors, folder.checkpoint.indexTotalSize);
    io.stderr(checkpointReport(path, folder.checkpoint.files.length, folder.checkpoint.tensors.length, comparison));
    if (comparison.differences.length > 0) exit = 1;
  } else if (folder !== undefined) {
    io.stderr(`${path}: no model.safetensors or model.safetensors.index.json: the spec is not checked against a checkpoint\n`);
  }
  const out = flags.get('output');
  if (typeof out === 'string') {
    try {
      io.writeFile(out, result.spec);
    } catch {
      throw new CliError(`${out}: cannot be written`);
    }
    io.stderr(`wrote ${out} (model ${result.modelName})\n`);
  } else io.stdout(result.spec);
  return exit;
}

function fmt(n: bigint): string {
  return n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** The checkpoint check as stderr lines: one summary, then each disagreement. */
function checkpointReport(path: string, files: number, tensors: number, c: CheckpointComparison): string {
  const scales = c.scaleElements > 0n ? ` (+${fmt(c.scaleElements)} quantisation scale elements)` : '';
  const bytes = c.indexTotalSize === undefined ? `${fmt(c.checkpointBytes)} bytes` : `${fmt(c.checkpointBytes)} bytes, index total_size ${fmt(c.indexTotalSize)}`;
  const lines = [`${path}: checkpoint of ${tensors} tensors in ${files} file(s): ${fmt(c.checkpointParams)} parameters${scales}, ${bytes}`];
  if (c.differences.length === 0) lines.push(`${path}: matches ${c.model}: stored ${fmt(c.specStored)}${c.specBytes === undefined ? '' : `, ${fmt(c.specBytes)} bytes at ${c.dtype}`}`);
  for (const d of c.differences) lines.push(`${path}: differs: ${d}`);
  return `${lines.join('\n')}\n`;
}
