// Issue 18, part 4: every CLI command that reads a spec follows its imports, relative to the
// spec's file, and prints a diagnostic at the file it lies in. In-process through main(argv, io)
// with the real file system (a temporary folder), plus the bundled `node bin/npas.js`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { runInProcess } from './run-in-process.js';

const root = join(__dirname, '..', '..');

const run = runInProcess;

/** Writes files under a fresh folder and runs `body` with it. */
function withFiles(files: Record<string, string>, body: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'npas-multi-'));
  try {
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A budget report without where things are written (the two-file and one-file specs differ only there). */
function withoutLocations(json: string): unknown {
  return JSON.parse(json, (key, value) => (key === 'range' || key === 'source' ? undefined : value));
}

const TWO_FILES = join('examples', 'multi-file', 'takase-kiyono-experiments.npas');

test('the two-file example budgets exactly as its one-file twin, at its published counts', () => {
  const cwd = process.cwd();
  process.chdir(root);
  try {
    const two = run('budget', '--json', TWO_FILES);
    const one = run('budget', '--json', join('examples', 'takase-kiyono.npas'));
    assert.equal(two.code, 0, two.stderr);
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual(withoutLocations(two.stdout), withoutLocations(one.stdout));
    // Takase & Kiyono's fairseq model: the 6-layer base is the familiar 61M; 3 shared sets of 6 layers.
    const { models } = JSON.parse(two.stdout) as { models: { name: string; source?: string; params: { stored: number } }[] };
    assert.deepEqual(models.map((m) => [m.name, m.params.stored]), [['TransformerWMT', 60_915_712], ['Sequence3', 38_846_464], ['Cycle3', 38_846_464], ['CycleRev3', 38_846_464], ['CycleRevPaper', 60_915_712]]);
    assert.equal(models[0]!.source, join('examples', 'multi-file', 'transformer-wmt.npas'));
    assert.equal(models[1]!.source, undefined);
  } finally {
    process.chdir(cwd);
  }
});

test('check, budget, param, plan, fit, allocate and report all follow imports relative to the spec', () => {
  const lib = ['d = 64', 'block Pair {', '  a = Linear(d, d, bias: false)', '  b = Linear(d, d, bias: false)', '}', 'model Base {', '  embed = Embedding(1000, d)', '  body = Pair * 4', '}', ''].join('\n');
  const exp = ['import "../lib/blocks.npas"', 'variant Shared of Base {', '  share body: all', '}', ''].join('\n');
  withFiles({ 'lib/blocks.npas': lib, 'exp/run.npas': exp }, (dir) => {
    const spec = join(dir, 'exp', 'run.npas');
    assert.equal(run('check', spec).code, 0);
    // Embedding 1000·64 = 64,000; one shared Pair: 2·64·64 = 8,192.
    const budget = run('budget', '--json', '--model', 'Shared', spec);
    assert.equal(budget.code, 0, budget.stderr);
    assert.equal((JSON.parse(budget.stdout) as { models: { params: { stored: number } }[] }).models[0]!.params.stored, 72_192);
    // Each exits 0 only on a spec without errors: with the import not followed, Base is unknown.
    for (const argv of [['plan', spec, '--model', 'Shared'], ['fit', spec, '--model', 'Shared'], ['allocate', spec, '--model', 'Base', '--params', '50%'], ['report', spec, '--output', join(dir, 'r.html')]]) {
      const r = run(...argv);
      assert.equal(r.code, 0, `${argv.join(' ')}: ${r.stderr}`);
    }
    // The spec compiles: `param` reaches its own complaint, not an error of the spec.
    assert.match(run('param', spec).stderr, /no model declares a parameterisation/);
  });
});

test('check prints each diagnostic at the file it lies in: the spec, or the imported file with its own line', () => {
  const lib = ['a = 1', '', 'b = nothing', ''].join('\n');
  const exp = ['import "lib.npas"', 'import "missing.npas"', 'c = a', ''].join('\n');
  withFiles({ 'lib.npas': lib, 'exp.npas': exp }, (dir) => {
    const r = run('check', join(dir, 'exp.npas'));
    assert.equal(r.code, 2);
    const lines = r.stdout.trim().split('\n').sort();
    assert.deepEqual(lines.map((l) => l.replace(/: error ([a-z-]+):.*$/, ' $1')).map((l) => relative(dir, l)), [
      'exp.npas:1:8 npas-import-errors',
      'exp.npas:2:8 npas-import-missing',
      'lib.npas:3:5 npas-name-unknown',
    ]);
  });
});

test('a cycle of imports is an error at the import that closes it, never a hang', () => {
  withFiles({ 'a.npas': 'import "b.npas"\nx = 1\n', 'b.npas': 'import "a.npas"\ny = 2\n' }, (dir) => {
    const r = run('check', join(dir, 'a.npas'));
    assert.equal(r.code, 2);
    assert.match(r.stdout, /b\.npas:1:8: error npas-import-cycle: this import closes a cycle: a\.npas → b\.npas → a\.npas/);
  });
});

test('the bundled CLI follows imports with a relative spec path', () => {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'npas.js'), 'budget', TWO_FILES, '--model', 'Cycle3'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /stored 38,846,464/);
});

test('an absolute import path is read as written, not joined onto the spec\'s folder', () => {
  const lib = ['model Base {', '  d = 32', '  embed = Embedding(100, d)', '  out = Linear(d, 100, bias: false)', '}', ''].join('\n');
  withFiles({ 'lib/base.npas': lib }, (dir) => {
    const spec = join(dir, 'exp', 'run.npas');
    mkdirSync(join(dir, 'exp'), { recursive: true });
    writeFileSync(spec, `import "${join(dir, 'lib', 'base.npas').split('\\').join('/')}"\nvariant Wide of Base {\n  d = 64\n}\n`);
    const r = run('budget', spec, '--model', 'Wide', '--json');
    assert.equal(r.code, 0, r.stderr);
    // Embedding 100×64 and Linear 64→100 without bias: 2 · 6,400.
    const { models } = JSON.parse(r.stdout) as { models: { name: string; params: { stored: number } }[] };
    assert.deepEqual(models.find((m) => m.name === 'Wide')?.params.stored, 12_800);
  });
});
