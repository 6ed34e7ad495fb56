// `npas import-hf CONFIG [-o FILE]`: writes a `.npas` spec for a Hugging Face config.json.
// Refusals name the offending key and exit 2.

import { importHfConfig } from '../../core/index.js';
import { parseArgs } from '../args.js';
import { CliError, type CliIO } from '../io.js';
import { readSpec } from './read-spec.js';

export function runImportHf(argv: readonly string[], io: CliIO): number {
  const { positionals, flags } = parseArgs(argv, [{ name: 'output', alias: 'o', takesValue: true }, { name: 'name', takesValue: true }], 'import-hf');
  if (positionals.length !== 1) throw new CliError('usage: npas import-hf CONFIG [-o FILE] [--name MODEL]');
  const path = positionals[0]!;
  const name = flags.get('name');
  const result = importHfConfig(readSpec(path, io), typeof name === 'string' ? { modelName: name, sourceName: path } : { sourceName: path });
  // Refusal messages already start with the key they name.
  if (!result.ok) throw new CliError(`${path}: ${result.message}`);
  for (const warning of result.warnings) io.stderr(`${path}: warning: ${warning}\n`);
  const out = flags.get('output');
  if (typeof out === 'string') {
    try {
      io.writeFile(out, result.spec);
    } catch {
      throw new CliError(`${out}: cannot be written`);
    }
    io.stderr(`wrote ${out} (model ${result.modelName})\n`);
  } else io.stdout(result.spec);
  return 0;
}
