// The CLI contract, in-process through main(argv, io) with a fake io, plus real runs of the
// bundled `node bin/npas.js`: output formats, exit codes (0 ok, 1 budget violated, 2 user or
// spec error), messages that name the flag or file at fault, and never a stack trace.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { main } from '../../src/cli/main.js';
import type { CliIO } from '../../src/cli/io.js';
import { analyze, lineColumn } from '../../src/core/index.js';

const root = join(__dirname, '..', '..');
const specs = join(root, 'test', 'fixtures', 'specs');
const hf = join(root, 'test', 'fixtures', 'hf');
const spec = (name: string): string => relative(root, join(specs, name));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly written: Map<string, string>;
}

/** Runs the CLI in-process; paths are read relative to the repository root. */
function run(...argv: string[]): Run {
  let stdout = '';
  let stderr = '';
  const written = new Map<string, string>();
  const io: CliIO = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    readFile: (p) => readFileSync(join(root, p), 'utf8'),
    writeFile: (p, t) => {
      if (p.startsWith('/forbidden/')) throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
      written.set(p, t);
    },
  };
  const code = main(argv, io);
  return { code, stdout, stderr, written };
}

function assertNoStack(r: { stdout: string; stderr: string }): void {
  for (const text of [r.stdout, r.stderr]) {
    assert.doesNotMatch(text, /^\s+at .+(\(|:\d+)/m, 'no stack trace');
    assert.doesNotMatch(text, /internal error|Unhandled|TypeError|RangeError/);
  }
}

const LOCATED = /^(.+):(\d+):(\d+): (error|warning) (npas-[a-z-]+): (.+)$/;

// ---------------------------------------------------------------------------------------------
// check

test('check: FILE:LINE:COL: error CODE: message for each diagnostic, exit 2 on errors', () => {
  const file = spec('broken.npas');
  const r = run('check', file);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, '');
  const lines = r.stdout.trimEnd().split('\n');
  for (const l of lines) assert.match(l, LOCATED);
  // Positions worked out from the fixture: `  a = Linear(8, 2.5)` puts 2.5 at column 17 of
  // line 4; `  share body: zigzag(2)` puts zigzag at column 15 of lines 6 and 9.
  assert.deepEqual(
    lines.map((l) => LOCATED.exec(l)!.slice(1, 6)),
    [
      [file, '4', '17', 'error', 'npas-eval-not-integer'],
      [file, '6', '15', 'error', 'npas-share-strategy'],
      [file, '9', '15', 'error', 'npas-share-strategy'],
    ],
  );
  assertNoStack(r);
});

test('check: exit 0 and no output for a clean spec; warnings alone exit 0', () => {
  const ok = run('check', spec('tiny.npas'));
  assert.deepEqual([ok.code, ok.stdout, ok.stderr], [0, '', '']);
  const warn = run('check', spec('warn.npas'));
  assert.equal(warn.code, 0);
  assert.match(warn.stdout, /warn\.npas:2:7: warning npas-model-empty: /);
});

test('check: the positions agree with the engine for every example with a planted error', () => {
  // Append an unknown name to each example; check must place it on the last line, column 5.
  for (const name of readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.npas'))) {
    const text = `${readFileSync(join(root, 'examples', name), 'utf8')}\nzz = qqq + 1\n`;
    const line = text.split('\n').length - 1;
    let out = '';
    const code = main(['check', name], { stdout: (t) => void (out += t), stderr: () => {}, readFile: () => text, writeFile: () => {} });
    assert.equal(code, 2, name);
    assert.ok(out.includes(`${name}:${line}:6: error npas-name-unknown: unknown name 'qqq'`), `${name}: ${out}`);
    // The engine's own diagnostics map to the same line/column.
    const d = analyze(text).diagnostics.find((x) => x.code === 'npas-name-unknown')!;
    assert.deepEqual(lineColumn(text, d.range.start), { line, column: 6 });
  }
});

// ---------------------------------------------------------------------------------------------
// budget

