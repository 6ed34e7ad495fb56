// `npas probe --shared-prefix N --continuations K` on the CPU provider: the probe host measures the
// packed prefill (rows of P + k·C tokens) and the shared prompt's decode step (k tokens per
// sequence over the prompt's cache held once), and reports them beside the engine's figures —
// every figure here derived by hand from the model's shapes (docs/language.md, "Shared prompts"),
// not read back from the engine. Bad combinations are refused at the flag that makes them bad.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProbe } from '../../kernels/probe-client.js';
import type { ProbeParams, ProbeResult } from '../../src/protocol/kernel-rpc.js';
import { CapturedIo } from '../cli/captured-io.js';
import { D, H, HD, KV, LAYERS, VOCAB, tinyLlama } from './tiny-llama.js';

const host = join(__dirname, '..', '..', 'kernels', 'probe-host.ts');

const SPEC = tinyLlama('Llama');

const P = 5;
const K = 3;
const S = 9;
const C = S - P;
const B = 2;

// By hand. Weight MACs per token: per layer q 32·32, k and v 32·16 each, o 32·32, GatedMLP 3·32·64;
// the LM head 32·61.
const WEIGHT_MACS = LAYERS * (D * H * HD + 2 * D * KV * HD + H * HD * D + 3 * D * 64) + D * VOCAB; // 20,384
// Attention FLOPs per query and key in a layer: 2·heads·(score + value dims).
const PER_KEY = 2 * H * 2 * HD; // 128
/** Keys a causal prefill of s tokens attends in a layer, each query itself included: s(s + 1)/2. */
const causal = (s: number) => (s * (s + 1)) / 2;
// Shared: the prompt causally, then each continuation over the prompt and itself.
const SHARED_KEYS = causal(P) + K * (causal(S) - causal(P)); // 15 + 3·30 = 105
const PACKED = P + K * C; // 17 tokens per row
const SHARED_PREFILL = B * (2 * WEIGHT_MACS * PACKED + LAYERS * PER_KEY * SHARED_KEYS);
const APART_PREFILL = B * K * (2 * WEIGHT_MACS * S + LAYERS * PER_KEY * causal(S));
// KV per position and layer: K and V, kv_heads · head_dim each, 4 bytes (fp32).
const KV_BYTES = (positions: number) => LAYERS * 2 * KV * HD * positions * 4;
const SHARED_KV = KV_BYTES(B * (P + K * C)); // the prompt once per sequence, each continuation's own
const APART_KV = KV_BYTES(B * K * S);
// The decode step: B·K tokens, each attending S keys as the engine charges them.
const DECODE = B * K * (2 * WEIGHT_MACS + LAYERS * PER_KEY * S);

const params = (over: Partial<ProbeParams> = {}): ProbeParams => ({ specText: SPEC, model: 'Llama', ep: 'cpu', batch: B, seq: S, dtype: 'fp32', runs: 2, warmup: 1, sharedPrefix: P, continuations: K, ...over });

test('the probe measures the packed prefill and the shared decode step beside the engine, every figure by hand', async () => {
  assert.equal(WEIGHT_MACS, 20_384);
  const out = await runProbe(params(), { hostPath: host, timeoutMs: 120_000 });
  assert.ok(out.ok, out.ok ? '' : `${out.kind}: ${out.message}`);
  const r = out.result;
  assert.equal(r.initializerElements, r.storedParams);
  assert.ok(r.prefill.medianMs > 0);
  assert.equal(r.prefill.flops, String(SHARED_PREFILL));
  assert.ok(!('unavailable' in r.decode), 'the decode step is measured');
  if ('unavailable' in r.decode) return;
  assert.ok(r.decode.medianMs > 0);
  assert.equal(r.decode.flops, String(DECODE));
  assert.equal(r.decode.kvCacheElements, String(SHARED_KV / 4));
  assert.deepEqual(r.sharedPrefix, {
    tokens: P,
    continuations: K,
    packedTokens: PACKED,
    unsharedTokens: K * S,
    prefillFlops: String(SHARED_PREFILL),
    unsharedPrefillFlops: String(APART_PREFILL),
    kvCacheBytes: String(SHARED_KV),
    unsharedKvCacheBytes: String(APART_KV),
    decodeKvCacheElements: String(SHARED_KV / 4),
    decodeKvCacheBytes: String(SHARED_KV),
  });
  assert.ok(r.notes.some((n) => n.startsWith(`Shared prompt: each row of the prefill packs the prompt's ${P} tokens and ${K} continuations of ${C}, ${PACKED} tokens`)));
  assert.ok(r.notes.some((n) => n.includes(`input ids [${B}, ${K}]`) && n.includes("= the engine's KV")));
});

