// `npas allocate` in-process: the table, --json, --emit (budgets to exactly B), --sweep, and
// refusals with exit 2; checkpoint grouping on small .safetensors files generated here (F32, F16,
// BF16), with corrupt headers, truncated data, wrong dtypes, missing tensors and wrong shapes each
// refused cleanly.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyze, readArchitecture } from '../../src/core/index.js';
import { runInProcess, type CliRun } from './run-in-process.js';

const TINY = `model Tiny {
  d = 16
  block B {
    attn = Attention(d, heads: 2)
    norm = RMSNorm(d)
    mlp  = MLP(d, 32)
  }
  embed   = Embedding(50, d)
  body    = B * 4
  lm_head = Linear(d, 50) tied embed
}
model Other {
  a = Linear(4, 4)
}
`;

const dir = mkdtempSync(join(tmpdir(), 'npas-allocate-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const specPath = join(dir, 'tiny.npas');
writeFileSync(specPath, TINY);

const run = runInProcess;

function refused(r: CliRun, pattern: RegExp): void {
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

const total = (): number => Number(analyze(TINY).models[0]!.params.stored);

test('the table states stored, unused, cost and the groups', () => {
  const r = run('allocate', specPath, '--model', 'Tiny', '--params', '5000');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Tiny: NPAS plan at 5,000 stored params/);
  assert.match(r.stdout, /stored {5}5,000 = stores [\d,]+ \+ coefficients \d+ \+ fixed [\d,]+/);
  assert.match(r.stdout, /unused {5}0 store entries/);
  assert.match(r.stdout, /inference FLOPs and KV cache unchanged/);
  assert.match(r.stdout, /body\[3\]\.mlp\.down/);
});

test('--json has target, stored, unused, groups and layers', () => {
  const r = run('allocate', specPath, '--model', 'Tiny', '--params', '50%', '--groups', 'shape', '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { target: number; stored: number; unused: number; groups: { id: string; params: number; layers: string[] }[]; layers: { path: string; group: string; generator: { kind: string; templates: number } }[] };
  assert.equal(j.target, Math.floor(total() / 2));
  assert.equal(j.stored, j.target);
  assert.equal(j.unused, 0);
  assert.equal(j.layers.length, 1 + 4 * 6);
  for (const g of j.groups) for (const p of g.layers) assert.equal(j.layers.find((l) => l.path === p)!.group, g.id);
  assert.ok(j.layers.every((l) => typeof l.generator.kind === 'string' && l.generator.templates >= 1));
});

test('--emit prints a variant that budgets to exactly B', () => {
  for (const [params, groups, method] of [['3000', 'all', 'wavg'], ['12K', 'role', 'repeat'], ['300%', 'depth:2', 'hash'], ['6000', 'cluster:3', 'wavg(4)']] as const) {
    const r = run('allocate', specPath, '--model', 'Tiny', '--params', params, '--groups', groups, '--method', method, '--emit');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^# NPAS plan for Tiny/);
    const a = analyze(`${TINY}\n${r.stdout}`);
    assert.deepEqual(a.diagnostics.filter((d) => d.severity === 'error'), []);
    const expected = params.endsWith('%') ? Math.floor((total() * 3)) : params === '12K' ? 12_000 : Number(params);
    assert.equal(a.models.find((m) => m.name === 'Tiny_npas')!.params.stored, BigInt(expected));
  }
});

test('--emit picks a variant name the file does not use yet', () => {
  const path = join(dir, 'taken.npas');
  writeFileSync(path, `${TINY}variant Tiny_npas of Tiny {\n  freeze embed\n}\n`);
  const r = run('allocate', path, '--model', 'Tiny', '--params', '4000', '--emit');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /variant Tiny_npas2 of Tiny/);
  const a = analyze(`${TINY}variant Tiny_npas of Tiny {\n  freeze embed\n}\n${r.stdout}`);
  assert.equal(a.models.find((m) => m.name === 'Tiny_npas2')!.params.stored, 4000n);
});

test('--sweep prints every strategy at every budget and marks the frontier', () => {
  const r = run('allocate', specPath, '--model', 'Tiny', '--sweep', '1%..400%');
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout.trim().split('\n').slice(2);
  assert.equal(rows.length, 9 * 6);
  // One frontier row per budget that some strategy can meet (1% of this tiny model is below its norms).
  const budgets = new Set(rows.map((l) => l.slice(1, 18).trim()));
  const feasible = [...budgets].filter((b) => rows.some((l) => l.slice(1, 18).trim() === b && !l.includes('refused')));
  assert.equal(rows.filter((l) => l.startsWith('*')).length, feasible.length);
  assert.ok(rows.filter((l) => l.startsWith('*')).every((l) => !l.includes('refused')));
  assert.ok(feasible.length >= 6);
  assert.match(r.stdout, /auto→all/);
  const j = run('allocate', specPath, '--model', 'Tiny', '--sweep', '2000..8000', '--groups', 'shape', '--json');
  assert.equal(j.code, 0, j.stderr);
  const parsed = JSON.parse(j.stdout) as { rows: { budget: number; stored?: number; refused?: string }[] };
  assert.equal(parsed.rows.length, 9);
  for (const row of parsed.rows) assert.ok(row.stored === row.budget || row.refused !== undefined);
});

test('refusals exit 2 with the reason', () => {
  refused(run('allocate', specPath, '--model', 'Tiny', '--params', '10'), /below the minimum of \d+ for all grouping: \d+ fixed/);
  refused(run('allocate', specPath, '--model', 'Tiny', '--params', '0'), /positive whole number/);
  refused(run('allocate', specPath, '--model', 'Tiny', '--params', '1.5'), /not a whole number/);
  refused(run('allocate', specPath, '--model', 'Tiny', '--params', 'lots'), /--params must be a whole number/);
  refused(run('allocate', specPath, '--model', 'Tiny'), /--params N is required/);
  refused(run('allocate', specPath, '--params', '1000'), /several models \(Tiny, Other\); name one with --model/);
  refused(run('allocate', specPath, '--model', 'Nope', '--params', '1000'), /no model or variant named 'Nope'/);
  refused(run('allocate', specPath, '--model', 'Tiny', '--params', '1000', '--groups', 'stripes'), /unknown grouping 'stripes'/);
  refused(run('allocate', specPath, '--model', 'Tiny', '--params', '1000', '--method', 'magic'), /unknown method 'magic'/);
  refused(run('allocate', specPath, '--model', 'Tiny', '--sweep', '5..1'), /TO is below FROM/);
  refused(run('allocate', join(dir, 'missing.npas'), '--params', '1'), /no such file/);
});

// --- checkpoints -------------------------------------------------------------------------

type DType = 'F32' | 'F16' | 'BF16' | 'I64';

function encode(values: Float32Array, dtype: DType): Uint8Array {
  if (dtype === 'F32' || dtype === 'I64') return new Uint8Array(values.buffer.slice(0));
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  const f = new DataView(new ArrayBuffer(4));
  values.forEach((v, i) => {
    f.setFloat32(0, v);
    const bits = f.getUint32(0);
    if (dtype === 'BF16') view.setUint16(2 * i, bits >>> 16, true);
    else {
      // float32 → float16 for normal magnitudes (the test values are in (−2, 2)).
      const sign = (bits >>> 16) & 0x8000;
      const exp = ((bits >>> 23) & 0xff) - 127 + 15;
      const frac = (bits >>> 13) & 0x3ff;
      view.setUint16(2 * i, exp <= 0 ? sign : sign | (exp << 10) | frac, true);
    }
  });
  return out;
}

/** A safetensors file: 8-byte LE header length, JSON header, data. */
function safetensors(tensors: { name: string; shape: number[]; values: Float32Array; dtype: DType }[], tweak?: (header: Record<string, unknown>) => void): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const t of tensors) {
    let data = encode(t.values, t.dtype);
    if (t.dtype === 'I64') data = new Uint8Array(t.values.length * 8);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + data.length] };
    chunks.push(data);
    offset += data.length;
  }
  tweak?.(header);
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const c of chunks) (out.set(c, at), (at += c.length));
  return out;
}

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