test('budget --json: {"models": [...]} in file order, integer params, budgets with ok', () => {
  const r = run('budget', spec('tiny.npas'), '--json');
  assert.equal(r.code, 0);
  assert.equal(r.stderr, '');
  const json = JSON.parse(r.stdout) as { models: { name: string; kind: string; base: string | null; params: Record<string, number>; budgets: { constraint: string; ok: boolean }[] }[] };
  assert.deepEqual(Object.keys(json), ['models']);
  assert.deepEqual(json.models.map((m) => [m.name, m.kind, m.base]), [['Toy', 'model', null], ['Att', 'model', null], ['ToyShared', 'variant', 'Toy']]);
  // Toy: 800 + 6·72 = 1,232 stored, 2,032 effective; Att: 4·64² = 16,384; all: 800 + 72.
  assert.deepEqual(json.models.map((m) => [m.params.stored, m.params.effective]), [[1232, 2032], [16_384, 16_384], [872, 2032]]);
  assert.match(r.stdout, /"stored": 1232,/, 'counts are bare JSON integers');
  assert.deepEqual(json.models[2]!.budgets.map((b) => [b.constraint, b.ok]), [['params.stored <= 872', true], ['params.effective == 2032', true]]);
});

test('budget: a dtype per tensor class and a device from a JSON file', () => {
  // Att at seq 1000: KV 2·4·16·1,000 = 128,000 elements, fp8 → 128,000 bytes; weights
  // 16,384 in mxfp4 (4.25 bits) → 8,704 bytes. Decode on MyChip (bandwidth 1e11 B/s):
  // (8,704 + 128,000) bytes / 1e11 = 1.36704 µs, memory-bound.
  const r = run('budget', spec('tiny.npas'), '--model', 'Att', '--json', '--seq', '1000', '--kv-dtype', 'fp8', '--weights-dtype', 'mxfp4', '--devices', 'test/fixtures/devices/my-chip.json', '--device', 'mychip');
  assert.equal(r.code, 0, r.stderr);
  const m = JSON.parse(r.stdout).models[0];
  assert.equal(m.kvCacheBytes, 128_000);
  assert.equal(m.memory.weightBytes, 8_704);
  assert.equal(m.latency.device, 'MyChip');
  assert.ok(Math.abs(m.latency.decode.seconds - 136_704 / 1e11) < 1e-18);
  assert.deepEqual(m.options.precision, { weights: 'mxfp4', experts: 'mxfp4', kv: 'fp8', activations: 'bf16', compute: 'bf16', gradients: 'bf16', master: 'fp32', optimizer: 'fp32' });
  const text = run('budget', spec('tiny.npas'), '--model', 'Att', '--kv-dtype', 'fp8');
  assert.match(text.stdout, /dtypes {4}weights bf16 {3}KV fp8 {3}activations bf16/);
});

test('budget --weights-dtype T+PATH=T: weights under a path in a dtype of their own, the last path reaching a weight winning', () => {
  // Att = Attention(64, heads: 4): q, k, v, o of 64·64 = 4,096 each. q in int4 (2,048 bytes), the
  // others in fp8 (3 × 4,096); the class fp32 reaches none of them.
  const r = run('budget', spec('tiny.npas'), '--model', 'Att', '--json', '--weights-dtype', 'fp32+att=fp8+att.q=int4');
  assert.equal(r.code, 0, r.stderr);
  const m = JSON.parse(r.stdout).models[0];
  assert.equal(m.memory.weightBytes, 2_048 + 3 * 4_096);
  assert.equal(m.options.precision.weights, 'fp32');
  assert.deepEqual(m.options.weightDtypes, [{ path: 'att', dtype: 'fp8' }, { path: 'att.q', dtype: 'int4' }]);
  assert.equal(r.stderr, '');
  // A path no model has is said on stderr; the numbers are the class's (bf16: 2 bytes each).
  const missing = run('budget', spec('tiny.npas'), '--model', 'Att', '--json', '--weights-dtype', 'mlp=fp8');
  assert.equal(missing.code, 0, missing.stderr);
  assert.equal(JSON.parse(missing.stdout).models[0].memory.weightBytes, 2 * 4 * 4_096);
  assert.match(missing.stderr, /weightDtypes names 'mlp', which is no member or weight of any model/);
  for (const [value, message] of [['att=fp7', "--weights-dtype: att must be one of fp32"], ['a b=fp8', "--weights-dtype: 'a b' is not a path"], ['fp8+bf16+att=fp8', 'takes one dtype for the class']] as const) {
    const bad = run('budget', spec('tiny.npas'), '--weights-dtype', value);
    assert.equal(bad.code, 2, value);
    assert.match(bad.stderr, new RegExp(message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), value);
  }
});