test('without a shared prompt the same probe measures rows of seq tokens and one token per sequence', async () => {
  const out = await runProbe(params({ sharedPrefix: undefined, continuations: undefined, batch: B * K }), { hostPath: host, timeoutMs: 120_000 });
  assert.ok(out.ok, out.ok ? '' : `${out.kind}: ${out.message}`);
  const r = out.result;
  assert.equal(r.sharedPrefix, undefined);
  // The k continuations apart: the engine's unshared figures, as the shared probe reported them.
  assert.equal(r.prefill.flops, String(APART_PREFILL));
  if (!('unavailable' in r.decode)) assert.equal(r.decode.kvCacheElements, String(APART_KV / 4));
});

test('npas probe --shared-prefix N --continuations K prints the shared prompt line and refuses bad combinations at the flag', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'npas-probe-shared-'));
  try {
    const spec = join(dir, 'llama.npas');
    writeFileSync(spec, SPEC);
    const io = new CapturedIo((p: string) => (p === spec ? SPEC : ''));
    const { runProbeCommand } = await import('../../src/cli/commands/probe.js');
    const base = [spec, '--model', 'Llama', '--ep', 'cpu', '--seq', String(S), '--batch', String(B), '--runs', '1', '--warmup', '0'];
    assert.equal(await runProbeCommand([...base, '--shared-prefix', String(P), '--continuations', String(K)], io, { hostPath: host }), 0, io.err);
    assert.match(io.out, /shared prompt +5 tokens \+ 3 continuations: rows of 17 tokens \(apart 27\); .* KV 8,704 B \(apart 13,824 B\); decode step's cache 8,704 B = engine KV/);
    io.out = '';
    assert.equal(await runProbeCommand([...base, '--shared-prefix', String(P), '--continuations', String(K), '--json'], io, { hostPath: host }), 0, io.err);
    assert.equal((JSON.parse(io.out) as ProbeResult).sharedPrefix?.packedTokens, PACKED);
    // Refused while reading the flags, before any host starts: through the CLI's entry point.
    const { mainAsync } = await import('../../src/cli/main.js');
    const refusal = async (args: string[], pattern: RegExp) => {
      io.err = '';
      assert.equal(await mainAsync(['probe', ...args], io), 2);
      assert.match(io.err, pattern);
    };
    await refusal([...base, '--shared-prefix', String(S)], /^npas: probe: --shared-prefix 9 must be below --seq 9: each continuation needs a token of its own/);
    await refusal([...base, '--continuations', '3'], /^npas: probe: --continuations applies to a shared prompt \(--shared-prefix N\)/);
    await refusal([...base, '--shared-prefix', '0'], /^npas: --shared-prefix must be /);
    await refusal([...base, '--shared-prefix', '4', '--src-seq', '16'], /^npas: probe: --shared-prefix shares a decoder's prompt; --src-seq is an encoder-decoder's source length/);
    // A request file names its fields instead of flags.
    const requestFile = join(dir, 'request.json');
    const request = { specPath: spec, model: 'Llama', ep: 'cpu', seq: S, sharedPrefix: 12 };
    const fileIo = { ...io, readFile: (p: string) => (p === requestFile ? JSON.stringify(request) : io.readFile(p)) };
    io.out = '';
    assert.equal(await mainAsync(['probe', '--request', requestFile], fileIo), 2);
    const failure = JSON.parse(io.out) as { error: { kind: string; message: string } };
    assert.equal(failure.error.kind, 'spec');
    assert.match(failure.error.message, /request\.json: "sharedPrefix" 12 must be below .*request\.json: "seq" 9/);
    // A model the packed prefill cannot keep apart comes back as a spec error, named.
    const ssm = join(dir, 'ssm.npas');
    const ssmText = `model Ssm {\n  embed = Embedding(${VOCAB}, 16)\n  mix   = Mamba(16)\n}\n`;
    writeFileSync(ssm, ssmText);
    io.err = '';
    const ssmIo = { ...io, readFile: (p: string) => (p === ssm ? ssmText : '') };
    assert.equal(await runProbeCommand([ssm, '--model', 'Ssm', '--ep', 'cpu', '--seq', String(S), '--shared-prefix', String(P), '--runs', '1'], ssmIo, { hostPath: host }), 2);
    assert.match(io.err, /mix: a prompt shared by continuations .* causal self-Attention only; Mamba would mix the continuations/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
