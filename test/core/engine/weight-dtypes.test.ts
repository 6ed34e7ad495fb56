// Per-path weight dtypes: `precision weights PATHS: dtype` stores the weights under the paths in a
// dtype of their own, over the `weights` and `experts` classes. Expected bytes are written out from
// the layers' shapes (docs/layers.md): Embedding(100, 64) 6,400; Attention(64, 4) q, k, v, o
// 4·64·64 = 16,384 (no biases); MoE(64, 32, experts: 8, top_k: 2) router 64·8 = 512 and 8 experts
// of gate, up, down 3·64·32 = 6,144; Linear(64, 100) 6,400. Bytes per element: fp32 4, bf16 2,
// fp8 and int8 1, int4 1/2.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, type AnalysisOptions, type ModelReport } from '../../../src/core/index.js';

const SPEC = `
model M {
  d = 64
  embed = Embedding(100, d)
  block L { attn = Attention(d, 4); moe = MoE(d, 32, experts: 8, top_k: 2) }
  body = L * 2
  head = Linear(d, 100)
}
`;

function report(variant: string, name: string, options: Partial<AnalysisOptions> = {}): ModelReport {
  const r = analyze(`${SPEC}\n${variant}\n`, { seq: 16, ...options });
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
  const m = r.models.find((x) => x.name === name);
  assert.ok(m, name);
  return m;
}

const EMBED = 6_400n, ATTN = 2n * 16_384n, ROUTER = 2n * 512n, EXPERTS = 2n * 8n * 6_144n, HEAD = 6_400n;

test('embeddings in int8 and attention in fp8 beside bf16 weights: each weight in its own dtype', () => {
  const m = report('variant Q of M {\n  precision weights embed: int8\n  precision weights body.attn: fp8\n}', 'Q');
  assert.equal(m.params.stored, EMBED + ATTN + ROUTER + EXPERTS + HEAD, 'no count changes');
  assert.equal(m.memory.weightBytes, EMBED * 1n + ATTN * 1n + (ROUTER + EXPERTS + HEAD) * 2n);
  // A decode step at batch 1 reads every applied weight but the embedding table: the attention
  // (fp8), the routers, 2 of 8 experts per layer and the head (bf16), plus the KV cache: 2 layers
  // × 2·4·16 elements × 16 tokens × 2 bytes.
  const kv = 2n * 128n * 16n * 2n;
  assert.equal(m.kvCacheBytes, kv);
  assert.equal(m.latency.decode.bytes, ATTN * 1n + (ROUTER + 2n * 2n * 6_144n + HEAD) * 2n + kv);
  // A prefill of 16 tokens reads every stored weight once (all 8 experts: (6/8)^16 of each is
  // unread, 1 − 0.01002… of 8 experts × 2 layers read), in its dtype.
  const unreadNum = 2n * 8n * 6_144n * 6n ** 16n;
  const den = 8n ** 16n;
  const expertsRead = (EXPERTS * den - unreadNum + den - 1n) / den;
  assert.equal(m.latency.prefill.bytes, EMBED + ATTN + (ROUTER + HEAD) * 2n + 2n * expertsRead + kv);
});

test('a path override beats the experts class; the classes still set every other weight', () => {
  // The MoE layers (router and experts) in int4; --experts-dtype fp8 then reaches no expert,
  // --weights-dtype fp32 the rest.
  const m = report('variant Q of M { precision weights body.moe: int4 }', 'Q', { precision: { weights: 'fp32', experts: 'fp8' } });
  assert.equal(m.memory.weightBytes, (ROUTER + EXPERTS) / 2n + (EMBED + ATTN + HEAD) * 4n);
  // Without the override the experts' matrices follow the experts class, the router the weights'.
  const plain = report('', 'M', { precision: { weights: 'fp32', experts: 'fp8' } });
  assert.equal(plain.memory.weightBytes, EXPERTS * 1n + (EMBED + ATTN + ROUTER + HEAD) * 4n);
});

test('the last override reaching a weight wins; a variant\'s come after its base\'s', () => {
  const m = report('variant A of M { precision weights body: fp8 }\nvariant B of A { precision weights body.attn: int8 }\nvariant C of B { precision weights body: bf16 }', 'B');
  // body in fp8 except its attention in int8 (1 byte both): only embed and head stay bf16.
  assert.equal(m.memory.weightBytes, (ATTN + ROUTER + EXPERTS) * 1n + (EMBED + HEAD) * 2n);
  const c = report('variant A of M { precision weights body: fp8 }\nvariant B of A { precision weights body.attn: int8 }\nvariant C of B { precision weights body: bf16 }', 'C');
  assert.equal(c.memory.weightBytes, (EMBED + ATTN + ROUTER + EXPERTS + HEAD) * 2n);
});

test('a tied head is stored once, in its store\'s dtype; a weight shared across a stack once too', () => {
  const tied = `model T {\n  embed = Embedding(100, 64)\n  head = Linear(64, 100) tied embed\n  precision weights embed: int8\n}`;
  const r = analyze(tied, { seq: 16 });
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.equal(r.models[0]!.memory.weightBytes, EMBED);
  // Four layers sharing one store (share body: all): one attention store in fp8.
  const shared = analyze(`model S {\n  block L { attn = Attention(64, 4) }\n  body = L * 4\n  share body: all\n  precision weights body.attn: fp8\n}`, { seq: 16 });
  assert.deepEqual(shared.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.equal(shared.models[0]!.memory.weightBytes, 16_384n);
});

test('a bad dtype or a path that names nothing is a located error; the class form still parses', () => {
  const bad = `${SPEC}\nvariant Q of M { precision weights body.attn: int3 }\n`;
  const errors = analyze(bad).diagnostics.filter((d) => d.severity === 'error');
  assert.deepEqual(errors.map((d) => d.code), ['npas-precision']);
  assert.equal(bad.slice(errors[0]!.range.start, errors[0]!.range.end), 'int3');
  const unknown = `${SPEC}\nvariant Q of M { precision weights body.mlp: fp8 }\n`;
  const u = analyze(unknown).diagnostics.filter((d) => d.severity === 'error');
  assert.equal(u.length, 1);
  assert.ok(unknown.slice(u[0]!.range.start, u[0]!.range.end).includes('mlp'), u[0]!.message);
  // `precision weights: fp8` is the class form: every weight in fp8.
  assert.equal(report('variant Q of M { precision weights: fp8 }', 'Q').memory.weightBytes, EMBED + ATTN + ROUTER + EXPERTS + HEAD);
});
