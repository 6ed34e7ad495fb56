// MomentProbe in the ONNX export (kernels/layers/moment-probe.ts): initializer elements equal
// params.stored, the graph runs on CPU, and its per-sample output equals an independent
// computation written here on the graph's own initializers — mingzeG/Moment-Probing's
// Moment_Probing_ViT.forward: the class token (position 0) through classifier1, and the other
// tokens projected, LayerNorm-ed per group with one shared norm, centred on the mean of all of a
// group's entries, crossed per pair into (1/N)·AᵀB, L2-normalised along dim 2 (near, n/2; not cn2),
// downsampled by Conv 3×3/2 · GELU · Conv 3×3/2, flattened through classifier2; the two averaged.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportModel, type ExportResult } from '../../kernels/export.js';
import { assertClose, gelu, idRows, initializer, matvec, runChecked } from './helpers.js';

const V = 29;
const D = 8;
const C = 5;
const spec = (probe: string) => `
model M {
  embed = Embedding(${V}, ${D})
  head  = MomentProbe(${D}, ${C}, ${probe})
}
`;
const IDS = [[3, 17, 8, 11, 25, 4], [20, 6, 2, 9, 1, 14]];

const pairList = (pairs: string, heads: number): [number, number][] => {
  if (pairs === 'near') return Array.from({ length: heads - 1 }, (_, i) => [i, i + 1]);
  if (pairs === 'half') return Array.from({ length: heads / 2 }, (_, i) => [i, i + heads / 2]);
  const all: [number, number][] = [];
  for (let i = 0; i < heads - 1; i++) for (let j = i + 1; j < heads; j++) all.push([i, j]);
  return all;
};

/** Conv2d(P, P, 3, stride 2, no padding, no bias) on [P, n, n]. */
function conv(x: number[][][], w: Float32Array): number[][][] {
  const p = x.length;
  const n = x[0]!.length;
  const s = Math.floor((n - 3) / 2) + 1;
  return Array.from({ length: p }, (_, o) =>
    Array.from({ length: s }, (_, y) =>
      Array.from({ length: s }, (_, xx) => {
        let sum = 0;
        for (let i = 0; i < p; i++) for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) sum += w[((o * p + i) * 3 + ky) * 3 + kx]! * x[i]![2 * y + ky]![2 * xx + kx]!;
        return sum;
      }),
    ),
  );
}

function reference(r: ExportResult, hidden: number, heads: number, pairs: string): number[] {
  const k = hidden / heads;
  const w = (name: string) => initializer(r, `head.${name}`);
  const table = initializer(r, 'embed.weight');
  return IDS.flatMap((row) => {
    const x = row.map((id) => Array.from(table.subarray(id * D, (id + 1) * D)));
    const mean = matvec(w('classifier_mean'), x[0]!, C, w('classifier_mean_bias'));
    const tokens = x.slice(1);
    const n = tokens.length;
    // [N, heads, k], each group LayerNorm-ed with the shared norm (eps 1e-5).
    const groups = tokens.map((t) => {
      const z = matvec(w('proj'), t, hidden, w('proj_bias'));
      return Array.from({ length: heads }, (_, h) => {
        const v = z.slice(h * k, (h + 1) * k);
        const mu = v.reduce((a, b) => a + b, 0) / k;
        const variance = v.reduce((a, b) => a + (b - mu) ** 2, 0) / k;
        return v.map((e, c) => ((e - mu) / Math.sqrt(variance + 1e-5)) * w('norm')[c]! + w('norm_bias')[c]!);
      });
    });
    const centred = (h: number): number[][] => {
      const m = groups.reduce((a, g) => a + g[h]!.reduce((s, e) => s + e, 0), 0) / (n * k);
      return groups.map((g) => g[h]!.map((e) => e - m));
    };
    const maps = pairList(pairs, heads).map(([i, j]) => {
      const a = centred(i);
      const b = centred(j);
      const cov = Array.from({ length: k }, (_, p) => Array.from({ length: k }, (_, q) => a.reduce((s, _row, t) => s + a[t]![p]! * b[t]![q]!, 0) / n));
      if (pairs === 'all') return cov;
      // F.normalize(dim=2) of [B, 1, k, k]: each column over the rows index.
      return cov.map((line, p) => line.map((e, q) => e / Math.max(Math.sqrt(cov.reduce((s, l) => s + l[q]! ** 2, 0)), 1e-12) + 0 * p));
    });
    const down = conv(conv(maps, w('down1')).map((m) => m.map((l) => l.map(gelu))), w('down2'));
    const cov = matvec(w('classifier_cov'), down.flat(2), C, w('classifier_cov_bias'));
    return mean.map((m, c) => (m + cov[c]!) / 2);
  });
}

test('MomentProbe: first and second moments of the tokens; initializers = params.stored; equals Moment_Probing_ViT\'s forward', async () => {
  for (const [args, hidden, heads, pairs, p] of [
    ['hidden: 44, heads: 4', 44, 4, 'near', 3],
    ['hidden: 44, heads: 4, pairs: half', 44, 4, 'half', 2],
    ['hidden: 27, heads: 3, pairs: all', 27, 3, 'all', 3],
  ] as const) {
    const r = exportModel(spec(args), 'M', { ops: 'standard' });
    assert.equal(r.initializerElements, r.storedParams, args);
    // The layer's parameters by hand: proj, the shared norm, two P×P 3×3 kernels, both classifiers.
    const k = hidden / heads;
    const side = Math.floor((Math.floor((k - 3) / 2) + 1 - 3) / 2) + 1;
    const head = D * hidden + hidden + 2 * k + 2 * 9 * p * p + (D + 1) * C + (p * side * side + 1) * C;
    assert.equal(r.storedParams, BigInt(V * D + head), args);
    assertClose(await runChecked(r, { input_ids: idRows(IDS) }), reference(r, hidden, heads, pairs), 1e-4, args);
  }
});
