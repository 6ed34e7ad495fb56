// Quick fixes, data-driven: a spec with one problem, the diagnostic code it raises, and the
// text after applying each offered fix (best first); problems without a knowable fix get none.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile, DIAGNOSTIC_CODES, ParsedSources, QUICK_FIX_CATALOGUE, quickFixes, type Compilation, type DiagnosticCode, type TextEdit } from '../../../src/core/index.js';

/** The spec compiled as /w/main.npas, its imports read from `files` (absolute ids). */
function compiled(text: string, files?: Readonly<Record<string, string>>): Compilation {
  return files ? compile(text, { source: '/w/main.npas', imports: { read: (s) => files[s], cache: new ParsedSources() } }) : compile(text);
}

// A library for the cases of imported names.
const LIBRARY = { '/w/lib.npas': 'width = 64\nblock Decoder {\n  attn = Attention(width, heads: 4)\n}\nmodel Base {\n  body = Decoder * 2\n}\n' };

function apply(text: string, edits: readonly TextEdit[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.range.start - a.range.start)) out = out.slice(0, e.range.start) + e.newText + out.slice(e.range.end);
  return out;
}

const BASE = 'model M {\n  d = 64\n  block B { attn = Attention(d, heads: 4); mlp = MLP(d, 256) }\n  body = B * 2\n  head = Linear(d, 10)\n  # FIX\n}\n';
const withLine = (line: string): string => BASE.replace('# FIX', line);

const CASES: readonly { name: string; text: string; code: DiagnosticCode; fixed: readonly string[]; widens?: true; files?: Readonly<Record<string, string>> }[] = [
  { name: 'a misspelt layer kind', text: withLine('x = Atention(d, heads: 2)'), code: 'npas-name-unknown', fixed: [withLine('x = Attention(d, heads: 2)')] },
  { name: 'a misspelt constant', text: withLine('x = Linear(dd, 8)'), code: 'npas-name-unknown', fixed: [withLine('x = Linear(d, 8)')] },
  { name: 'a layer kind in the wrong case', text: withLine('x = rmsnorm(d)'), code: 'npas-name-unknown', fixed: [withLine('x = RMSNorm(d)')] },
  { name: 'a misspelt argument', text: withLine('x = Attention(d, heads: 4, kv_head: 2)'), code: 'npas-layer-unknown-arg', fixed: [withLine('x = Attention(d, heads: 4, kv_heads: 2)')] },
  { name: 'a missing required argument after others', text: withLine('x = Attention(d)'), code: 'npas-layer-missing-arg', fixed: [withLine('x = Attention(d, heads: )')] },
  { name: 'a missing required argument in an empty call', text: withLine('x = RMSNorm()'), code: 'npas-layer-missing-arg', fixed: [withLine('x = RMSNorm(d: )')] },
  { name: 'a missing block argument', text: withLine('block C(w) { y = Linear(w, w) }\n  x = C()'), code: 'npas-block-arg', fixed: [withLine('block C(w) { y = Linear(w, w) }\n  x = C(w: )')] },
  { name: 'a misspelt share target', text: withLine('share bdy: all'), code: 'npas-share-target', fixed: [withLine('share body: all')] },
  { name: 'a misspelt block member in a path', text: withLine('share body.atn: all'), code: 'npas-share-target', fixed: [withLine('share body.attn: all')] },
  { name: 'a misspelt strategy', text: withLine('share body: cycel(2)'), code: 'npas-share-strategy', fixed: [withLine('share body: cycle(2)')] },
  { name: 'a misspelt KV strategy', text: withLine('share kv body: evry(2)'), code: 'npas-share-strategy', fixed: [withLine('share kv body: every(2)')] },
  { name: 'a misspelt variant base', text: `${BASE}variant V of N {\n  d = 32\n}\n`, code: 'npas-model-unknown', fixed: [`${BASE}variant V of M {\n  d = 32\n}\n`] },
  { name: 'a misspelt override', text: `${BASE}variant V of M {\n  dd = 32\n}\n`, code: 'npas-override-unknown', fixed: [`${BASE}variant V of M {\n  d = 32\n}\n`] },
  { name: 'a misspelt budget metric', text: `${BASE}budget M {\n  params.stord <= 1B\n}\n`, code: 'npas-budget-metric', fixed: [`${BASE}budget M {\n  params.stored <= 1B\n}\n`] },
  { name: 'a misspelt budget target', text: `${BASE}budget Q {\n  params.stored <= 1B\n}\n`, code: 'npas-budget-target', fixed: [`${BASE}budget M {\n  params.stored <= 1B\n}\n`] },
  { name: 'a repeated argument', text: withLine('x = Attention(d, heads: 2, heads: 4)'), code: 'npas-layer-duplicate-arg', fixed: [withLine('x = Attention(d, heads: 2)')], widens: true },
  { name: 'a positional argument past the last one', text: withLine('x = Linear(d, d, 3)'), code: 'npas-layer-too-many-args', fixed: [withLine('x = Linear(d, d)')], widens: true },
  { name: 'a positional argument past a block\'s parameters', text: withLine('block C(w) { y = Linear(w, w) }\n  x = C(8, 9)'), code: 'npas-layer-too-many-args', fixed: [withLine('block C(w) { y = Linear(w, w) }\n  x = C(8)')], widens: true },
  { name: 'a positional argument after named ones has no obvious fix', text: withLine('x = Linear(d, d, bias: true, 4)'), code: 'npas-layer-too-many-args', fixed: [] },
  {
    name: 'a binding that hides a layer kind: renamed with its uses, its own value keeps the layer kind',
    text: withLine('MLP = MLP(d, 4 * d)\n  tail = MLP * 2'),
    code: 'npas-name-shadows-builtin',
    fixed: [withLine('mlp = MLP(d, 4 * d)\n  tail = mlp * 2')],
    widens: true,
  },
  { name: 'a stray character', text: withLine('x = Linear(d, 8) $'), code: 'npas-syntax-unexpected-char', fixed: [withLine('x = Linear(d, 8) ')] },
  { name: 'an unknown escape in a string', text: withLine('allocate name: "a\\q"'), code: 'npas-syntax-unexpected-char', fixed: [withLine('allocate name: "a\\\\q"')] },
  { name: 'an unterminated string', text: withLine('allocate name: "abc'), code: 'npas-syntax-unterminated-string', fixed: [withLine('allocate name: "abc"')] },
  { name: 'an unknown unit suffix', text: withLine('x = Embedding(8Kib, d)'), code: 'npas-syntax-bad-number', fixed: [withLine('x = Embedding(8KiB, d)'), withLine('x = Embedding(8Ki, d)')] },
  { name: 'a trailing underscore in a number', text: withLine('x = Embedding(8_, d)'), code: 'npas-syntax-bad-number', fixed: [withLine('x = Embedding(8, d)')] },
  { name: 'a missing closing parenthesis', text: withLine('x = Linear(d, 8'), code: 'npas-syntax-expected', fixed: [withLine('x = Linear(d, 8)')] },
  { name: 'a missing closing bracket', text: withLine('x = [Linear(d, d) for i in 0..2'), code: 'npas-syntax-expected', fixed: [withLine('x = [Linear(d, d) for i in 0..2]')] },
  { name: 'a misspelt name in a selective import: the names the file defines', text: 'from "lib.npas" import Decodr\n', code: 'npas-import-name', fixed: ['from "lib.npas" import Decoder\n'], files: LIBRARY },
  { name: 'a misspelt imported block: the names the imports bring in', text: 'import "lib.npas"\nmodel M {\n  body = Decodr * 3\n}\n', code: 'npas-name-unknown', fixed: ['import "lib.npas"\nmodel M {\n  body = Decoder * 3\n}\n'], files: LIBRARY },
  { name: 'a violated budget has no fix', text: `${BASE}budget M {\n  params.stored <= 1\n}\n`, code: 'npas-budget-violated', fixed: [] },
  { name: 'a name nothing resembles has no fix', text: withLine('x = Linear(zzzzzz, 8)'), code: 'npas-name-unknown', fixed: [] },
];

