// `npas import-hf`: turns a Hugging Face config.json into a `.npas` spec with one model.
// Pure and total: it reads only the text it is given, never throws, and refuses a config it
// cannot describe exactly with a message naming the key at fault. The spec is written to be read
// and edited: named constants, one block per distinct layer structure, stacks as repetitions, and
// a header saying which config and class it came from and which values were Transformers'
// defaults rather than the file's.

import { ConfigError, ConfigReader, showJson, type DefaultedKey } from './config-reader.js';
import { selectHead, type Family } from './family.js';
import { ALBERT, BERT } from './families/bert-like.js';
import { DEEPSEEK_V2, DEEPSEEK_V3, KIMI_K2 } from './families/deepseek-v2.js';
import { GPT2 } from './families/gpt2.js';
import { GRANITE, GRANITE_MOE, PHI3, STARCODER2 } from './families/code-and-phi.js';
import { GEMMA2, GEMMA3, GEMMA3_TEXT } from './families/gemma-sliding.js';
import { GEMMA3N, GEMMA3N_TEXT } from './families/gemma3n.js';
import { FALCON } from './families/falcon.js';
import { GPT_OSS } from './families/gpt-oss.js';
import { GEMMA, LLAMA, MISTRAL, MIXTRAL, QWEN2 } from './families/llama-like.js';
import { JAMBA } from './families/jamba.js';
import { LLAMA4, LLAMA4_TEXT } from './families/llama4.js';
import { MAMBA, MAMBA2 } from './families/mamba.js';
import { NEMOTRON_H } from './families/nemotron-h.js';
import { OLMO, OLMO2, OLMOE } from './families/olmo.js';
import { QWEN3, QWEN3_MOE } from './families/qwen3.js';
import { QWEN3_NEXT } from './families/qwen3-next.js';
import { GPT_NEOX, PHI } from './families/parallel-decoders.js';
import { hasLmHead } from './families/shared-parts.js';
import { T5 } from './families/t5.js';
import { isJsonObject, parseJsonText, type JsonObject, type JsonValue } from './json-text.js';
import { chooseModelName } from './model-name.js';
import { formatNumber, renderModel } from './spec-writer.js';
import { MAX_DECLARED_CONTEXT } from '../analysis/max-context.js';
import { describeQuantization } from './quantization.js';
import { classifyUnusedKeys, type UnusedKeyReport } from './unused-keys.js';

export type ImportResult =
  | {
      readonly ok: true;
      readonly spec: string;
      readonly modelName: string;
      /** Config keys the spec does not use and that might change its numbers, one message each. */
      readonly warnings: readonly string[];
    }
  | { readonly ok: false; readonly key: string | undefined; readonly message: string };

export interface ImportOptions {
  /** Name of the generated model; made a valid identifier. Default: from _name_or_path or model_type. */
  readonly modelName?: string;
  /** What the header calls the source (a file path); default: _name_or_path, else "config.json". */
  readonly sourceName?: string;
}

const FAMILIES: readonly Family[] = [
  GPT2,
  BERT,
  ALBERT,
  T5,
  LLAMA,
  MISTRAL,
  MIXTRAL,
  QWEN2,
  GEMMA,
  PHI,
  GPT_NEOX,
  DEEPSEEK_V2,
  QWEN3,
  QWEN3_MOE,
  QWEN3_NEXT,
  GEMMA2,
  GEMMA3_TEXT,
  GEMMA3,
  GEMMA3N_TEXT,
  GEMMA3N,
  PHI3,
  STARCODER2,
  GRANITE,
  GRANITE_MOE,
  FALCON,
  OLMO,
  OLMO2,
  OLMOE,
  GPT_OSS,
  LLAMA4_TEXT,
  LLAMA4,
  DEEPSEEK_V3,
  KIMI_K2,
  MAMBA,
  MAMBA2,
  NEMOTRON_H,
  JAMBA,
];

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

