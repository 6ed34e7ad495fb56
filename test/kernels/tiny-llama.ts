// The two-layer Llama-style decoder the shared-prompt kernel tests export and probe (packed
// prefill, shared decode step, the probe's command): its sizes, and its text with extra
// arguments on the attention (`, window: 3`) and a model name of the test's choosing.

export const D = 32;
export const H = 4;
export const KV = 2;
export const HD = 8;
export const LAYERS = 2;
export const VOCAB = 61;
/** The GatedMLP's hidden width. */
export const FFN = 64;

/** `model NAME { … }`: RMSNorm pre-norm blocks of GQA attention (rope, then `extra`) and a GatedMLP, an untied head. */
export const tinyLlama = (name: string, extra = ''): string => `model ${name} {
  d = ${D}
  block Decoder {
    attn_norm = RMSNorm(d)
    attn      = Attention(d, ${H}, kv_heads: ${KV}, head_dim: ${HD}, rope: true${extra})
    mlp_norm  = RMSNorm(d)
    mlp       = GatedMLP(d, ${FFN})
  }
  embed   = Embedding(${VOCAB}, d)
  body    = Decoder * ${LAYERS}
  norm    = RMSNorm(d)
  lm_head = Linear(d, ${VOCAB})
}
`;