for (const c of CASES) {
  test(`quick fix: ${c.name}`, () => {
    const compilation = compiled(c.text, c.files);
    const analysis = compilation.analysis();
    const diagnostic = analysis.diagnostics.find((d) => d.code === c.code);
    assert.ok(diagnostic, `expected ${c.code}, got ${analysis.diagnostics.map((d) => d.code).join(', ')}`);
    const fixes = quickFixes(c.text, analysis, diagnostic, compilation);
    assert.deepEqual(fixes.map((f) => apply(c.text, f.edits)), c.fixed);
    if (fixes.length > 0) {
      assert.equal(fixes[0]!.preferred, true);
      // The fix edits inside (or at) the diagnostic's range.
      // (A removal takes the comma before it; a rename edits every use.)
      if (!c.widens) for (const e of fixes[0]!.edits) assert.ok(e.range.start >= diagnostic.range.start && e.range.end <= diagnostic.range.end);
      // And it removes the problem.
      assert.ok(!compiled(apply(c.text, fixes[0]!.edits), c.files).analysis().diagnostics.some((d) => d.code === c.code && d.range.start === diagnostic.range.start) || c.code.endsWith('-arg'));
    }
  });
}

test('every code the catalogue says has a quick fix is fixed by a case above, and no other code is', () => {
  const fixedCodes = new Set(CASES.filter((c) => c.fixed.length > 0).map((c) => c.code));
  const listed = (Object.keys(DIAGNOSTIC_CODES) as DiagnosticCode[]).filter((code) => QUICK_FIX_CATALOGUE[code] !== undefined);
  assert.deepEqual(listed.filter((code) => !fixedCodes.has(code)), [], 'codes with a fix in the catalogue but no test');
  assert.deepEqual([...fixedCodes].filter((code) => QUICK_FIX_CATALOGUE[code] === undefined), [], 'codes fixed but not in the catalogue');
});
