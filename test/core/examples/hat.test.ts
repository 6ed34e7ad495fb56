// examples/hat.npas against HAT's published SubTransformers and its SuperTransformer space (Wang et
// al., ACL 2020; mit-han-lab/hardware-aware-transformers@70e5a279d080670208249fdd98ed731fa9bcc466).
// The configs below are configs/wmt14.en-de/subtransformer/*.yml copied value for value, and the
// published #Params (M) are the README's table ("do not count in the embedding lookup table and the
// last output layers"). Each is reproduced as a subnet of HATSpace, exactly against HAT's own
// counting (fairseq/models/transformer_super.py get_sampled_params_numel: LinearSuper,
// LayerNormSuper and MultiheadAttentionSuper.calc_sampled_param_num, written out here) and to the
// README's two decimals. The space size is derived from supertransformer/space0.yml's choice lists.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeSupernet, compile, enumerateSubnets, exactClass, parseSubnetFilter, subnetClasses, subnetVariant, type Supernet } from '../../../src/core/index.js';
import { supernetData } from '../../../src/core/layout/supernet-data.js';

const TEXT = readFileSync(join(__dirname, '..', '..', '..', 'examples', 'hat.npas'), 'utf8');
const compilation = compile(TEXT);

const cache = new Map<string, Supernet>();
function supernet(model: string): Supernet {
  const known = cache.get(model);
  if (known) return known;
  assert.deepEqual(compilation.diagnostics.map((d) => d.message), []);
  const r = analyzeSupernet(compilation, model, compilation.settings({}));
  if ('error' in r) assert.fail(r.error);
  cache.set(model, r.supernet);
  return r.supernet;
}

// space0.yml: the SubTransformer search space.
const SPACE0 = {
  encoderEmbed: [640, 512],
  decoderEmbed: [640, 512],
  encoderFfn: [3072, 2048, 1024],
  decoderFfn: [3072, 2048, 1024],
  encoderLayers: [6],
  decoderLayers: [6, 5, 4, 3, 2, 1],
  encoderHeads: [8, 4],
  decoderHeads: [8, 4],
  endeHeads: [8, 4],
  arbitraryEndeAttn: [-1, 1, 2],
};
const QKV = 512;

interface SubTransformer {
  readonly name: string;
  /** README, #Params (M). */
  readonly publishedM: string;
  readonly enc: number;
  readonly dec: number;
  readonly encFfn: readonly number[];
  readonly encHeads: readonly number[];
  readonly decFfn: readonly number[];
  readonly decHeads: readonly number[];
  readonly endeHeads: readonly number[];
}

