// Issue 18, part 4: `import "lib.npas"` and `from "lib.npas" import …` (docs/language.md,
// "Imports"). The files live in a map: the core reads them only through the host callback.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile, ParsedSources, resolveImportPath, type Compilation, type Diagnostic } from '../../../src/core/index.js';

/** Compiles `main` among `files` (ids are absolute POSIX paths), counting the reads. */
function program(files: Record<string, string>, main: string, cache = new ParsedSources()): { c: Compilation; reads: string[] } {
  const reads: string[] = [];
  const host = { read: (s: string) => (reads.push(s), files[s]), cache };
  return { c: compile(files[main]!, { source: main, imports: host }), reads };
}

const errors = (c: Compilation): Diagnostic[] => c.analysis().diagnostics.filter((d) => d.severity === 'error');
const stored = (c: Compilation, name: string): bigint | undefined => c.analysis().models.find((m) => m.name === name)?.params.stored;

// Embedding(1000, 64) = 64,000; Linear(64, 64, bias: false) = 4,096; the library's block holds two.
const LIB = ['vocab = 1000', 'd = 64', 'block Pair {', '  a = Linear(d, d, bias: false)', '  b = Linear(d, d, bias: false)', '}', 'model Base {', '  embed = Embedding(vocab, d)', '  body = Pair * 3', '}', ''].join('\n');

test('a whole-file import brings constants, blocks, models and variants; an imported block counts as written in its file', () => {
  const exp = ['import "lib/common.npas"', 'model Mine {', '  embed = Embedding(vocab, d)', '  body = Pair * 2', '}', 'variant Shared of Base {', '  share body: all', '}', ''].join('\n');
  const { c } = program({ '/w/lib/common.npas': LIB, '/w/exp.npas': exp }, '/w/exp.npas');
  assert.deepEqual(errors(c), []);
  assert.equal(stored(c, 'Mine'), 64_000n + 2n * 2n * 4_096n);
  assert.equal(stored(c, 'Base'), 64_000n + 3n * 2n * 4_096n);
  assert.equal(stored(c, 'Shared'), 64_000n + 2n * 4_096n);
  // Imported models first, in import order; an imported model says which file declares it.
  const models = c.analysis().models;
  assert.deepEqual(models.map((m) => [m.name, m.source]), [['Base', '/w/lib/common.npas'], ['Mine', undefined], ['Shared', undefined]]);
  const base = models[0]!;
  assert.equal(LIB.slice(base.range.start, base.range.end), 'Base');
});

test('an imported block sees its own file\'s constants, not the importer\'s', () => {
  // The importer's own `d` differs: the block still uses the library's d = 64.
  const exp = ['from "lib.npas" import Pair', 'd = 8', 'model M {', '  body = Pair * 1', '}', ''].join('\n');
  const { c } = program({ '/w/lib.npas': LIB, '/w/exp.npas': exp }, '/w/exp.npas');
  assert.deepEqual(errors(c), []);
  assert.equal(stored(c, 'M'), 2n * 4_096n);
});

test('a selective import brings only the names it lists', () => {
  const exp = ['from "lib.npas" import Pair, d', 'model M {', '  x = Embedding(vocab, d)', '  body = Pair', '}', ''].join('\n');
  const { c } = program({ '/w/lib.npas': LIB, '/w/exp.npas': exp }, '/w/exp.npas');
  const e = errors(c);
  assert.deepEqual(e.map((d) => [d.code, d.source, exp.slice(d.range.start, d.range.end)]), [['npas-name-unknown', '/w/exp.npas', 'vocab']]);
  assert.deepEqual(c.analysis().models.map((m) => m.name), ['M'], 'Base was not imported');
});

test('a variant in the importer sees its own file\'s constants in its overrides', () => {
  const exp = ['import "lib.npas"', 'rows = 32', 'variant Narrow of Base {', '  embed = Embedding(rows, d)', '}', ''].join('\n');
  const { c } = program({ '/w/lib.npas': LIB, '/w/exp.npas': exp }, '/w/exp.npas');
  assert.deepEqual(errors(c), []);
  assert.equal(stored(c, 'Narrow'), 32n * 64n + 3n * 2n * 4_096n);
});

