// `npas plan` and `npas fit` through main(argv, io): the JSON contract of the issue, exit codes
// (0 fits, 1 does not fit, 2 on flag or spec errors) and messages that name the flag at fault.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runInProcess } from './run-in-process.js';


const run = runInProcess;

const LLMS = 'examples/reference-llms.npas';

test('plan --json: one plan with the per-GPU bytes, fits, step, MFU, tokens/s and stages', () => {
  const r = run('plan', LLMS, '--model', 'Llama2_7B', '--gpus', '8', '--device', 'H100', '--tp', '2', '--pp', '2', '--dp', '2', '--ep', '1', '--zero', '1', '--recompute', 'selective', '--micro-batch', '1', '--global-batch', '16', '--seq', '4096', '--optimizer', 'adamw', '--json');
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout) as { plans: Record<string, unknown>[] };
  assert.equal(json.plans.length, 1);
  const p = json.plans[0]!;
  for (const key of ['model', 'gpus', 'parallel', 'perGpuBytes', 'fits', 'stepSeconds', 'mfu', 'tokensPerSecond', 'stages']) assert.ok(key in p, key);
  assert.equal(p.model, 'Llama2_7B');
  assert.equal(p.gpus, 8);
  assert.deepEqual(p.parallel, { tp: 2, pp: 2, vpp: 1, dp: 2, cp: 1, ep: 1, etp: 2, zero: 1, gpusPerNode: 8 });
  const bytes = p.perGpuBytes as Record<string, number>;
  assert.deepEqual(Object.keys(bytes), ['weights', 'gradients', 'optimizer', 'activations', 'loss', 'buffers', 'total']);
  assert.equal(bytes.total, bytes.weights! + bytes.gradients! + bytes.optimizer! + bytes.activations! + bytes.loss! + bytes.buffers!);
  assert.equal(p.fits, true);
  assert.equal((p.stages as unknown[]).length, 2);
  assert.ok((p.stepSeconds as number) > 0 && (p.mfu as number) > 0 && (p.mfu as number) <= 1);
});

test('plan --search: layouts that fit, fastest first; the text form is a table', () => {
  const j = run('plan', LLMS, '--model', 'Llama2_7B', '--gpus', '8', '--search', '--json', '--limit', '5');
  assert.equal(j.code, 0, j.stderr);
  const plans = (JSON.parse(j.stdout) as { plans: { stepSeconds: number; fits: boolean }[] }).plans;
  assert.equal(plans.length, 5);
  for (let i = 1; i < plans.length; i++) assert.ok(plans[i - 1]!.stepSeconds <= plans[i]!.stepSeconds);
  assert.ok(plans.every((p) => p.fits));
  const t = run('plan', LLMS, '--model', 'Llama2_7B', '--gpus', '8', '--search', '--limit', '3');
  assert.match(t.stdout, /^\d+ of \d+ layouts fit \(fastest first, the first 3 of each search\)\n/);
  assert.match(t.stdout, /model\s+device\s+gpus\s+tp\s+pp\s+vpp\s+dp\s+cp\s+ep\s+zero\s+recompute/);
  assert.equal(t.stdout.trimEnd().split('\n').length, 2 + 3);
});

test('plan exits 1 when the model does not fit, and says so', () => {
  const r = run('plan', LLMS, '--model', 'Mixtral8x7B', '--device', 'L4');
  assert.equal(r.code, 1);
  assert.match(r.stdout, /DOES NOT FIT/);
});

test('plan refuses inconsistent flags with exit 2, naming what to change', () => {
  const bad = run('plan', LLMS, '--model', 'Llama2_7B', '--gpus', '8', '--tp', '3');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--gpus 8 is not a multiple of tp × pp × cp = 3/);
  const zero = run('plan', LLMS, '--zero', '4');
  assert.equal(zero.code, 2);
  assert.match(zero.stderr, /--zero must be one of 0, 1, 2, 3/);
  const lora = run('plan', LLMS, '--model', 'Llama2_7B', '--finetune', 'qlora');
  assert.equal(lora.code, 2);
  assert.match(lora.stderr, /adapt/);
  const model = run('plan', LLMS, '--model', 'Nope');
  assert.equal(model.code, 2);
  assert.match(model.stderr, /no model or variant named 'Nope'/);
});

test('fit --json: serving (largest context and batch, tokens/s) and the smallest training cluster', () => {
  const r = run('fit', LLMS, '--model', 'Llama2_7B', '--device', 'H100', '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { serving: { maxContext: number; maxBatch: number; fits: boolean }; training: { gpus: number; plan: { fits: boolean } } | null };
  // 80 GB less 2·6,738,415,616 bytes of weights, over 524,288 bytes of KV per token.
  assert.equal(j.serving.maxContext, Math.floor((80e9 - 2 * 6_738_415_616) / 524_288));
  assert.ok(j.training && j.training.plan.fits);
  // Full fine-tuning of 6.7B params needs 16 bytes each (108 GB) before activations: not 1 GPU.
  assert.ok(j.training.gpus >= 2);
});

test('sweeps: comma lists and ranges make a grid, one row per combination, in flag order', () => {
  const r = run('plan', LLMS, '--model', 'Llama2_7B', '--seq', '2048,4096', '--gpus', '8..32', '--tp', '8', '--zero', '1', '--format', 'csv');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  const header = lines[0]!.split(',');
  const rows = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((c, i) => [header[i]!, c])));
  // 2 sequence lengths × 8, 16, 32 GPUs (a doubling range).
  assert.deepEqual(rows.map((x) => [x.seq, x.gpus, x.dp]), [['2048', '8', '1'], ['2048', '16', '2'], ['2048', '32', '4'], ['4096', '8', '1'], ['4096', '16', '2'], ['4096', '32', '4']]);
  // CSV cells are raw: exact bytes and unrounded seconds.
  for (const x of rows) assert.match(x['per GPU']!, /^\d+$/);
  assert.equal(BigInt(rows[0]!['per GPU']!), ['weights', 'gradients', 'optimizer', 'activations', 'loss', 'buffers'].reduce((a, k) => a + BigInt(rows[0]![k]!), 0n));
  // Sequence length doubles the activations at the same layout.
  assert.equal(BigInt(rows[3]!.activations!), 2n * BigInt(rows[0]!.activations!));
});