// configs/wmt14.en-de/subtransformer/HAT_wmt14ende_*.yml (decoder lists of decoder-layer-num entries).
const SUBS: readonly SubTransformer[] = [
  { name: 'raspberrypi@3.5s_bleu@25.8', publishedM: '25.22', enc: 512, dec: 512, encFfn: [1024, 3072, 3072, 2048, 2048, 2048], encHeads: [4, 8, 4, 4, 4, 8], decFfn: [3072], decHeads: [8], endeHeads: [8] },
  { name: 'raspberrypi@4.0s_bleu@26.9', publishedM: '29.42', enc: 512, dec: 512, encFfn: [3072, 2048, 3072, 2048, 3072, 2048], encHeads: [8, 8, 8, 4, 8, 8], decFfn: [1024, 2048], decHeads: [4, 4], endeHeads: [8, 8] },
  { name: 'raspberrypi@4.5s_bleu@27.6', publishedM: '35.72', enc: 512, dec: 512, encFfn: [3072, 3072, 3072, 3072, 3072, 3072], encHeads: [4, 8, 8, 4, 8, 8], decFfn: [3072, 3072], decHeads: [8, 8], endeHeads: [8, 8] },
  { name: 'raspberrypi@5.0s_bleu@27.8', publishedM: '36.77', enc: 512, dec: 512, encFfn: [3072, 3072, 3072, 2048, 3072, 3072], encHeads: [8, 8, 8, 8, 8, 4], decFfn: [1024, 2048, 3072], decHeads: [4, 8, 8], endeHeads: [4, 8, 8] },
  { name: 'raspberrypi@6.0s_bleu@28.2', publishedM: '44.13', enc: 512, dec: 512, encFfn: [3072, 3072, 3072, 3072, 3072, 3072], encHeads: [4, 4, 4, 8, 8, 4], decFfn: [2048, 2048, 3072, 3072], decHeads: [4, 8, 8, 4], endeHeads: [4, 8, 8, 8] },
  { name: 'raspberrypi@6.9s_bleu@28.4', publishedM: '48.33', enc: 512, dec: 512, encFfn: [3072, 3072, 3072, 3072, 3072, 3072], encHeads: [8, 4, 8, 8, 8, 8], decFfn: [2048, 2048, 3072, 3072, 2048], decHeads: [8, 8, 8, 4, 8], endeHeads: [4, 8, 8, 8, 8] },
  { name: 'xeon@137.9ms_bleu@25.8', publishedM: '30.47', enc: 512, dec: 512, encFfn: [3072, 3072, 3072, 3072, 3072, 3072], encHeads: [4, 8, 8, 8, 8, 8], decFfn: [3072], decHeads: [8], endeHeads: [8] },
  { name: 'xeon@204.2ms_bleu@27.6', publishedM: '35.72', enc: 512, dec: 512, encFfn: [3072, 3072, 3072, 3072, 3072, 3072], encHeads: [4, 8, 8, 4, 8, 8], decFfn: [3072, 3072], decHeads: [8, 8], endeHeads: [8, 8] },
  { name: 'xeon@278.7ms_bleu@27.9', publishedM: '40.97', enc: 512, dec: 512, encFfn: [3072, 3072, 3072, 3072, 3072, 3072], encHeads: [4, 4, 8, 8, 8, 4], decFfn: [3072, 3072, 3072], decHeads: [8, 8, 8], endeHeads: [4, 8, 8] },
  { name: 'xeon@340.2ms_bleu@28.1', publishedM: '46.23', enc: 512, dec: 512, encFfn: [3072, 3072, 3072, 3072, 3072, 3072], encHeads: [4, 4, 8, 8, 8, 4], decFfn: [3072, 3072, 3072, 3072], decHeads: [8, 8, 8, 4], endeHeads: [4, 8, 8, 8] },
  { name: 'xeon@369.6ms_bleu@28.2', publishedM: '51.48', enc: 512, dec: 512, encFfn: [3072, 3072, 3072, 3072, 3072, 3072], encHeads: [8, 4, 8, 8, 8, 4], decFfn: [3072, 3072, 3072, 3072, 3072], decHeads: [8, 8, 8, 4, 8], endeHeads: [4, 8, 8, 8, 8] },
  { name: 'xeon@450.9ms_bleu@28.5', publishedM: '56.73', enc: 512, dec: 512, encFfn: [3072, 3072, 3072, 3072, 3072, 3072], encHeads: [4, 4, 8, 8, 8, 4], decFfn: [3072, 3072, 3072, 3072, 3072, 3072], decHeads: [8, 8, 8, 4, 4, 4], endeHeads: [4, 8, 8, 8, 8, 8] },
  { name: 'titanxp@57.1ms_bleu@25.8', publishedM: '30.47', enc: 512, dec: 512, encFfn: [3072, 3072, 3072, 3072, 3072, 3072], encHeads: [4, 8, 8, 8, 8, 8], decFfn: [3072], decHeads: [8], endeHeads: [8] },
  { name: 'titanxp@91.2ms_bleu@27.6', publishedM: '35.72', enc: 512, dec: 512, encFfn: [3072, 3072, 3072, 3072, 3072, 3072], encHeads: [4, 8, 8, 4, 8, 8], decFfn: [3072, 3072], decHeads: [8, 8], endeHeads: [8, 8] },
  { name: 'titanxp@126.0ms_bleu@27.9', publishedM: '40.97', enc: 512, dec: 512, encFfn: [3072, 3072, 3072, 3072, 3072, 3072], encHeads: [4, 4, 8, 8, 8, 4], decFfn: [3072, 3072, 3072], decHeads: [8, 8, 8], endeHeads: [4, 8, 8] },
  { name: 'titanxp@146.7ms_bleu@28.1', publishedM: '51.20', enc: 640, dec: 640, encFfn: [3072, 3072, 3072, 3072, 3072, 3072], encHeads: [4, 8, 8, 8, 4, 4], decFfn: [3072, 3072, 3072], decHeads: [8, 8, 8], endeHeads: [4, 8, 8] },
  { name: 'titanxp@208.1ms_bleu@28.5', publishedM: '49.38', enc: 512, dec: 512, encFfn: [3072, 3072, 3072, 3072, 3072, 3072], encHeads: [8, 4, 8, 8, 8, 4], decFfn: [2048, 2048, 3072, 3072, 3072], decHeads: [8, 8, 8, 4, 8], endeHeads: [4, 8, 8, 8, 8] },
];