test('a missing file is reported at the import path, the rest of the file still analysed', () => {
  const exp = ['import "nope.npas"', 'model M {', '  x = Linear(4, 4, bias: false)', '}', ''].join('\n');
  const { c } = program({ '/w/exp.npas': exp }, '/w/exp.npas');
  const [e, ...more] = errors(c);
  assert.equal(more.length, 0);
  assert.equal(e!.code, 'npas-import-missing');
  assert.equal(e!.source, '/w/exp.npas');
  assert.equal(exp.slice(e!.range.start, e!.range.end), '"nope.npas"');
  assert.equal(stored(c, 'M'), 16n);
});

test('a cycle is reported at the import that closes it, in the file that holds it', () => {
  const a = ['import "b.npas"', 'x = 1', ''].join('\n');
  const b = ['import "a.npas"', 'y = x + 1', ''].join('\n');
  const { c } = program({ '/w/a.npas': a, '/w/b.npas': b }, '/w/a.npas');
  // The import that closes the cycle is not followed, so b.npas does not see x; a.npas hears of
  // b.npas's errors at its own import.
  const e = errors(c).filter((d) => d.code !== 'npas-name-unknown');
  const text = (d: Diagnostic): string => (d.source === '/w/a.npas' ? a : b).slice(d.range.start, d.range.end);
  assert.deepEqual(e.map((d) => [d.code, d.source, text(d)]), [['npas-import-errors', '/w/a.npas', '"b.npas"'], ['npas-import-cycle', '/w/b.npas', '"a.npas"']]);
  assert.match(e[1]!.message, /a\.npas → b\.npas → a\.npas/);
  // A file importing itself.
  const self = program({ '/w/s.npas': 'import "./s.npas"\n' }, '/w/s.npas').c;
  assert.deepEqual(errors(self).map((d) => d.code), ['npas-import-cycle']);
});

test('names that clash are reported at the import; a library reached twice is one name', () => {
  const exp = ['import "lib.npas"', 'd = 8', ''].join('\n');
  const { c } = program({ '/w/lib.npas': LIB, '/w/exp.npas': exp }, '/w/exp.npas');
  assert.deepEqual(errors(c).map((d) => [d.code, exp.slice(d.range.start, d.range.end)]), [['npas-import-clash', '"lib.npas"']]);
  assert.match(errors(c)[0]!.message, /'d' from "lib\.npas" clashes with a name this file defines/);
  // Two files defining the same name differently clash; two files importing one library do not.
  const other = 'd = 128\n';
  const clash = program({ '/w/lib.npas': LIB, '/w/other.npas': other, '/w/exp.npas': 'import "lib.npas"\nfrom "other.npas" import d\n' }, '/w/exp.npas').c;
  assert.deepEqual(errors(clash).map((d) => d.code), ['npas-import-clash']);
  const diamond = {
    '/w/lib.npas': LIB,
    '/w/left.npas': 'import "lib.npas"\nleft = d\n',
    '/w/right.npas': 'import "lib.npas"\nright = d\n',
    '/w/top.npas': 'import "left.npas"\nimport "right.npas"\nmodel T {\n  body = Pair * 1\n}\n',
  };
  const top = program(diamond, '/w/top.npas').c;
  assert.deepEqual(errors(top), []);
  assert.equal(stored(top, 'T'), 2n * 4_096n);
  assert.deepEqual(top.analysis().models.map((m) => m.name), ['Base', 'T']);
});

test('a selective import of a name the file does not define is located at that name', () => {
  const exp = 'from "lib.npas" import Pair, Nope\n';
  const { c } = program({ '/w/lib.npas': LIB, '/w/exp.npas': exp }, '/w/exp.npas');
  assert.deepEqual(errors(c).map((d) => [d.code, exp.slice(d.range.start, d.range.end)]), [['npas-import-name', 'Nope']]);
});

