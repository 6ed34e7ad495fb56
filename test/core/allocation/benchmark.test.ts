// The allocator's speed on a 1,000-layer transformer (6,001 generated weights): reading the
// architecture and allocating take ≤ 100 ms (median of 7 runs) for every grouping rule; on a
// machine loaded by other work the process's CPU time is checked when wall time is inflated.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocate, readArchitecture, type GroupingSpec } from '../../../src/core/index.js';
import { checkPlan, request } from './helpers.js';

const SPEC = `
model Deep {
  d = 512
  block Decoder {
    attn_norm = RMSNorm(d)
    attn      = Attention(d, heads: 8)
    mlp_norm  = RMSNorm(d)
    mlp       = MLP(d, 4 * d)
  }
  embed = Embedding(32_000, d)
  body  = Decoder * 1000
  norm  = RMSNorm(d)
  head  = Linear(d, 32_000) tied embed
}
`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

test('a 1,000-layer model is allocated in ≤ 100 ms (median)', () => {
  const groupings: GroupingSpec[] = [{ kind: 'auto' }, { kind: 'all' }, { kind: 'shape' }, { kind: 'role' }, { kind: 'depth', k: 8 }, { kind: 'cluster', k: 8 }];
  const report: string[] = [];
  for (const g of groupings) {
    const times: number[] = [];
    // One untimed run first: the JIT's warm-up is not the allocator's cost.
    const warm = readArchitecture(SPEC, 'Deep');
    if (warm.ok) allocate(warm.input, request(1_000_000_000, g));
    const cpu: number[] = [];
    for (let i = 0; i < 7; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const arch = readArchitecture(SPEC, 'Deep');
      assert.ok(arch.ok);
      const r = allocate(arch.input, request(1_000_000_000, g));
      times.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
      assert.ok(r.ok);
      if (i === 0) {
        checkPlan(r.plan);
        assert.equal(r.plan.items.length, 6001);
      }
    }
    const m = median(times);
    const mc = median(cpu);
    report.push(`${g.kind}${'k' in g ? `:${g.k}` : ''} ${m.toFixed(1)} ms (CPU ${mc.toFixed(1)} ms)`);
    // Wall time is the requirement; on a machine busy with other work (the full suite runs test
    // files in parallel) the process's own CPU time stands in for it, as it is what the allocator spends.
    assert.ok(m <= 100 || mc <= 100, `${g.kind}: median ${m.toFixed(1)} ms wall, ${mc.toFixed(1)} ms CPU`);
  }
  console.log(`allocation of 1,000 layers (median of 7): ${report.join(', ')}`);
});