test('sweeps: refused combinations are rows with the reason; JSON lists them apart; Markdown is a pipe table', () => {
  const md = run('plan', LLMS, '--model', 'Llama2_7B', '--gpus', '8', '--tp', '2,3', '--format', 'markdown');
  assert.equal(md.code, 0); // every plan evaluated fits; refused rows are reported, not failures
  const lines = md.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^\| model \| device \| gpus \| tp \|/);
  assert.match(lines[1]!, /^\|---\|---\|---:\|---:\|/);
  assert.equal(lines.length, 4);
  assert.match(lines[3]!, /refused: .*--gpus 8 is not a multiple|refused: tp × pp × cp × dp/);
  const j = run('plan', LLMS, '--model', 'Llama2_7B', '--gpus', '8', '--dp', '4', '--tp', '2,4', '--json');
  const json = JSON.parse(j.stdout) as { plans: unknown[]; refused: { flags: Record<string, string>; problems: string[] }[] };
  assert.equal(json.plans.length, 1);
  assert.deepEqual(json.refused.map((x) => x.flags.tp), ['4']);
  assert.match(json.refused[0]!.problems[0]!, /4 × 1 × 1 × 4 = 16, but the cluster has 8 GPUs/);
});

test('sweeps: several files and models at once; bad ranges are refused', () => {
  const r = run('plan', LLMS, 'examples/albert-vs-bert.npas', '--model', 'GPT2,BERTBase', '--seq', '512', '--format', 'table');
  // Each file knows one of the two models: the other is a spec-level refusal (exit 2, named).
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no model or variant named/);
  const two = run('plan', LLMS, '--model', 'GPT2,Llama2_7B', '--seq', '512', '--gpus', '8', '--zero', '3', '--format', 'table');
  assert.equal(two.code, 0, two.stderr);
  assert.deepEqual(two.stdout.trimEnd().split('\n').slice(1).map((l) => l.split(/\s+/)[0]), ['GPT2', 'Llama2_7B']);
  const bad = run('plan', LLMS, '--seq', '4096..1024');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--seq: the range '4096\.\.1024' must go up/);
});

test('efficiency flags: a swept compute efficiency is a column, MFU follows it on one GPU; a bad fraction is exit 2', () => {
  const r = run('plan', LLMS, '--model', 'Llama2_7B', '--compute-efficiency', '0.4,0.5', '--format', 'csv');
  assert.equal(r.code, 1, r.stderr); // a 7B model with AdamW does not fit one H100
  const [header, ...rows] = r.stdout.trim().split('\n').map((l) => l.split(','));
  const col = (name: string): number => header!.indexOf(name);
  assert.ok(col('compute-efficiency') > 0, header!.join(','));
  assert.deepEqual(rows.map((row) => [row[col('compute-efficiency')], Number(row[col('MFU')]).toFixed(12)]), [['0.4', '0.400000000000'], ['0.5', '0.500000000000']]);
  // Half the FLOPs reached takes 0.4/0.5 of the time at 0.4.
  const step = rows.map((row) => Number(row[col('step')]));
  assert.ok(Math.abs(step[1]! / step[0]! - 0.8) < 1e-12);
  const j = run('plan', LLMS, '--model', 'Llama2_7B', '--link-efficiency', '0.8', '--json');
  assert.deepEqual((JSON.parse(j.stdout) as { plans: { efficiency: unknown }[] }).plans[0]!.efficiency, { compute: 1, memory: 1, links: 0.8 });
  // The human text names only the fractions below 1, in the Plan pane's words.
  assert.match(run('plan', LLMS, '--model', 'Llama2_7B', '--link-efficiency', '0.8').stdout, /tokens\/s \(at 80% of link bandwidth\)/);
  assert.match(run('plan', LLMS, '--model', 'Llama2_7B').stdout, /tokens\/s \(on the roofline\)/);
  for (const bad of ['0', '1.5', 'half', '-0.2']) {
    const b = run('plan', LLMS, '--model', 'Llama2_7B', '--compute-efficiency', bad);
    assert.equal(b.code, 2, bad);
    assert.match(b.stderr, /--compute-efficiency is the fraction of the peak reached, in \(0, 1\]/);
  }
  const fit = run('fit', LLMS, '--model', 'Llama2_7B', '--memory-efficiency', '0.5', '--json');
  const slow = (JSON.parse(fit.stdout) as { serving: { decodeTokensPerSecond: number } }).serving.decodeTokensPerSecond;
  const fast = (JSON.parse(run('fit', LLMS, '--model', 'Llama2_7B', '--json').stdout) as { serving: { decodeTokensPerSecond: number } }).serving.decodeTokensPerSecond;
  assert.ok(Math.abs(slow / fast - 0.5) < 1e-12, `${slow} / ${fast}`);
});