/** Tensors of Tiny's weights: every attn.q is one pattern plus small noise, everything else random. */
function tinyTensors(dtype: DType, pytorchNames = false): { name: string; shape: number[]; values: Float32Array; dtype: DType }[] {
  const arch = readArchitecture(TINY, 'Tiny');
  assert.ok(arch.ok);
  const rnd = random(42);
  const pattern = Float32Array.from({ length: 256 }, () => rnd());
  return arch.input.items.map((it, i) => {
    const noise = random(1000 + i);
    const values = it.path.endsWith('attn.q') ? pattern.map((v) => v + 0.05 * noise()) : Float32Array.from({ length: it.numel * it.copies }, () => noise());
    const name = pytorchNames ? it.path.replace(/\[(\d+)\]/g, '.$1') : it.path;
    return { name, shape: [...it.shape], values, dtype };
  });
}

function writeCheckpoint(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

test('checkpoint grouping: similar weights share a store, for F32, F16 and BF16 checkpoints', () => {
  for (const dtype of ['F32', 'F16', 'BF16'] as const) {
    const path = writeCheckpoint(`tiny-${dtype}.safetensors`, safetensors(tinyTensors(dtype, dtype === 'F16')));
    const r = run('allocate', specPath, '--model', 'Tiny', '--params', '8000', '--groups', `checkpoint:${path}`, '--json');
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { stored: number; unused: number; groups: { id: string; layers: string[] }[] };
    assert.equal(j.stored, 8000);
    assert.equal(j.unused, 0);
    const q = j.groups.find((g) => g.layers.includes('body[0].attn.q'))!;
    assert.deepEqual(q.layers, ['body[0].attn.q', 'body[1].attn.q', 'body[2].attn.q', 'body[3].attn.q'], `${dtype}: the four similar q projections form one group`);
    // The k projections (same shape, unrelated values) share the per-shape residual group, not q's.
    assert.ok(!q.layers.some((p) => p.endsWith('attn.k')));
    const emitted = run('allocate', specPath, '--model', 'Tiny', '--params', '8000', '--groups', `checkpoint:${path}`, '--emit');
    assert.equal(analyze(`${TINY}\n${emitted.stdout}`).models.find((m) => m.name === 'Tiny_npas')!.params.stored, 8000n);
  }
});

test('broken checkpoints are refused cleanly', () => {
  const good = tinyTensors('F32');
  const ck = (name: string, bytes: Uint8Array): string[] => ['allocate', specPath, '--model', 'Tiny', '--params', '8000', '--groups', `checkpoint:${writeCheckpoint(name, bytes)}`];
  const valid = safetensors(good);
  refused(run(...ck('short.safetensors', valid.slice(0, 5))), /not a safetensors file: 5 bytes/);
  const huge = valid.slice();
  new DataView(huge.buffer).setUint32(4, 7, true);
  refused(run(...ck('huge-header.safetensors', huge)), /corrupt safetensors header: it claims \d+ header bytes/);
  const notJson = valid.slice();
  notJson[8] = 0x5b; // '[' where '{' was: an array, or invalid JSON
  notJson[9] = 0x7d;
  refused(run(...ck('not-json.safetensors', notJson)), /corrupt safetensors header: (it is not valid UTF-8 JSON|expected a JSON object)/);
  const badUtf8 = valid.slice();
  badUtf8[10] = 0xff;
  refused(run(...ck('bad-utf8.safetensors', badUtf8)), /not valid UTF-8 JSON/);
  refused(run(...ck('truncated-header.safetensors', valid.slice(0, 20))), /truncated safetensors file: the header needs/);
  refused(run(...ck('truncated-data.safetensors', valid.slice(0, valid.length - 10))), /truncated safetensors file: tensor '.*' ends at data byte \d+ but the file holds \d+ data bytes/);
  refused(run(...ck('bad-offsets.safetensors', safetensors(good, (h) => ((h['embed.weight'] as { data_offsets: number[] }).data_offsets = [0, 12])))), /tensor 'embed\.weight' \(F32 50×16\) needs 3200 bytes but its offsets span 12/);
  refused(run(...ck('no-dtype.safetensors', safetensors(good, (h) => {
    const t = h['embed.weight'] as { dtype?: string };
    delete t.dtype;
  }))), /tensor 'embed\.weight' needs dtype, shape and data_offsets/);
  refused(run(...ck('odd-dtype.safetensors', safetensors(good, (h) => ((h['embed.weight'] as { dtype: string }).dtype = 'Q4')))), /unknown dtype 'Q4'/);
  const wrongDtype = good.map((t) => (t.name === 'body[1].mlp.up' ? { ...t, dtype: 'I64' as const } : t));
  refused(run(...ck('i64.safetensors', safetensors(wrongDtype))), /tensor 'body\[1\]\.mlp\.up' has dtype I64; checkpoint grouping reads F32, F16 or BF16/);
  refused(run(...ck('missing.safetensors', safetensors(good.filter((t) => t.name !== 'body[2].attn.v')))), /no tensor for 'body\[2\]\.attn\.v' \(looked for 'body\[2\]\.attn\.v' or 'body\.2\.attn\.v'\)/);
  const reshaped = good.map((t) => (t.name === 'embed.weight' ? { ...t, shape: [40, 16], values: t.values.slice(0, 640) } : t));
  refused(run(...ck('shape.safetensors', safetensors(reshaped))), /tensor 'embed\.weight' is 40×16 but 'embed\.weight' has 50×16/);
  refused(run('allocate', specPath, '--model', 'Tiny', '--params', '8000', '--groups', `checkpoint:${join(dir, 'absent.safetensors')}`), /absent\.safetensors: no such file/);
  // A directory opens on Linux and failed at the first read (EISDIR, exit 70): now exit 2.
  refused(run('allocate', specPath, '--model', 'Tiny', '--params', '8000', '--groups', `checkpoint:${dir}`), /is a directory \(checkpoint: needs a \.safetensors file\)/);
});