test('budget --device names a device the spec declares (Chip = Device(…)); a name no spec declares exits 2 naming the choices', () => {
  // Att at seq 1,000: weights 4·64·64 = 16,384 bf16 (32,768 bytes), KV 2·64·1,000 bf16 (256,000
  // bytes); a decode step on MyChip (1 TB/s) is memory-bound: 288,768 / 1e12 s.
  const r = run('budget', spec('spec-device.npas'), '--json', '--seq', '1000', '--device', 'MyChip');
  assert.equal(r.code, 0, r.stderr);
  const m = JSON.parse(r.stdout).models[0];
  assert.equal(m.latency.device, 'MyChip');
  assert.ok(Math.abs(m.latency.decode.seconds - 288_768 / 1e12) < 1e-18);
  assert.equal(m.budgets[0].ok, true);
  const unknown = run('budget', spec('tiny.npas'), '--device', 'TPU');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /the analysis setting device must be one of H100, .*, CPU, got TPU/);
});

test('budget --json: numbers beyond 2^53 are written exactly, unquoted', () => {
  // 2^40 · 10,001 = 10,996,215,789,387,776 (see the fixture).
  const r = run('budget', spec('huge.npas'), '--json');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /"stored": 10996215789387776,/);
  assert.match(r.stdout, /"effective": 10996215789387776,/);
  assert.doesNotMatch(r.stdout, /bigint|\\u0000/);
  // Parsing as JSON works (the value rounds to a double, which is JSON's problem, not ours).
  assert.equal(JSON.parse(r.stdout).models[0].params.stored, 10996215789387776);
});

test('budget: instance counts beyond 2^53 are exact in the text and in --json (count and params unquoted)', () => {
  // 999,999,999² instances of a one-parameter RMSNorm (see the fixture).
  const exact = 999_999_999n * 999_999_999n;
  const json = run('budget', spec('exact-instances.npas'), '--json');
  assert.equal(json.code, 0);
  assert.match(json.stdout, new RegExp(`"stored": ${exact},`));
  assert.match(json.stdout, new RegExp(`"name": "body",\\s*"kind": "stack",\\s*"type": "stack of ${exact}",\\s*"count": ${exact},`));
  // No float overflowed on the way: no Infinity, NaN or null (a model without a base says so with null).
  assert.doesNotMatch(json.stdout.replace('"base": null', ''), /null|Infinity|NaN/);
  const text = run('budget', spec('exact-instances.npas'));
  assert.equal(text.code, 0);
  assert.match(text.stdout, new RegExp(`stored ${exact.toLocaleString('en-US')}`));
});

test('budget --model selects one model or variant; an unknown name exits 2 naming it', () => {
  const one = run('budget', spec('tiny.npas'), '--json', '--model', 'Att');
  assert.equal(one.code, 0);
  assert.deepEqual(JSON.parse(one.stdout).models.map((m: { name: string }) => m.name), ['Att']);
  const eq = run('budget', spec('tiny.npas'), '--json', '--model=ToyShared');
  assert.deepEqual(JSON.parse(eq.stdout).models.map((m: { name: string }) => m.name), ['ToyShared']);
  const bad = run('budget', spec('tiny.npas'), '--model', 'Nope');
  assert.equal(bad.code, 2);
  assert.equal(bad.stdout, '');
  assert.match(bad.stderr, /^npas: .*tiny\.npas: no model or variant named 'Nope' \(have: Toy, Att, ToyShared\)\n$/);
});

