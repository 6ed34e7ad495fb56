// The introductory example of docs/language.md, parsed by several syntax test files.

export const GEMMA = `# Relaxed Recursive Gemma: 18 layers folded into 9 shared blocks, each loop relaxed by LoRA
model Gemma2B {
  vocab = 256_000
  d = 2048
  block Decoder {
    attn_norm = RMSNorm(d)
    attn      = Attention(d, heads: 8, kv_heads: 1, head_dim: 256)
    mlp_norm  = RMSNorm(d)
    mlp       = GatedMLP(d, 16_384, act: gelu)
  }
  embed   = Embedding(vocab, d)
  body    = Decoder * 18
  norm    = RMSNorm(d)
  lm_head = Linear(d, vocab) tied embed
}
variant RecursiveGemma of Gemma2B {
  share body: cycle(9) relax lora(rank: 64)
  share kv body: every(2)
}
budget RecursiveGemma {
  params.stored <= 1.2B
  kv(seq: 8K, batch: 1, dtype: bf16) <= 128MiB
}
`;