/** The value at a dotted key path (`text_config.num_experts`) of the config root. */
function valueAtPath(root: JsonObject, path: string): JsonValue | undefined {
  let value: JsonValue | undefined = root;
  for (const part of path.split('.')) {
    if (value === undefined || value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = Object.prototype.hasOwnProperty.call(value, part) ? value[part] : undefined;
  }
  return value;
}

/** Comment lines listing `keys` after `title`, wrapped like the defaults. */
function keyListLines(title: string, keys: readonly string[], width = 96): string[] {
  if (keys.length === 0) return [];
  const lines: string[] = [];
  let line = title;
  for (const [i, key] of keys.entries()) {
    const item = `${oneLine(key)}${i < keys.length - 1 ? ',' : '.'}`;
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

function unusedKeyLines(report: UnusedKeyReport): string[] {
  // A set: a config with 400,000 unknown keys made a list lookup per key quadratic (minutes).
  const unknown = new Set(report.unknown);
  const known = report.all.filter((k) => !unknown.has(k));
  return [
    ...keyListLines('Not used (no effect on the counts):', known),
    ...keyListLines('Not used and not modelled (check that they change nothing):', report.unknown),
  ];
}

/**
 * Largest config text read, in UTF-16 code units. A Hugging Face config.json is a few KB (a
 * large label map, some hundred KB); the JSON reader needs a few tens of times the text in
 * memory, so this keeps the import well under a gigabyte whatever file it is given.
 */
export const MAX_CONFIG_CHARS = 10 * 1024 * 1024;

function importChecked(jsonText: string, options: ImportOptions): ImportResult {
  if (jsonText.length > MAX_CONFIG_CHARS) {
    return refuse(undefined, `the config is ${(jsonText.length / (1024 * 1024)).toFixed(1)} MiB of text; configs over ${MAX_CONFIG_CHARS / (1024 * 1024)} MiB are refused (a config.json is a few KB: is this the right file?)`);
  }
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
  // The header reads these itself.
  cfg.consume('model_type', '_name_or_path', 'transformers_version');
  const choice = selectHead(cfg, family);
  // A model without an LM head has nothing to tie.
  if (!hasLmHead(choice.head)) cfg.consume('tie_word_embeddings');
  const model = family.build(cfg, choice.head);
  const context = declaredContext(cfg, root);
  // Every family: the checkpoint's storage, not its architecture.
  const quantization = describeQuantization(cfg.raw('quantization_config'), root['torch_dtype'] ?? root['dtype']);
  const unused = classifyUnusedKeys(cfg.unusedKeys(), (key) => valueAtPath(root, key));
  const [first] = unused.contradicting;
  if (first !== undefined) {
    return refuse(
      first,
      `model_type "${modelType}" has no ${unused.contradicting.join(', ')}, but the config sets ${unused.contradicting.length === 1 ? 'it' : 'them'}: ` +
        `importing it as ${family.configClass} would drop ${unused.contradicting.length === 1 ? 'that structure' : 'those structures'}; is the model_type right?`,
    );
  }

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
    ...(model.omitted ?? []).map((o) => `Not modelled: ${o.key} (${o.why}).`),
    ...(quantization?.lines ?? []),
    ...unusedKeyLines(unused),
  ];
  const spec = renderModel({
    header,
    name: modelName,
    constants: model.constants,
    blocks: model.blocks,
    modules: model.modules,
    statements: [...model.statements, ...(quantization?.statement === undefined ? [] : [quantization.statement]), ...(context === undefined ? [] : [context])],
    ...(model.variants === undefined ? {} : { variants: model.variants }),
  });
  const warnings = [
    ...(model.omitted ?? []).map((o) => `${o.key} is not modelled: ${o.why}`),
    ...(quantization === undefined ? [] : [oneLine(quantization.warning)]),
    ...unused.unknown.map(
    (key) => `${oneLine(key)} is not used by the ${modelType} import and is not known to leave the counts unchanged; check what it does`,
    ),
  ];
  return { ok: true, spec, modelName, warnings };
}

/**
 * `max_context N` from `max_position_embeddings` when no family sized a table with it (a rotary
 * or NoPE model: nothing else in the spec says how long a context the model is made for), so
 * `npas budget --seq` past it warns (npas-seq-beyond-context). A value that is not a whole
 * number in the statement's range stays an unused key, listed as such.
 */
function declaredContext(cfg: ConfigReader, root: JsonObject): string | undefined {
  const key = 'max_position_embeddings';
  if (cfg.wasRead(key)) return undefined;
  const value = root[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > MAX_DECLARED_CONTEXT) return undefined;
  cfg.consume(key);
  return `max_context ${formatNumber(value)}`;
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
