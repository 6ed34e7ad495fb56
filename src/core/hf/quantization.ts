// What a checkpoint's quantization_config says about the dtype of each of its tensors, written
// into the imported spec's header and warned about. The spec counts parameters, which
// quantisation does not change; the bytes it costs depend on the dtype of each tensor, and the
// language has one weights dtype for all of them (`--weights-dtype`): so the header names which
// tensors are stored how, what the scales add, and which setting comes nearest, and the warning
// says the weight bytes are not per tensor. Known methods: Transformers' MXFP4 (GPT-OSS) and
// block-wise FP8 (DeepSeek-V3, Kimi-K2); any other is listed by its quant_method.

import { isJsonObject, type JsonValue } from './json-text.js';

export interface QuantizationNote {
  /** Header comment lines. */
  readonly lines: readonly string[];
  readonly warning: string;
  /** A `precision` statement that stores the model as the checkpoint does, where one can (MXFP4 experts). */
  readonly statement?: string;
}

function text(value: JsonValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A `[rows, cols]` block of positive integers, or undefined. */
function block(value: JsonValue | undefined): readonly [number, number] | undefined {
  if (!Array.isArray(value) || value.length !== 2) return undefined;
  const [a, b] = value;
  return typeof a === 'number' && typeof b === 'number' && Number.isSafeInteger(a) && Number.isSafeInteger(b) && a > 0 && b > 0 ? [a, b] : undefined;
}

const SHOWN = 12;

const NOT_PER_TENSOR = 'the counts are exact; weight bytes use one dtype for every tensor (--weights-dtype), since per-tensor weight dtypes are not part of the language yet';

/**
 * The note for a quantization_config value; undefined when there is none (absent or null).
 * Config strings in the result are quoted by the caller's one-line escaping.
 */
/** The analysis dtype of a config's torch_dtype (`dtype` in newer configs), when it is a float the engine knows. */
function checkpointDtype(name: JsonValue | undefined): string | undefined {
  return typeof name === 'string' ? ({ bfloat16: 'bf16', float16: 'fp16', float32: 'fp32' } as Record<string, string>)[name] : undefined;
}

export function describeQuantization(value: JsonValue | undefined, torchDtype?: JsonValue): QuantizationNote | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isJsonObject(value)) {
    return { lines: ['quantization_config is not an object: not read.'], warning: `quantization_config is not an object and was not read; ${NOT_PER_TENSOR}` };
  }
  const method = text(value['quant_method']) ?? 'unknown';
  if (method === 'mxfp4') {
    // Transformers' Mxfp4Config: the experts' gate_up_proj and down_proj as *_blocks (two E2M1
    // values per byte) and *_scales (one E8M0 byte per 32 values): 4.25 bits per weight.
    const names = Array.isArray(value['modules_to_not_convert']) ? value['modules_to_not_convert'].filter((m): m is string => typeof m === 'string') : [];
    // A config may list many modules; the header names the first few.
    const kept = names.length > SHOWN ? [...names.slice(0, SHOWN), `… and ${names.length - SHOWN} more`] : names;
    // The experts dtype class holds exactly the routed experts' matrices; the rest (attention,
    // router, embeddings, head, expert biases) stays in the checkpoint's dtype.
    const rest = checkpointDtype(torchDtype) ?? 'bf16';
    const settings = `--weights-dtype ${rest} --experts-dtype mxfp4`;
    return {
      lines: [
        'Quantised checkpoint (quantization_config, quant_method "mxfp4"): the experts\' matrices are MXFP4, 4-bit E2M1 values',
        `  with one E8M0 scale per 32 (4.25 bits per weight), the rest ${rest}: the precision statement stores the model so`,
        `  (as ${settings} would); ${kept.length > 0 ? `kept unquantised: ${kept.join(', ')}` : 'no modules kept unquantised'}.`,
      ],
      warning: `quantization_config (mxfp4): the experts are stored in MXFP4 and ${kept.length > 0 ? kept.join(', ') : 'nothing'} unquantised; the spec's precision statement (${rest} weights, mxfp4 experts) gives the checkpoint's weight bytes`,
      statement: `precision weights: ${rest}, experts: mxfp4`,
    };
  }
  if (method === 'fp8') {
    const size = block(value['weight_block_size']);
    const fmt = text(value['fmt']) ?? 'e4m3';
    const scales = size === undefined ? 'per-tensor scales' : `one fp32 scale per ${size[0]}×${size[1]} block (weight_scale_inv, ⌈rows/${size[0]}⌉·⌈cols/${size[1]}⌉ per matrix: not parameters)`;
    return {
      lines: [
        `Quantised checkpoint (quantization_config, quant_method "fp8", fmt "${fmt}"): the linear layers' weights are FP8,`,
        `  ${scales};`,
        '  embeddings, norms, the router and the LM head keep the checkpoint dtype (--weights-dtype fp8 for the FP8 bytes).',
      ],
      warning: `quantization_config (fp8 ${fmt}${size === undefined ? '' : `, ${size[0]}×${size[1]} blocks`}): the linear weights are stored in FP8 with scales, the rest unquantised; ${NOT_PER_TENSOR}`,
    };
  }
  return {
    lines: [`Quantised checkpoint (quantization_config, quant_method "${method}"): not mapped to weight dtypes.`],
    warning: `quantization_config (quant_method "${method}") is not mapped to weight dtypes; ${NOT_PER_TENSOR}`,
  };
}
