// What a model family contributes to the import: the Transformers classes it recognises, which
// head each class puts on the base model, and a builder from a checked config to model members.
// Head selection from `architectures` lives here too because it is the same for every family.

import { ConfigError, showJson, type ConfigReader } from './config-reader.js';
import type { Binding, BlockDef, VariantDef } from './spec-writer.js';

/**
 * What sits on top of the base model: nothing (`base`, e.g. LlamaModel, BertModel with pooler),
 * a language-model head (`lm`), BERT/ALBERT's masked-LM head (`mlm`), the masked-LM head plus
 * the next-sentence / sentence-order classifier (`pretraining`), or only T5's encoder.
 */
export type HeadKind = 'base' | 'lm' | 'mlm' | 'pretraining' | 'encoder';

export interface FamilyModel {
  /** One line for the header, e.g. "decoder-only, untied LM head". */
  readonly description: string;
  readonly constants: readonly Binding[];
  readonly blocks: readonly BlockDef[];
  readonly modules: readonly Binding[];
  readonly statements: readonly string[];
  /** Parts of the config the spec leaves out on purpose, each named by its key: listed in the header and warned about. */
  /** Variants written after the model (DeepSeek-V3's multi-token-prediction modules). */
  readonly variants?: readonly VariantDef[];
  readonly omitted?: readonly { readonly key: string; readonly why: string }[];
}

export interface Family {
  readonly modelType: string;
  /** The Transformers config class whose defaults fill absent keys (named in the header). */
  readonly configClass: string;
  /** Recognised `architectures` class names and the head each one means. */
  readonly classes: Readonly<Record<string, HeadKind>>;
  /** The class used when `architectures` is absent or empty. */
  readonly defaultClass: string;
  build(cfg: ConfigReader, head: HeadKind): FamilyModel;
}

export interface HeadChoice {
  readonly className: string;
  readonly head: HeadKind;
  /** False when `architectures` was absent and the family's default class was used. */
  readonly fromConfig: boolean;
}

const HEAD_WORDS: Readonly<Record<HeadKind, string>> = {
  base: 'base model',
  lm: 'with LM head',
  mlm: 'with masked-LM head',
  pretraining: 'with pre-training heads',
  encoder: 'encoder only',
};

/** The head named by architectures[0], or the family's default class when there is none. */
export function selectHead(cfg: ConfigReader, family: Family): HeadChoice {
  const list = cfg.raw('architectures');
  if (list === undefined || list === null || (Array.isArray(list) && list.length === 0)) {
    const head = family.classes[family.defaultClass] ?? 'base';
    return { className: family.defaultClass, head, fromConfig: false };
  }
  if (!Array.isArray(list)) {
    throw new ConfigError('architectures', `architectures must be a list of class names, got ${showJson(list)}`);
  }
  const first = list[0];
  if (typeof first !== 'string') {
    throw new ConfigError('architectures', `architectures[0] must be a class name string, got ${showJson(first ?? null)}`);
  }
  const head = family.classes[first];
  if (head === undefined) {
    const supported = Object.entries(family.classes)
      .map(([name, kind]) => `${name} (${HEAD_WORDS[kind]})`)
      .join(', ');
    throw new ConfigError(
      'architectures',
      `architectures[0] "${first}" is not a supported class for model_type "${family.modelType}"; supported: ${supported}`,
    );
  }
  return { className: first, head, fromConfig: true };
}