// HAT's counting, module by module (the heads never enter: q, k, v project to qkv_dim = 512).
// MultiheadAttentionSuper: q [qkv, q_in] + k, v [qkv, kv_in] + the whole in_proj_bias 3·qkv; its out_proj LinearSuper [q_in, qkv] + bias q_in.
const mha = (qIn: number, kvIn: number): number => qIn * QKV + 2 * kvIn * QKV + 3 * QKV + (QKV * qIn + qIn);
const layerNorm = (d: number): number => 2 * d;
const ffn = (d: number, f: number): number => d * f + f + (f * d + d);
const encoderLayer = (e: number, f: number): number => mha(e, e) + layerNorm(e) + ffn(e, f) + layerNorm(e);
const decoderLayer = (d: number, e: number, f: number): number => mha(d, d) + layerNorm(d) + mha(d, e) + layerNorm(d) + ffn(d, f) + layerNorm(d);
const hatParams = (c: SubTransformer): number =>
  c.encFfn.reduce((sum, f) => sum + encoderLayer(c.enc, f), 0) + c.decFfn.reduce((sum, f) => sum + decoderLayer(c.dec, c.enc, f), 0);

/** The subnet of `s` a config is: its point and each stack's instance counts per choice, matched by block call. */
function subnetOf(s: Supernet, c: SubTransformer) {
  const point = s.points.findIndex((pt) => pt.values[0] === String(c.enc) && pt.values[1] === String(c.dec));
  assert.ok(point >= 0, c.name);
  const pt = s.points[point]!;
  const counts = (j: number, calls: readonly string[]): number[] => {
    const choices = pt.stacks[j]!.choices.map((x) => x.call);
    const out = choices.map(() => 0);
    for (const call of calls) {
      const k = choices.indexOf(call);
      assert.ok(k >= 0, `${c.name}: ${call} is a choice`);
      out[k]!++;
    }
    return out;
  };
  const enc = c.encFfn.map((f, i) => `EncoderLayer(ffn: ${f}, heads: ${c.encHeads[i]})`);
  const dec = c.decFfn.map((f, i) => `DecoderLayer(ffn: ${f}, heads: ${c.decHeads[i]}, ende_heads: ${c.endeHeads[i]})`);
  return exactClass(s, point, [
    { stack: 'encoder', depth: enc.length, counts: counts(0, enc) },
    { stack: 'decoder', depth: dec.length, counts: counts(1, dec) },
  ], 1n);
}

