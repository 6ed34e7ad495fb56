// `npas import-hf`: turns a Hugging Face config.json into a `.npas` spec with one model.
// Pure and total: it reads only the text it is given, never throws, and refuses a config it
// cannot describe exactly with a message naming the key at fault. The spec is written to be read
// and edited: named constants, one block per distinct layer structure, stacks as repetitions, and
// a header saying which config and class it came from and which values were Transformers'
// defaults rather than the file's.

import { ConfigError, ConfigReader, showJson, type DefaultedKey } from './config-reader.js';
import { selectHead, type Family } from './family.js';
import { ALBERT, BERT } from './families/bert-like.js';
import { DEEPSEEK_V2 } from './families/deepseek-v2.js';
import { GPT2 } from './families/gpt2.js';
import { GEMMA, LLAMA, MISTRAL, MIXTRAL, QWEN2 } from './families/llama-like.js';
import { GPT_NEOX, PHI } from './families/parallel-decoders.js';
import { T5 } from './families/t5.js';
import { isJsonObject, parseJsonText } from './json-text.js';
import { chooseModelName } from './model-name.js';
import { renderModel } from './spec-writer.js';

export type ImportResult =
  | { readonly ok: true; readonly spec: string; readonly modelName: string }
  | { readonly ok: false; readonly key: string | undefined; readonly message: string };

export interface ImportOptions {
  /** Name of the generated model; made a valid identifier. Default: from _name_or_path or model_type. */
  readonly modelName?: string;
  /** What the header calls the source (a file path); default: _name_or_path, else "config.json". */
  readonly sourceName?: string;
}

const FAMILIES: readonly Family[] = [GPT2, BERT, ALBERT, T5, LLAMA, MISTRAL, MIXTRAL, QWEN2, GEMMA, PHI, GPT_NEOX, DEEPSEEK_V2];

/** The model_type values the importer understands, in documentation order. */
export const SUPPORTED_MODEL_TYPES: readonly string[] = FAMILIES.map((f) => f.modelType);

const FAMILY_BY_TYPE: ReadonlyMap<string, Family> = new Map(FAMILIES.map((f) => [f.modelType, f]));

function refuse(key: string | undefined, message: string): ImportResult {
  return { ok: false, key, message };
}

/** Header text must stay on its comment line whatever a config puts in its strings. */
function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}

/** "Absent keys, …: a = 1, b = 2" wrapped into comment lines of about `width` characters. */
function defaultsLines(configClass: string, defaulted: readonly DefaultedKey[], width = 96): string[] {
  if (defaulted.length === 0) return [];
  const lines: string[] = [];
  let line = `Absent from the file, so ${configClass} defaults:`;
  for (const [i, d] of defaulted.entries()) {
    const item = `${d.key} = ${d.value}${i < defaulted.length - 1 ? ',' : '.'}`;
    if (line.length + 1 + item.length > width) {
      lines.push(line);
      line = `  ${item}`;
    } else {
      line = `${line} ${item}`;
    }
  }
  lines.push(line);
  return lines;
}

function importChecked(jsonText: string, options: ImportOptions): ImportResult {
  const parsed = parseJsonText(jsonText);
  if (!parsed.ok) {
    return refuse(undefined, `the config is not valid JSON: ${parsed.message} (line ${parsed.line}, column ${parsed.column})`);
  }
  const root = parsed.value;
  if (!isJsonObject(root)) {
    const what = Array.isArray(root) ? 'a list' : showJson(root);
    return refuse(undefined, `the config must be a JSON object ({ ... }) as Transformers saves it, got ${what}`);
  }
  const supported = SUPPORTED_MODEL_TYPES.join(', ');
  const modelType = root['model_type'];
  if (modelType === undefined || modelType === null) {
    return refuse('model_type', `the config has no model_type, so its family is unknown; supported: ${supported}`);
  }
  if (typeof modelType !== 'string') return refuse('model_type', `model_type must be a string, got ${showJson(modelType)}`);
  const family = FAMILY_BY_TYPE.get(modelType);
  if (family === undefined) return refuse('model_type', `model_type "${modelType}" is not supported; supported: ${supported}`);

  const cfg = new ConfigReader(root);
  const choice = selectHead(cfg, family);
  const model = family.build(cfg, choice.head);

  const nameOrPath = typeof root['_name_or_path'] === 'string' ? oneLine(root['_name_or_path']) : undefined;
  const modelName = chooseModelName(options.modelName, nameOrPath, modelType);
  const source =
    options.sourceName !== undefined
      ? `the Hugging Face config ${oneLine(options.sourceName)}`
      : nameOrPath !== undefined && nameOrPath !== ''
        ? `the Hugging Face config of ${nameOrPath}`
        : 'a Hugging Face config.json';
  const version = typeof root['transformers_version'] === 'string' ? `, saved by Transformers ${oneLine(root['transformers_version'])}` : '';
  const classNote = choice.fromConfig ? '' : ' (no architectures in the file: the family default)';
  const header = [
    `Imported from ${source} (model_type "${modelType}"${version}).`,
    `Class ${choice.className}${classNote}: ${model.description}.`,
    ...defaultsLines(family.configClass, cfg.defaulted),
  ];
  const spec = renderModel({
    header,
    name: modelName,
    constants: model.constants,
    blocks: model.blocks,
    modules: model.modules,
    statements: model.statements,
  });
  return { ok: true, spec, modelName };
}

/**
 * Converts the text of a Hugging Face config.json into `.npas` source with exactly one model.
 * Never throws: malformed or unsupported configs give `{ ok: false, key, message }`, where `key`
 * names the config key at fault (undefined when the text as a whole is wrong).
 */
export function importHfConfig(jsonText: string, options: ImportOptions = {}): ImportResult {
  try {
    if (typeof jsonText !== 'string') return refuse(undefined, 'the config must be given as JSON text');
    return importChecked(jsonText, options);
  } catch (error) {
    if (error instanceof ConfigError) return refuse(error.key, error.message);
    // A defect here must still not escape to the caller (an editor command or the CLI).
    const detail = error instanceof Error ? error.message : String(error);
    return refuse(undefined, `internal error while importing the config: ${detail}`);
  }
}