test('budget: a violated budget exits 1 and the table shows FAIL with the measured value', () => {
  // kv(seq: 1000) = 2·64·1,000·2 bytes = 256,000 > 100KB.
  const r = run('budget', spec('violated.npas'));
  assert.equal(r.code, 1);
  assert.match(r.stdout, /budget +ok +params\.stored <= 16384 +\(measured 16384\)/);
  assert.match(r.stdout, /budget +FAIL kv\(seq: 1000\) <= 100KB +\(measured 256000\)/);
  const j = run('budget', spec('violated.npas'), '--json');
  assert.equal(j.code, 1);
  assert.deepEqual(JSON.parse(j.stdout).models[0].budgets.map((b: { ok: boolean; value: string }) => [b.ok, b.value]), [[true, '16384'], [false, '256000']]);
  // Selecting a model without violated budgets exits 0 even when the file has others.
  const other = run('budget', spec('tiny.npas'), '--model', 'Att');
  assert.equal(other.code, 0);
});

test('budget: spec errors exit 2 with located messages on stderr and nothing on stdout', () => {
  const file = spec('broken.npas');
  const r = run('budget', file, '--json');
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 3);
  for (const l of lines) assert.match(l, LOCATED);
  assert.ok(lines[0]!.startsWith(`${file}:4:17: error npas-eval-not-integer:`));
  assertNoStack(r);
});

test('budget: settings flags reach the analysis (seq with magnitudes, batch, dtype, device)', () => {
  // Att at seq 8K = 8,000, batch 2, fp32: KV = 2·64·8,000·2·4 = 8,192,000 bytes.
  const r = run('budget', spec('tiny.npas'), '--json', '--model', 'Att', '--seq', '8K', '--batch', '2', '--dtype', 'fp32', '--device', 'l4');
  assert.equal(r.code, 0);
  const m = JSON.parse(r.stdout).models[0];
  // fp32 everywhere: 32-bit weights need no master copy.
  const fp32 = { weights: 'fp32', experts: 'fp32', kv: 'fp32', activations: 'fp32', compute: 'fp32', gradients: 'fp32', master: 'none', optimizer: 'fp32' };
  assert.deepEqual(m.options, { seq: 8000, srcSeq: 8000, batch: 2, dtype: 'fp32', device: 'L4', precision: fp32 });
  assert.equal(m.kvCacheBytes, 8_192_000);
  // 8Ki = 8,192 tokens: 2·64·8,192·2 = 2,097,152 = 2 MiB.
  const ki = JSON.parse(run('budget', spec('tiny.npas'), '--json', '--model', 'Att', '--seq=8Ki').stdout).models[0];
  assert.equal(ki.kvCacheBytes, 2_097_152);
  // 1Gi = 2^30, the maximum, is accepted: 2·64·2^30·2 bytes = 256 GiB.
  const gi = JSON.parse(run('budget', spec('tiny.npas'), '--json', '--model', 'Att', '--seq', '1Gi').stdout).models[0];
  assert.equal(gi.options.seq, 2 ** 30);
  assert.equal(gi.kvCacheBytes, 256 * 1024 ** 3);
  // The table states the settings.
  assert.match(run('budget', spec('tiny.npas'), '--model', 'Att', '--seq', '1000').stdout, /KV cache .*\(seq 1000, batch 1, bf16\)/);
});

