// ScaLearn in the ONNX export (kernels/layers/scalearn.ts): initializer elements equal
// params.stored for the four variants (vector or scalar ω, per target or shared), the graph runs
// on CPU, and its output equals an independent computation written here on the graph's own
// initializers — CPJKU/ScaLearn's forward for task 0: each source adapter's up output
// W_u·relu(W_d·y + b_d) + b_u on the target's output y, scaled by ω[0][n] and summed onto y.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportModel, type ExportResult } from '../../kernels/export.js';
import { assertClose, idRows, initializer, matvec, runChecked } from './helpers.js';

const V = 29;
const D = 8;
const OUT = 12;
const spec = (adapter: string) => `
model M {
  embed = Embedding(${V}, ${D})
  proj  = Linear(${D}, ${OUT})
}
variant A of M { adapt proj: ${adapter} }
`;

const IDS = [[3, 17, 8], [20, 6, 2]];

function reference(r: ExportResult, sources: number, bottleneck: number, vector: boolean, omegaKey: string): number[] {
  const W = initializer(r, 'proj.weight');
  const down = initializer(r, 'proj.weight.scalearn_down'); // [N, r, OUT]
  const downB = initializer(r, 'proj.weight.scalearn_down_bias'); // [N, r]
  const up = initializer(r, 'proj.weight.scalearn_up'); // [N, OUT, r]
  const upB = initializer(r, 'proj.weight.scalearn_up_bias'); // [N, OUT]
  const omega = initializer(r, omegaKey); // [tasks, N, OUT or 1]: task 0 first
  const table = initializer(r, 'embed.weight');
  return IDS.flatMap((row) => {
    const id = row[row.length - 1]!;
    const y = matvec(W, table.subarray(id * D, (id + 1) * D), OUT);
    const out = [...y];
    for (let n = 0; n < sources; n++) {
      const h = Array.from({ length: bottleneck }, (_, k) => {
        let s = downB[n * bottleneck + k]!;
        for (let j = 0; j < OUT; j++) s += down[(n * bottleneck + k) * OUT + j]! * y[j]!;
        return Math.max(0, s);
      });
      for (let j = 0; j < OUT; j++) {
        let u = upB[n * OUT + j]!;
        for (let k = 0; k < bottleneck; k++) u += up[(n * OUT + j) * bottleneck + k]! * h[k]!;
        out[j]! += (vector ? omega[n * OUT + j]! : omega[n]!) * u;
      }
    }
    return out;
  });
}

test('scalearn: frozen source adapters scaled by task 0\'s ω; initializers = params.stored; equals the reference forward', async () => {
  for (const [args, sources, r, vector, shared, tasks] of [
    ['scalearn(bottleneck: 3, sources: 4)', 4, 3, true, false, 1],
    ['scalearn(bottleneck: 2, tasks: 3, scaling: scalar)', 3, 2, false, false, 3],
    ['scalearn(bottleneck: 2, sources: 5, shared: true, tasks: 2)', 5, 2, true, true, 2],
    ['scalearn(bottleneck: 4, sources: 2, scaling: scalar, shared: true, tasks: 4)', 2, 4, false, true, 4],
  ] as const) {
    const x = exportModel(spec(args), 'A', { ops: 'standard' });
    assert.equal(x.initializerElements, x.storedParams, args);
    // Over the base: N source adapters 2·d·r + r + d once, ω N·d (or N) per task.
    const base = exportModel(spec('lora(rank: 1)'), 'M').storedParams;
    assert.equal(x.storedParams - base, BigInt(sources * (2 * OUT * r + r + OUT) + tasks * sources * (vector ? OUT : 1)), args);
    const omegaKey = shared ? omegaName(x) : 'proj.weight.scalearn_omega';
    assertClose(await runChecked(x, { input_ids: idRows(IDS) }), reference(x, sources, r, vector, omegaKey), 1e-5, args);
  }
});

/** The shared ω's initializer (`scalearn@<statement>:omega:<d>`). */
function omegaName(x: ExportResult): string {
  const names = x.spec.graph.initializers.map((i) => i.name).filter((n) => n.startsWith('scalearn@') && n.endsWith(`:omega:${OUT}`));
  assert.equal(names.length, 1);
  return names[0]!;
}