test('errors inside an imported file carry that file and its own offsets', () => {
  const lib = 'a = 1\nb = nothing\n';
  const exp = 'import "lib.npas"\nc = a\n';
  const { c } = program({ '/w/lib.npas': lib, '/w/exp.npas': exp }, '/w/exp.npas');
  const [summary, e] = errors(c);
  assert.equal(e!.source, '/w/lib.npas');
  assert.equal(lib.slice(e!.range.start, e!.range.end), 'nothing');
  // The importer hears of it at its import, with the first error's place (line 2, column 5).
  assert.deepEqual([summary!.code, summary!.source, exp.slice(summary!.range.start, summary!.range.end)], ['npas-import-errors', '/w/exp.npas', '"lib.npas"']);
  assert.equal(summary!.message, "an error in the imported files (first: /w/lib.npas:2:5: npas-name-unknown: unknown name 'nothing')");
});

test('without a file (plain text) an import is reported, never followed', () => {
  const c = compile('import "lib.npas"\nx = 1\n');
  assert.deepEqual(c.analysis().diagnostics.map((d) => [d.code, d.source]), [['npas-import-missing', undefined]]);
});

test('single-file callers see no source field and no change', () => {
  const c = compile('model M {\n  x = Linear(4, 4, bias: false)\n  y = nothing\n}\n');
  assert.deepEqual(Object.keys(c.analysis().diagnostics[0]!).sort(), ['code', 'message', 'range', 'severity']);
});

test('an unchanged imported file is parsed once across compilations (the cache)', () => {
  const cache = new ParsedSources();
  const files = { '/w/lib.npas': LIB, '/w/exp.npas': 'import "lib.npas"\n' };
  const first = program(files, '/w/exp.npas', cache).c;
  const second = program({ ...files, '/w/exp.npas': 'import "lib.npas"\nx = 1\n' }, '/w/exp.npas', cache).c;
  assert.equal(first.imported[0]!.file, second.imported[0]!.file, 'the same parsed tree');
  const changed = program({ ...files, '/w/lib.npas': LIB + 'e = 2\n' }, '/w/exp.npas', cache).c;
  assert.notEqual(changed.imported[0]!.file, first.imported[0]!.file);
});

test('import syntax: `from` needs `import` and names; the words stay usable as names', () => {
  const c = compile('from "lib.npas"\nimport = 2\nfrom = import + 1\n');
  const codes = c.analysis().diagnostics.map((d) => d.code);
  assert.ok(codes.includes('npas-syntax-expected'), codes.join(','));
  assert.ok(!codes.includes('npas-name-unknown'), codes.join(','));
});

test('import paths resolve against the importing file\'s folder, for paths and URIs', () => {
  assert.equal(resolveImportPath('/w/exp/a.npas', 'lib/b.npas'), '/w/exp/lib/b.npas');
  assert.equal(resolveImportPath('/w/exp/a.npas', '../lib/./b.npas'), '/w/lib/b.npas');
  assert.equal(resolveImportPath('file:///w/exp/a.npas', '../lib/b.npas'), 'file:///w/lib/b.npas');
  assert.equal(resolveImportPath('file:///w/a.npas', '../../../b.npas'), 'file:///b.npas');
  assert.equal(resolveImportPath('/w/a.npas', '/abs/b.npas'), '/abs/b.npas');
});

test('a long chain of imports is followed without recursion, and bounded', () => {
  const files: Record<string, string> = {};
  const n = 1200;
  for (let i = 0; i < n; i++) files[`/w/f${i}.npas`] = `import "f${i + 1}.npas"\nc${i} = ${i}\n`;
  files[`/w/f${n}.npas`] = 'last = 1\n';
  const { c } = program(files, '/w/f0.npas');
  // Reported where the limit was passed (a file deep in the chain), and at the first import.
  assert.deepEqual(errors(c).map((d) => d.code), ['npas-import-errors', 'npas-eval-too-large']);
});
