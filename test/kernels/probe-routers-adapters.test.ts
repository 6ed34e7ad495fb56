// The probe (kernels/probe-host.ts) on CPU for the constructs issue 16 exports besides their
// kernel tests: RMoE's recurrent router (recurrent-router.test.ts), expert pools across layers and
// Chain-of-Experts iterations (cross-layer-experts.test.ts), Polytropon/MHR `poly` and
// FISH `sparse` adapters (poly-sparse-adapters.test.ts), HyperFormer's generated `hyper` adapters
// (hyper-adapters.test.ts), Hogwild! workers (parallel-streams.test.ts)
// — prefill and decode measured, every stored element an initializer.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runProbe } from '../../kernels/probe-client.js';

const D = 8;
const V = 29;
const RMOE = `
model R {
  block Decoder {
    moe_norm = RMSNorm(${D})
    cell     = RecurrentRouter(4)
    moe      = MoE(${D}, 6, experts: 4, top_k: 2, router_rnn: 4)
  }
  embed = Embedding(${V}, ${D})
  body  = Decoder * 3
}
variant Shared of R { share body.cell: all }
`;

test('the probe measures RMoE, expert pools, Chain-of-Experts, poly, sparse-mask, hyper and Hogwild! workers models on CPU, prefill and decode, with initializers = params.stored', async () => {
  const host = join(process.cwd(), 'kernels', 'probe-host.ts');
  const adapted = (adapter: string) => `model A {\n  embed = Embedding(${V}, ${D})\n  block B {\n    n = RMSNorm(${D})\n    mlp = GatedMLP(${D}, 16)\n  }\n  body = B * 2\n  head = Linear(${D}, ${V})\n}\nvariant T of A { adapt body.mlp: ${adapter} }\n`;
  for (const [specText, model] of [
    [RMOE, 'Shared'],
    [adapted('poly(rank: 2, skills: 3, splits: 2, tasks: 4)'), 'T'],
    [adapted('sparse(elements: 12, tasks: 2)'), 'T'],
    [adapted('hyper(bottleneck: 2, embedding: 4, hidden: 6, projected: 5, targets: [down], tasks: 3)'), 'T'],
    [`${RMOE}\nvariant H of R { parallel workers(3) }`, 'H'],
    // Cross-layer expert pools (Megrez2, ReXMoE: cross-layer-experts.test.ts) and Chain-of-Experts iterations.
    [`${RMOE}\nvariant Pooled of R { share experts body.moe: sequence(1) }`, 'Pooled'],
    [`model C {\n  embed = Embedding(${V}, ${D})\n  block B {\n    n = RMSNorm(${D})\n    moe = MoE(${D}, 6, experts: 4, top_k: 2, iterations: 2)\n  }\n  body = B * 2\n}\n`, 'C'],
  ] as const) {
    const out = await runProbe({ specText, model, ep: 'cpu', batch: 2, seq: 8, dtype: 'fp32', runs: 2, warmup: 1 }, { hostPath: host, timeoutMs: 60_000 });
    assert.ok(out.ok, out.ok ? '' : `${model}: ${out.kind}: ${out.message}`);
    assert.equal(out.result.initializerElements, out.result.storedParams, specText);
    assert.ok(out.result.prefill.medianMs > 0);
    assert.ok(!('unavailable' in out.result.decode), 'unavailable' in out.result.decode ? out.result.decode.unavailable : '');
  }
});