// [argv after the file, a fragment the message must contain]
const BAD_FLAGS: readonly [readonly string[], string][] = [
  [['--seq', 'abc'], "--seq must be an integer from 1 to 1,073,741,824 (2^30 = 1Gi), e.g. 4096 or 8Ki; got 'abc'"],
  [['--seq', '1Gi+1'], '--seq must be an integer from 1 to 1,073,741,824'],
  [['--seq', '1073741825'], '--seq must be an integer from 1 to 1,073,741,824'],
  [['--seq', '2G'], '--seq must be an integer from 1 to 1,073,741,824'],
  [['--seq', '0'], "--seq must be an integer from 1 to 1,073,741,824"],
  [['--seq', '-5'], "--seq must be an integer from 1 to 1,073,741,824"],
  [['--seq', '1.5'], "--seq must be an integer from 1 to 1,073,741,824"],
  [['--seq'], '--seq needs a value'],
  [['--seq', '--json'], '--seq needs a value'],
  [['--batch', 'x'], '--batch must be an integer from 1'],
  [['--src-seq', '9999999999'], '--src-seq must be an integer from 1'],
  [['--depth', 'deep'], '--depth must be an integer from 1'],
  [['--dtype', 'fp7'], "--dtype must be one of fp32, tf32, bf16, fp16, fp8, int8, int4, mxfp4, nvfp4; got 'fp7'"],
  [['--device', 'TP/U'], "--device must be one of H100, H200, H20, B200, A100, A100-40GB, L40S, L4, RTX4090, MI300X, M2Ultra, M4Max, CPU or a device the spec declares; got 'TP/U'"],
  [['--kv-dtype', 'fp5'], "--kv-dtype must be one of fp32, tf32, bf16, fp16, fp8, int8, int4, mxfp4, nvfp4; got 'fp5'"],
  [['--master-dtype', 'nope'], "--master-dtype must be one of fp32, tf32, bf16, fp16, fp8, int8, int4, mxfp4, nvfp4, none; got 'nope'"],
  [['--loss', 'sometimes'], "--loss must be full, fused or chunked:TOKENS"],
  [['--loss', 'chunked:0'], '--loss chunked: must be an integer from 1'],
  [['--devices', 'test/fixtures/devices/none.json'], 'test/fixtures/devices/none.json: no such file'],
  [['--devices', 'test/fixtures/specs/tiny.npas'], 'test/fixtures/specs/tiny.npas: not valid JSON'],
  [['--frobnicate'], "unknown option '--frobnicate'"],
  [['-x'], "unknown option '-x'"],
  [['--json=yes'], '--json takes no value'],
  [['extra.npas'], 'extra.npas: no such file'], // several files make a grid: each must exist
];

for (const [flags, message] of BAD_FLAGS) {
  test(`budget ${flags.join(' ')} → exit 2: ${message}`, () => {
    const r = run('budget', spec('tiny.npas'), ...flags);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.ok(r.stderr.startsWith('npas: '), r.stderr);
    assert.ok(r.stderr.includes(message), r.stderr);
    assertNoStack(r);
  });
}

test('missing files, directories and unknown commands exit 2 without a stack trace', () => {
  for (const command of ['check', 'budget', 'import-hf']) {
    const r = run(command, 'test/fixtures/specs/does-not-exist.npas');
    assert.equal(r.code, 2, command);
    assert.equal(r.stderr, 'npas: test/fixtures/specs/does-not-exist.npas: no such file\n');
    assertNoStack(r);
  }
  const dir = run('check', 'test/fixtures/specs');
  assert.deepEqual([dir.code, dir.stderr], [2, 'npas: test/fixtures/specs: is a directory\n']);
  const unknown = run('frob');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^npas: unknown command 'frob'/);
  const none = run();
  assert.equal(none.code, 2);
  assert.match(none.stdout, /^usage: npas <command>/);
  assert.equal(run('help').code, 0);
  assert.equal(run('check').code, 2);
  assert.equal(run('check', 'a.npas', 'b.npas').code, 2);
  assert.match(run('check', '--json', spec('tiny.npas')).stderr, /check: unknown option '--json'/);
});

// ---------------------------------------------------------------------------------------------
// import-hf

test('import-hf: every fixture config becomes a spec that analyses without errors', () => {
  const fixtures = readdirSync(hf).filter((f) => f.endsWith('.json'));
  assert.ok(fixtures.length >= 10);
  for (const f of fixtures) {
    const r = run('import-hf', relative(root, join(hf, f)));
    assert.equal(r.code, 0, `${f}: ${r.stderr}`);
    assert.match(r.stdout, /^# /, `${f}: the spec starts with its provenance comment`);
    const a = analyze(r.stdout);
    assert.deepEqual(a.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), [], f);
    assert.ok(a.models.length >= 1 && a.models[0]!.params.stored > 0n, f);
  }
});

