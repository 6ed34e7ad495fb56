// Issue 12, CLI hygiene: the exit code survives a reader that closes early, control characters
// in echoed text are escaped, oversized inputs are refused before they are read, and
// `budget --json` prints a compact tree. Real runs of the bundled executable where the process
// boundary matters (pipes, terminals), in-process runs elsewhere.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { main } from '../../src/cli/main.js';
import type { CliIO } from '../../src/cli/io.js';
import { readTextFile } from '../../src/cli/read-text-file.js';

const root = join(__dirname, '..', '..');

function buildCli(dir: string): string {
  mkdirSync(join(dir, 'bin'));
  copyFileSync(join(root, 'bin', 'npas.js'), join(dir, 'bin', 'npas.js'));
  const esbuild = require('esbuild') as typeof import('esbuild');
  esbuild.buildSync({ entryPoints: [join(root, 'src', 'cli', 'main.ts')], outfile: join(dir, 'dist', 'cli.js'), bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'silent' });
  return join(dir, 'bin', 'npas.js');
}

function inProcess(files: Record<string, string>, ...argv: string[]): { code: number; stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    readFile: (p) => {
      const text = files[p];
      if (text === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return text;
    },
    writeFile: () => {},
  };
  return { code: main(argv, io), stdout, stderr };
}