test('HAT: every published WMT\'14 En-De SubTransformer is a subnet of HATSpace with the published parameters', () => {
  const s = supernet('HATSpace');
  assert.equal(SUBS.length, 17);
  for (const c of SUBS) {
    const subnet = subnetOf(s, c);
    assert.equal(subnet.params.stored, BigInt(hatParams(c)), c.name);
    assert.equal((Number(subnet.params.stored) / 1e6).toFixed(2), c.publishedM, c.name);
  }
  // Raspberry Pi 3.5s, by hand: encoder 6·(2048·512 + 6·512 + 1536) + 1025·(1024 + 3·2048 + 2·3072) = 19,963,904;
  // its decoder layer 3072·512 + 1024·512 + 2·512·3072 + 9·512 + 3072 + 3072 = 5,253,632.
  assert.equal(hatParams(SUBS[0]!), 25_217_536);
  // --emit's text of a published subnet compiles to the same count.
  const c = SUBS[15]!;
  const text = subnetVariant(s, subnetOf(s, c), 'TitanXp146ms');
  assert.match(text, /^variant TitanXp146ms of HATSpace \{\n {2}enc_d = 640\n {2}dec_d = 640\n/);
  const back = compile(`${TEXT}\n${text}`);
  assert.deepEqual(back.diagnostics.map((d) => d.message), []);
  assert.equal(back.analysis().models.find((m) => m.name === 'TitanXp146ms')!.params.stored, BigInt(hatParams(c)));
  assert.equal(hatParams(c), 51_204_480);
});

test('HAT: the two SubTransformers written out in the example have their published parameters', () => {
  const models = compilation.analysis().models;
  assert.equal(models.find((m) => m.name === 'HATRaspberryPi3_5s')!.params.stored, BigInt(hatParams(SUBS[0]!)));
  assert.equal(models.find((m) => m.name === 'HATTitanXp146ms')!.params.stored, BigInt(hatParams(SUBS[15]!)));
});

test('HAT: the space of space0.yml, the SuperTransformer stored once, and the arbitrary attention left out', () => {
  const s = supernet('HATSpace');
  const sum = (xs: readonly number[], f: (x: number) => bigint): bigint => xs.reduce((acc, x) => acc + f(x), 0n);
  const widths = BigInt(SPACE0.encoderEmbed.length * SPACE0.decoderEmbed.length);
  const encoderChoices = BigInt(SPACE0.encoderFfn.length * SPACE0.encoderHeads.length);
  const decoderChoices = BigInt(SPACE0.decoderFfn.length * SPACE0.decoderHeads.length * SPACE0.endeHeads.length);
  const expressible = widths * sum(SPACE0.encoderLayers, (L) => encoderChoices ** BigInt(L)) * sum(SPACE0.decoderLayers, (L) => decoderChoices ** BigInt(L));
  assert.equal(s.subnets, expressible);
  assert.equal(s.subnets, 607_915_736_064n);
  // HAT's own space multiplies each decoder layer's choices by the 3 arbitrary-attention choices (the header's figure).
  const hat = widths * sum(SPACE0.encoderLayers, (L) => encoderChoices ** BigInt(L)) * sum(SPACE0.decoderLayers, (L) => (decoderChoices * BigInt(SPACE0.arbitraryEndeAttn.length)) ** BigInt(L));
  assert.equal(hat, 417_846_678_672_384n);
  // The SuperTransformer: every layer at 640 wide with FFN 3072, stored once.
  const superT = 6 * encoderLayer(640, 3072) + 6 * decoderLayer(640, 640, 3072);
  assert.equal(s.stored, BigInt(superT));
  assert.equal(s.stored, 70_900_992n);
  // Classes: per width pair, C(6 + 5, 5) encoder multisets × Σ_L C(L + 11, 11) decoder ones; too many to enumerate.
  const classes = 4n * binomial(6 + 5, 5) * [1, 2, 3, 4, 5, 6].reduce((acc, L) => acc + binomial(L + 11, 11), 0n);
  assert.equal(subnetClasses(s), classes);
  assert.equal(classes, 34_304_424n);
  assert.ok('error' in enumerateSubnets(s, { where: [], by: 'params.stored', top: 1 }));
});

test('HAT: the heads change no measured number, so HATSearch has HATSpace\'s numbers; its budget-feasible front', () => {
  const space = supernet('HATSpace');
  for (const pt of space.points) {
    for (const st of pt.stacks) {
      // Choices differing only in heads measure alike in every metric.
      const byFfn = new Map<string, string>();
      st.choices.forEach((c, k) => {
        const ffnOf = /ffn: (\d+)/.exec(c.call)![1]!;
        const v = st.perInstance[k]!.join(',');
        assert.equal(byFfn.get(ffnOf) ?? v, v, `${c.call} at ${pt.values.join(', ')}`);
        byFfn.set(ffnOf, v);
      });
    }
  }
  const s = supernet('HATSearch');
  assert.equal(s.subnets, 4n * 3n ** 6n * [1, 2, 3, 4, 5, 6].reduce((acc, L) => acc + 3n ** BigInt(L), 0n));
  assert.equal(s.subnets, 3_184_272n);
  const filter = parseSubnetFilter('params.active <= 40M');
  if ('error' in filter) assert.fail(filter.error);
  const r = enumerateSubnets(s, { where: filter.constraints, by: 'latency.decode', top: 5 });
  if ('error' in r) assert.fail(r.error);
  assert.equal(r.classes, 4 * 28 * 83);
  // The feasible count from HAT's formulas, over every subnet class with its orderings.
  let feasible = 0n;
  const ffns = SPACE0.encoderFfn;
  for (const e of SPACE0.encoderEmbed) {
    for (const d of SPACE0.decoderEmbed) {
      for (const enc of multisets(6, 3)) {
        const encParams = enc.reduce((acc, n, k) => acc + n * encoderLayer(e, ffns[k]!), 0);
        for (const L of SPACE0.decoderLayers) {
          for (const dec of multisets(L, 3)) {
            if (encParams + dec.reduce((acc, n, k) => acc + n * decoderLayer(d, e, ffns[k]!), 0) <= 40_000_000) feasible += orderings(enc) * orderings(dec);
          }
        }
      }
    }
  }
  assert.equal(r.feasibleSubnets, feasible);
  // The front's first: one decoder layer of the narrowest kind (the decode step reads the decoder's
  // weights, and the cross-attention's k and v are applied to the source once, not per step), under the
  // widest full encoder: 6·5,251,328 + (3072·512 + 1024·640 + 2·512·1024 + 9·512 + 1024 + 3072).
  const first = r.front[0]!;
  assert.deepEqual(first.globals, ['640', '512']);
  assert.equal(first.params.active, BigInt(6 * encoderLayer(640, 3072) + decoderLayer(512, 640, 1024)));
  assert.equal(first.params.active, 34_793_472n);
  for (let i = 1; i < r.front.length; i++) {
    assert.ok(r.front[i]!.latency.decode >= r.front[i - 1]!.latency.decode && r.front[i]!.params.active > r.front[i - 1]!.params.active);
  }
  assert.ok(r.front.every((c) => c.params.active <= 40_000_000n));
});

test('HAT: the Variants pane draws HATSearch\'s front and names the two widths; HATSpace says it has too many classes to walk', () => {
  const settings = compilation.settings({});
  const drawn = supernetData(compilation, 'HATSearch', settings)!;
  assert.equal(drawn.error, null);
  assert.equal(drawn.subnets, '3184272');
  assert.deepEqual(drawn.globals, [{ name: 'enc_d', values: ['640', '512'] }, { name: 'dec_d', values: ['640', '512'] }]);
  const r = enumerateSubnets(supernet('HATSearch'), { where: [], by: 'flops.decode', top: 0 });
  if ('error' in r) assert.fail(r.error);
  assert.equal(drawn.frontSize, r.front.length);
  assert.ok(drawn.frontSize > 1);
  assert.match(drawn.front[0]!.label, /^enc_d: \d+, dec_d: \d+; encoder depth 6: .*; decoder depth \d: /);
  const counted = supernetData(compilation, 'HATSpace', settings)!;
  assert.equal(counted.subnets, '607915736064');
  assert.match(counted.error ?? '', /34,304,424 subnet classes/);
});

/** Every way to put n instances into k choices (counts per choice). */
function multisets(n: number, k: number): number[][] {
  if (k === 1) return [[n]];
  const out: number[][] = [];
  for (let first = 0; first <= n; first++) for (const rest of multisets(n - first, k - 1)) out.push([first, ...rest]);
  return out;
}

/** n! / ∏ nₖ!: the orderings of a multiset. */
function orderings(counts: readonly number[]): bigint {
  const fact = (n: number): bigint => (n <= 1 ? 1n : BigInt(n) * fact(n - 1));
  return counts.reduce((acc, n) => acc / fact(n), fact(counts.reduce((a, b) => a + b, 0)));
}

function binomial(n: number, k: number): bigint {
  let r = 1n;
  for (let i = 1; i <= k; i++) r = (r * BigInt(n - k + i)) / BigInt(i);
  return r;
}