test('import-hf: GPT-2 imports to 124,439,808 params; -o writes the file and reports it', () => {
  // GPT-2: wte 50,257·768 = 38,597,376; wpe 1,024·768 = 786,432; per layer 2 LayerNorms
  // (4·768) + attention (4·768² + 4·768) + MLP (2·768·3,072 + 3,072 + 768) = 7,087,872,
  // × 12 = 85,054,464; final LayerNorm 1,536; the head is tied. Total 124,439,808.
  const r = run('import-hf', 'test/fixtures/hf/gpt2.json', '-o', 'out/gpt2.npas');
  assert.equal(r.code, 0);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^wrote out\/gpt2\.npas \(model \w+\)\n$/);
  const text = r.written.get('out/gpt2.npas')!;
  assert.equal(analyze(text).models[0]!.params.stored, 124_439_808n);
  const fail = run('import-hf', 'test/fixtures/hf/gpt2.json', '--output', '/forbidden/x.npas');
  assert.deepEqual([fail.code, fail.stderr], [2, 'npas: /forbidden/x.npas: cannot be written\n']);
});

test('import-hf: malformed JSON and unsupported configs exit 2 with a message naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'npas-cli-'));
  try {
    const cases: [string, string, RegExp][] = [
      ['truncated.json', '{"model_type": "llama", ', /not valid JSON/],
      ['array.json', '[1, 2, 3]', /./],
      ['empty.json', '', /./],
      ['unknown.json', '{"model_type": "frobnet"}', /model_type.*frobnet.*not supported/],
    ];
    for (const [name, text, pattern] of cases) {
      const path = join(dir, name);
      let err = '';
      const code = main(['import-hf', path], { stdout: () => {}, stderr: (t) => void (err += t), readFile: () => text, writeFile: () => {} });
      assert.equal(code, 2, name);
      assert.ok(err.startsWith(`npas: ${path}: `), err);
      assert.match(err, pattern);
      assertNoStack({ stdout: '', stderr: err });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------
// Real runs of the bundled executable: bin/npas.js next to a freshly built dist/cli.js.

function buildCli(): string {
  const dir = mkdtempSync(join(tmpdir(), 'npas-bin-'));
  mkdirSync(join(dir, 'bin'));
  copyFileSync(join(root, 'bin', 'npas.js'), join(dir, 'bin', 'npas.js'));
  // The same bundle `npm run build` makes (esbuild.mjs), written beside the copied launcher.
  const esbuild = require('esbuild') as typeof import('esbuild');
  esbuild.buildSync({ entryPoints: [join(root, 'src', 'cli', 'main.ts')], outfile: join(dir, 'dist', 'cli.js'), bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'silent' });
  return join(dir, 'bin', 'npas.js');
}

test('the built `npas` executable: check, budget --json, missing file, closed pipe', () => {
  const bin = buildCli();
  try {
    const exec = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8' });
    const check = exec('check', spec('broken.npas'));
    assert.equal(check.status, 2);
    assert.equal(check.stdout, run('check', spec('broken.npas')).stdout, 'same output as in-process');
    const budget = exec('budget', spec('huge.npas'), '--json');
    assert.equal(budget.status, 0);
    assert.match(budget.stdout, /"stored": 10996215789387776,/);
    const violated = exec('budget', spec('violated.npas'));
    assert.equal(violated.status, 1);
    const missing = exec('budget', 'nope.npas');
    assert.equal(missing.status, 2);
    assert.equal(missing.stderr, 'npas: nope.npas: no such file\n');
    assert.equal(missing.stdout, '');
    // A reader that stops early (`| head -c 10`) must not produce an EPIPE stack trace (at seq 512,
    // within BERT's position table, so stderr holds no warning either).
    const piped = spawnSync('sh', ['-c', `"${process.execPath}" "${bin}" budget examples/albert-vs-bert.npas --seq 512 --json | head -c 10 >/dev/null`], { cwd: root, encoding: 'utf8' });
    assert.equal(piped.stderr, '');
    for (const r of [check, budget, violated, missing]) assertNoStack({ stdout: r.stdout, stderr: r.stderr });
  } finally {
    rmSync(join(bin, '..', '..'), { recursive: true, force: true });
  }
});
