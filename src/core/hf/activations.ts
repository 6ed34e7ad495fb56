// Maps Transformers' activation names (keys of ACT2FN) onto the `.npas` activation enum.
// Activations carry no parameters, but the spec states them so FLOP-free elementwise choices stay
// visible and round-trip readable; an activation we cannot name is refused rather than guessed.

import { ConfigError } from './config-reader.js';

const ACTIVATIONS: Readonly<Record<string, string>> = {
  gelu: 'gelu',
  gelu_python: 'gelu',
  // The tanh approximation under its several Transformers names.
  gelu_new: 'gelu_tanh',
  gelu_pytorch_tanh: 'gelu_tanh',
  gelu_fast: 'gelu_tanh',
  gelu_accurate: 'gelu_tanh',
  quick_gelu: 'quick_gelu',
  relu: 'relu',
  relu2: 'relu2',
  silu: 'silu',
  swish: 'swish',
  tanh: 'tanh',
  sigmoid: 'sigmoid',
};

/** The `.npas` activation for a Transformers activation name read from `key`. */
export function activationFor(key: string, hfName: string): string {
  const act = ACTIVATIONS[hfName];
  if (act === undefined) {
    throw new ConfigError(
      key,
      `${key} "${hfName}" has no .npas activation; supported: ${Object.keys(ACTIVATIONS).join(', ')}`,
    );
  }
  return act;
}
