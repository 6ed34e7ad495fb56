// A multi-file spec probed (issue 18: the exporter follows imports): the probe host compiles the
// spec as the file it names (`specPath`), its imports read from disk relative to it, so a
// variant of a library's model probes as the CLI budgets it; without a path the same text
// cannot name the library's model and is refused as a spec error. CPU provider, tiny model.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProbe } from '../../kernels/probe-client.js';

const LIB = `block Pre(d, heads) {
  attn_norm = RMSNorm(d)
  attn      = Attention(d, heads, head_dim: 8)
  mlp_norm  = RMSNorm(d)
  mlp       = GatedMLP(d, 2 * d)
}
model Tiny(L = 2) {
  embed   = Embedding(61, 32)
  body    = Pre(d: 32, heads: 4) * L
  norm    = RMSNorm(32)
  lm_head = Linear(32, 61)
}
`;
const EXP = 'import "lib/tiny.npas"\nvariant Shared of Tiny {\n  share body: all\n}\n';
// One shared Pre block: attention 4·(32·32) = 4,096, GatedMLP 3·32·64 = 6,144, two norms 64;
// embedding 61·32 = 1,952, final norm 32, head 32·61 = 1,952.
const SHARED_STORED = 4_096 + 6_144 + 64 + 1_952 + 32 + 1_952;

test('the probe host follows the imports of the spec file it is given', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'npas-probe-imports-'));
  const host = { hostPath: join(__dirname, '..', '..', 'kernels', 'probe-host.ts'), timeoutMs: 60_000 };
  try {
    mkdirSync(join(dir, 'lib'));
    writeFileSync(join(dir, 'lib', 'tiny.npas'), LIB);
    const specPath = join(dir, 'exp.npas');
    writeFileSync(specPath, EXP);
    const params = { specText: EXP, model: 'Shared', ep: 'cpu', batch: 1, seq: 8, dtype: 'fp32', runs: 1, warmup: 0 } as const;
    const out = await runProbe({ ...params, specPath }, host);
    assert.ok(out.ok, JSON.stringify(out));
    assert.equal(out.result.storedParams, String(SHARED_STORED));
    // Exported from the compiled library and variant: one initializer element per stored parameter.
    assert.equal(out.result.initializerElements, String(SHARED_STORED));
    const alone = await runProbe(params, host);
    assert.ok(!alone.ok);
    assert.equal(alone.kind, 'spec');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
