// Issue 12, items 4 and 5: config text placed in a spec is escaped to one safe line, and an
// oversized config is refused before it is parsed. Before the fix a newline in
// rope_scaling.type ended the comment it was quoted in and injected a line of code: the imported
// Llama-2-7B then budgeted at 16,738,415,616 parameters.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze, importHfConfig } from '../../../src/core/index.js';
import { prng } from '../../fixtures/prng.js';

const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join(__dirname, '..', '..', 'fixtures', 'hf', name), 'utf8')) as Record<string, unknown>;

function importOk(config: unknown): string {
  const r = importHfConfig(JSON.stringify(config));
  assert.ok(r.ok, r.ok ? '' : r.message);
  return r.spec;
}

/** Any character a terminal or an editor could act on, besides the line feeds the writer puts between lines. */
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

test('a newline in rope_scaling.type stays inside its comment: Llama-2-7B keeps its 6,738,415,616 parameters', () => {
  const config = fixture('llama-2-7b-hf.json');
  config['rope_scaling'] = { type: 'linear\n  extra = Linear(100000, 100000)\n  #', factor: 2.0 };
  const spec = importOk(config);
  assert.doesNotMatch(spec, /^\s*extra = /m);
  assert.match(spec, /rope_scaling "linear\\n  extra = Linear\(100000, 100000\)\\n  #"/);
  const r = analyze(spec);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.equal(r.models[0]!.params.stored, 6_738_415_616n);
});

test('control characters, separators and bidi overrides in any config string never reach the spec raw (seeded fuzz)', () => {
  const pieces = ['\n', '\r', '\r\n', '\t', '\u001b]0;pwned\u0007', '\u001b[2J', '\u0000', '\u007f', '\u0085', '\u2028', '\u2029', '\u202e', '\u2066', '# x', '}\nmodel Evil {', '"', '\\'];
  const bases = ['llama-2-7b-hf.json', 'gpt2.json', 'mistral-7b-v0-1.json', 'deepseek-v2-lite.json'];
  const rnd = prng(12);
  for (const base of bases) {
    const original = fixture(base);
    const expected = analyze(importOk(original)).models[0]!.params.stored;
    for (let trial = 0; trial < 25; trial++) {
      const config = structuredClone(original);
      // Every string value the config carries, at any depth, and a few added ones the import
      // quotes back (unknown keys, a rope type, the model path).
      const hostile = (): string => `a${pieces[Math.floor(rnd() * pieces.length)]}b${pieces[Math.floor(rnd() * pieces.length)]}`;
      config['_name_or_path'] = hostile();
      config[`unknown_${trial}`] = hostile();
      if (trial % 2 === 0) config['rope_scaling'] = { type: hostile(), factor: 2.0 };
      const r = importHfConfig(JSON.stringify(config));
      if (!r.ok) {
        assert.doesNotMatch(r.message, UNSAFE, `${base} #${trial}: refusal message`);
        continue;
      }
      const label = `${base} #${trial}`;
      assert.doesNotMatch(r.spec, UNSAFE, label);
      for (const w of r.warnings) assert.doesNotMatch(w, UNSAFE, `${label}: warning`);
      const analysed = analyze(r.spec);
      assert.deepEqual(analysed.diagnostics.filter((d) => d.severity === 'error'), [], label);
      assert.equal(analysed.models[0]!.params.stored, expected, label);
    }
  }
});

test('a config over 10 MiB is refused with its size, before it is parsed', () => {
  const text = `{"model_type": "llama", "pad": "${'x'.repeat(11 * 1024 * 1024)}"}`;
  const t0 = performance.now();
  const r = importHfConfig(text);
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : r.message, /11\.0 MiB of text; configs over 10 MiB are refused/);
  assert.ok(performance.now() - t0 < 1000);
});

test('a config with 100,000 unknown keys imports in linear time, every key listed once (a list lookup per key was quadratic: 400,000 keys ran past a minute)', () => {
  const config = fixture('llama-2-7b-hf.json');
  for (let i = 0; i < 100_000; i++) config[`extra_${i}`] = i;
  const cpu0 = process.cpuUsage();
  const spec = importOk(config);
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  assert.ok(cpuMs < 10_000, `took ${cpuMs.toFixed(0)} ms of CPU`);
  for (const i of [0, 1, 49_999, 99_999]) assert.equal(spec.split(`extra_${i},`).length + spec.split(`extra_${i}.`).length - 2, 1, `extra_${i}`);
  const r = analyze(spec);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.equal(r.models[0]!.params.stored, 6_738_415_616n);
});
