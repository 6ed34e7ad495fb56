// Families the importer recognises but refuses, with what they need that the language does not
// model yet: a user learns why (and what is missing) instead of reading "not supported", and no
// approximate spec is ever written for them.

const GEMMA3N =
  "Gemma 3n's per-layer embeddings (embed_tokens_per_layer, vocab_size_per_layer_input × num_hidden_layers · hidden_size_per_layer_input, with per_layer_model_projection, each layer's per_layer_input_gate and per_layer_projection), " +
  'AltUp (altup_num_inputs parallel copies of the hidden state, altup_projections and altup_unembed_projections, and per layer a router with prediction and correction coefficients), ' +
  'LAuReL (a learned low-rank residual of laurel_rank per layer), the cross-layer KV sharing of its last num_kv_shared_layers layers and MatFormer\'s per-layer intermediate_size list ' +
  'are not modelled by any .npas layer yet, and an import without them would miscount';

/** model_type → why it is refused. */
export const UNMODELLED_FAMILIES: ReadonlyMap<string, string> = new Map([
  ['gemma3n', `${GEMMA3N} (the audio and vision towers under audio_config and vision_config are not modelled either)`],
  ['gemma3n_text', GEMMA3N],
]);