test('the built executable: exit codes survive a closed pipe, echoed text cannot drive the terminal, huge files are refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'npas-hygiene-'));
  try {
    const bin = buildCli(dir);
    // 5,000 errors: the reader (`true`) is gone long before the last line is written.
    const bad = join(dir, 'bad.npas');
    writeFileSync(bad, Array.from({ length: 5000 }, (_, i) => `x${i} = unknown${i}\n`).join(''));
    const piped = spawnSync('bash', ['-c', `"${process.execPath}" "${bin}" check "${bad}" | true; echo "exit=\${PIPESTATUS[0]}"`], { encoding: 'utf8' });
    assert.match(piped.stdout, /exit=2/, piped.stderr);
    assert.equal(piped.stderr, '');

    // A string literal and raw control characters that would retitle and clear the terminal.
    const hostile = join(dir, 'hostile.npas');
    writeFileSync(hostile, 'model M { l = MLP(4, 4, act: "\u001b]0;pwned\u0007\u001b[2J") }\ny = \u001b + 1\nz = "\u202e"\n');
    const check = spawnSync(process.execPath, [bin, 'check', hostile], { encoding: 'utf8' });
    assert.equal(check.status, 2);
    assert.doesNotMatch(check.stdout + check.stderr, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    assert.match(check.stdout, /\\u001b\]0;pwned\\u0007\\u001b\[2J/);

    // A 100 MB "spec" (a checkpoint given by mistake) is refused before it is read.
    const huge = join(dir, 'huge.npas');
    const fd = openSync(huge, 'w');
    ftruncateSync(fd, 100 * 1024 * 1024);
    closeSync(fd);
    const t0 = Date.now();
    const refused = spawnSync(process.execPath, [bin, 'budget', huge], { encoding: 'utf8' });
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /huge\.npas: is 100 MiB; files over 64 MiB are not read/);
    assert.ok(Date.now() - t0 < 10_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readTextFile reads within the cap and refuses past it with EFBIG', () => {
  const dir = mkdtempSync(join(tmpdir(), 'npas-read-'));
  try {
    const small = join(dir, 'a.npas');
    writeFileSync(small, 'x = 1\n');
    assert.equal(readTextFile(small), readFileSync(small, 'utf8'));
    const big = join(dir, 'b.npas');
    const fd = openSync(big, 'w');
    ftruncateSync(fd, 64 * 1024 * 1024 + 1);
    closeSync(fd);
    assert.throws(() => readTextFile(big), (e: unknown) => (e as { code?: string }).code === 'EFBIG');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('budget --json: a 4,000-instance comprehension is a compact tree; --depth asks for more', () => {
  const spec = 'model M {\n  block D(w = none) {\n    attn = Attention(64, heads: 4, window: w)\n    mlp = MLP(64, 128)\n  }\n  body = [D(w: i + 1) for i in 4000]\n}\n';
  const r = inProcess({ 'm.npas': spec }, 'budget', 'm.npas', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.length < 20_000, `${r.stdout.length} characters`);
  const tree = (JSON.parse(r.stdout) as { models: { tree: { children: { name: string; count: number; children: { name: string; count: number; pieces?: number; params: { stored: number }; children: unknown[]; deeper?: number }[] }[] } }[] }).models[0]!.tree;
  const body = tree.children[0]!;
  assert.equal(body.count, 4_000);
  // The 4,000 pieces have identical subtrees (windows change no count): one merged entry.
  assert.equal(body.children.length, 1);
  const merged = body.children[0]!;
  assert.equal(merged.name, 'D[0..3999]');
  assert.equal(merged.count, 4_000);
  assert.equal(merged.pieces, 4_000);
  // Attention(64, heads: 4): 4·64² = 16,384; MLP(64, 128) with its biases: 2·64·128 + 128 + 64 = 16,576.
  assert.equal(merged.params.stored, 4_000 * (16_384 + 16_576));
  // At the default depth (2) the block's members are listed and their weights left out.
  assert.deepEqual(merged.children.map((c) => (c as { name: string }).name), ['attn', 'mlp']);
  assert.ok(merged.children.every((c) => (c as { deeper?: number }).deeper! > 0));
  interface Node { children: Node[]; deeper?: number }
  const deeper = (JSON.parse(inProcess({ 'm.npas': spec }, 'budget', 'm.npas', '--json', '--depth', '3').stdout) as { models: { tree: Node }[] }).models[0]!.tree;
  const attn = deeper.children[0]!.children[0]!.children[0]!;
  assert.ok(attn.children.length > 0 && attn.deeper === undefined);
});

test('budget lists at most 1,000 entries under a node, in the table and the JSON, and counts the rest (a written-out 10 MB spec printed 74 MB of table and 384 MB of JSON)', () => {
  // 2,500 members l_i = Linear(8, 8 + i) without bias: 8·(8 + i) parameters each.
  const spec = `model M {\n${Array.from({ length: 2_500 }, (_, i) => `  l${i} = Linear(8, ${8 + i})\n`).join('')}}\n`;
  let total = 0;
  for (let i = 0; i < 2_500; i++) total += 8 * (8 + i);
  const json = inProcess({ 'm.npas': spec }, 'budget', 'm.npas', '--json');
  assert.equal(json.code, 0, json.stderr);
  const model = (JSON.parse(json.stdout) as { models: { params: { stored: number }; tree: { children: { name: string }[]; more?: number } }[] }).models[0]!;
  assert.equal(model.params.stored, total);
  assert.equal(model.tree.children.length, 1_000);
  assert.equal(model.tree.children[999]!.name, 'l999');
  assert.equal(model.tree.more, 1_500);
  const table = inProcess({ 'm.npas': spec }, 'budget', 'm.npas');
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^ {4}l999 /m);
  assert.doesNotMatch(table.stdout, /^ {4}l1000 /m);
  assert.match(table.stdout, /… 1,500 more \(members past the first 1,000; the totals above count them\)/);
});

test('check prints 20,000 located errors in linear time (each FILE:LINE:COL scanned the spec from its start: quadratic)', () => {
  // Line 1 declares M; line i + 2 holds member l_i reading the unknown name u_i after '  l_i = Linear('.
  const spec = `model M {\n${Array.from({ length: 20_000 }, (_, i) => `  l${i} = Linear(u${i}, 4)\n`).join('')}}\n`;
  const cpu0 = process.cpuUsage();
  const r = inProcess({ 'm.npas': spec }, 'check', 'm.npas');
  const cpu = process.cpuUsage(cpu0);
  assert.equal(r.code, 2);
  const lines = r.stdout.trimEnd().split('\n').filter((l) => l.includes('npas-name-unknown'));
  assert.equal(lines.length, 20_000);
  assert.match(lines[0]!, /^m\.npas:2:15: error npas-name-unknown: unknown name 'u0'$/);
  assert.match(lines[19_999]!, /^m\.npas:20001:19: error npas-name-unknown: unknown name 'u19999'$/);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  assert.ok(cpuMs < 10_000, `took ${cpuMs.toFixed(0)} ms of CPU`);
});

test('usage texts are generated from each command\'s spec: npas help and the usage errors list every flag the parser accepts', async () => {
  const { BUDGET_COMMAND } = await import('../../src/cli/commands/budget.js');
  const { CHECK_COMMAND } = await import('../../src/cli/commands/check.js');
  const { IMPORT_HF_COMMAND } = await import('../../src/cli/commands/import-hf.js');
  const { REPORT_COMMAND } = await import('../../src/cli/commands/report.js');
  const { EXPORT_ONNX_COMMAND } = await import('../../src/cli/commands/export-onnx.js');
  const { ALLOCATE_COMMAND } = await import('../../src/cli/commands/allocate.js');
  const { PROBE_COMMAND } = await import('../../src/cli/commands/probe.js');
  const { DIFF_COMMAND } = await import('../../src/cli/commands/diff.js');
  const { PLAN_COMMAND } = await import('../../src/cli/commands/plan.js');
  const { FIT_COMMAND } = await import('../../src/cli/commands/fit.js');
  const { PARAM_COMMAND } = await import('../../src/cli/commands/param.js');
  const { SUBNETS_COMMAND } = await import('../../src/cli/commands/subnets.js');
  const help = inProcess({}, 'help').stdout;
  // Every command npas help lists (each line `  NAME OPERANDS …`), and no other.
  const listed = [...help.matchAll(/^ {2}([a-z][a-z-]*) /gm)].map((m) => m[1]!).filter((n) => n !== 'help');
  const specs = [CHECK_COMMAND, BUDGET_COMMAND, DIFF_COMMAND, IMPORT_HF_COMMAND, ALLOCATE_COMMAND, EXPORT_ONNX_COMMAND, PROBE_COMMAND, REPORT_COMMAND, PLAN_COMMAND, FIT_COMMAND, PARAM_COMMAND, SUBNETS_COMMAND];
  assert.deepEqual(listed, specs.map((s) => s.name));
  for (const spec of specs.filter((s) => s !== PROBE_COMMAND)) {
    const usage = inProcess({}, spec.name).stderr;
    for (const f of spec.flags) {
      assert.ok(usage.includes(`--${f.name}`), `${spec.name}'s usage error lists --${f.name}`);
      assert.ok(help.includes(`--${f.name}`), `npas help lists ${spec.name} --${f.name}`);
    }
    assert.ok(help.includes(`  ${spec.name} ${spec.operands}`), `npas help has ${spec.name}`);
  }
  // probe runs asynchronously (main refuses it), so only its help line is checked here.
  for (const f of PROBE_COMMAND.flags) assert.ok(help.includes(`--${f.name}`), `npas help lists probe --${f.name}`);
  // The drift the issue found: budget's own usage left out --src-seq and --depth.
  assert.match(inProcess({}, 'budget').stderr, /usage: npas budget FILE… \[--model NAME\] \[--seq N\] \[--src-seq N\] \[--batch N\] \[--dtype T\] .*\[--device D\] \[--devices FILE\.json\] \[--json\] \[--depth N\] \[--format table\|markdown\|csv\|json\]/);
});
