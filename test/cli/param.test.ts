// `npas param` in-process: the table with transferred rates, --json, the `parameterization`
// section of `npas budget --json`, and refusals (exit 2) for bad flags and models without one;
// the hover and completion of `param` in the editor services.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyze } from '../../src/core/index.js';
import { completionsAt, hoverAt } from '../../src/core/service/index.js';
import { runInProcess } from './run-in-process.js';

const SPEC = `model Wide(d = 1024, L = 8) {
  param completep(base_width: 256, base_depth: 2, lr: 8e-3)
  block B {
    norm = RMSNorm(d)
    mlp  = MLP(d, 4 * d)
  }
  embed = Embedding(100, d)
  body  = B * L
  head  = Linear(d, 100)
}
model Plain {
  a = Linear(4, 4)
}
`;

const dir = mkdtempSync(join(tmpdir(), 'npas-param-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const specPath = join(dir, 'wide.npas');
writeFileSync(specPath, SPEC);

const run = runInProcess;

test('npas param prints every weight with its factors and the transferred rate', () => {
  const r = run('param', specPath);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Wide: completep, α = 1 {3}width 1024 \(base 256, m_N = 4\) {3}depth 8 \(base 2, m_L = 4\)/);
  // Hidden LR 8e-3 / m_N = 2e-3 (α = 1: no depth factor); branch × 1/m_L; readout LR unchanged, × 1/m_N.
  assert.match(r.stdout, /body\.mlp\.up +hidden +8 +m_N\^-1\/2 = 0\.5 +m_N\^-1 = 0\.25 → 0\.002 +1 +m_L\^-1 = 0\.25 +m_N = 4/);
  assert.match(r.stdout, /head\.weight +output +1 +1 +1 → 0\.008 +m_N\^-1 = 0\.25 +1 +1/);
  assert.doesNotMatch(r.stdout, /Plain/, 'only models that declare one');
  // --lr replaces the statement's base rate.
  assert.match(run('param', specPath, '--lr', '4e-3').stdout, /body\.mlp\.up .*→ 0\.001 /);
});

test('npas param --json and npas budget --json carry the same parameterization', () => {
  const p = JSON.parse(run('param', specPath, '--model', 'Wide', '--json').stdout);
  const b = JSON.parse(run('budget', specPath, '--json').stdout);
  const fromBudget = b.models.find((m: { name: string }) => m.name === 'Wide').parameterization;
  assert.deepEqual(p.models[0].parameterization, fromBudget);
  const up = fromBudget.rows.find((x: { path: string }) => x.path === 'body.mlp.up');
  assert.deepEqual(up.lr, { formula: 'm_N^-1', value: 0.25, target: 0.002 });
  assert.equal(b.models.find((m: { name: string }) => m.name === 'Plain').parameterization, undefined);
});

test('npas param refuses bad flags and models without a parameterisation (exit 2)', () => {
  for (const [argv, pattern] of [
    [['param', specPath, '--model', 'Plain'], /'Plain' declares no parameterisation/],
    [['param', specPath, '--model', 'Nope'], /no model or variant named 'Nope'/],
    [['param', specPath, '--lr', 'fast'], /--lr must be a positive number/],
    [['param', specPath, '--lr', '-1'], /--lr must be a positive number/],
    [['param'], /usage: npas param FILE/],
  ] as const) {
    const r = run(...argv);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr, pattern);
  }
  const bad = join(dir, 'bad.npas');
  writeFileSync(bad, 'model M {\n  param magic\n  a = Linear(4, 4)\n}\n');
  const r = run('param', bad);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bad\.npas:2:9: error npas-param: a parameterisation is one of sp, mup/);
});

test('hover on `param` shows the table per class; completion offers the schemes and their arguments', () => {
  const analysis = analyze(SPEC);
  const h = hoverAt(SPEC, analysis, SPEC.indexOf('param') + 2);
  assert.ok(h);
  assert.match(h.markdown, /\*\*Parameterisation\*\* `completep`, α = 1: width 1024 \(base 256, m_N = 4\)/);
  assert.match(h.markdown, /\| hidden \| `body\.mlp\.up` \| m_N\^-1\/2 = 0\.5 \| m_N\^-1 = 0\.25 → 0\.002 \|/);
  const scheme = hoverAt(SPEC, analysis, SPEC.indexOf('completep') + 2);
  assert.match(scheme?.markdown ?? '', /CompleteP \(Dey et al\. 2025\)/);
  const text = 'model M {\n  param \n  a = Linear(4, 4)\n}\n';
  const labels = completionsAt(text, analyze(text), text.indexOf('param ') + 6).items.map((i) => i.label);
  for (const s of ['sp()', 'mup()', 'depth_mup()', 'completep()', 'u_mup()']) assert.ok(labels.includes(s), `${s} in ${labels.join(', ')}`);
  const args = 'model M {\n  param mup()\n  a = Linear(4, 4)\n}\n';
  const argLabels = completionsAt(args, analyze(args), args.indexOf('mup(') + 4).items.map((i) => i.label);
  for (const a of ['base_width', 'base_depth', 'lr']) assert.ok(argLabels.some((l) => l.startsWith(a)), `${a} in ${argLabels.join(', ')}`);
});
