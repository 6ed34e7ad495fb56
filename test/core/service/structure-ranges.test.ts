// Folding ranges, selection ranges and the workspace-symbol filter, from the syntax tree.
// Folding: as line spans (1-based, as one reads them), each kind. Selection: the texts of the
// expanding spans from a cursor. Workspace symbols: which declarations a query finds.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, documentSymbols, foldingRegions, lineColumn, matchesQuery, matchingSymbols, parse, selectionRanges } from '../../../src/core/index.js';
import { marked } from './cursor.js';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const SPEC = `# A library of blocks.
# Two lines of comment fold together.
d = 256
block Decoder(window = none) {
  attn = Attention(d, heads: 4,
                   window: window)
  mlp = MLP(d, 4 * d)
}
model M {
  body = [
    Decoder(window: 64),
    Decoder(),
  ]
  one = Linear(d, d)
}
budget M { params.stored <= 1B }
`;

test('folding: comment runs, declarations, and calls and lists over several lines; never one line', () => {
  const regions = foldingRegions(SPEC, parse(SPEC).file);
  const lines = regions.map((r) => `${r.kind} ${lineColumn(SPEC, r.start).line}-${lineColumn(SPEC, r.end).line}`);
  assert.deepEqual(lines, [
    'comment 1-2',
    // The block's body up to its last member: the closing `}` on line 8 stays visible.
    'region 4-7',
    'region 5-6',
    'region 9-14',
    'region 10-12',
  ]);
});

const SELECT: readonly { name: string; source: string; spans: readonly string[] }[] = [
  {
    name: 'a name in a named argument',
    source: SPEC.replace('window: window)', 'window: win$0dow)'),
    spans: ['window', 'window: window', '(d, heads: 4,\n                   window: window)', 'Attention(d, heads: 4,\n                   window: window)'],
  },
  { name: 'a number in a list element', source: SPEC.replace('window: 64', 'window: 6$04'), spans: ['64', 'window: 64', '(window: 64)', 'Decoder(window: 64)'] },
];

for (const c of SELECT) {
  test(`selection ranges: ${c.name}`, () => {
    const { text, offset } = marked(c.source);
    const spans = selectionRanges(parse(text).file, offset);
    assert.deepEqual(spans.slice(0, c.spans.length).map((r) => text.slice(r.start, r.end)), c.spans);
    // Each span strictly contains the one before, and the last is the whole file.
    for (let i = 1; i < spans.length; i++) {
      assert.ok(spans[i]!.start <= spans[i - 1]!.start && spans[i - 1]!.end <= spans[i]!.end);
      assert.ok(spans[i]!.end - spans[i]!.start > spans[i - 1]!.end - spans[i - 1]!.start);
    }
    assert.deepEqual(spans[spans.length - 1], parse(text).file.range);
  });
}

test('workspace symbols: characters in order, any case; declarations and members, not parameters or budgets', () => {
  assert.ok(matchesQuery('RelaxedRecursiveGemma', 'rrg'));
  assert.ok(matchesQuery('Decoder', 'DEC'));
  assert.ok(!matchesQuery('Decoder', 'rd'));
  assert.ok(matchesQuery('anything', ''));
  const analysis = analyze(SPEC);
  const outline = documentSymbols(SPEC, analysis);
  const found = (q: string): string[] => matchingSymbols(outline, q).map((s) => (s.container ? `${s.container}.${s.symbol.name}` : s.symbol.name));
  assert.deepEqual(found('dec'), ['Decoder']);
  assert.deepEqual(found('o'), ['Decoder', 'M.body', 'M.one']);
  assert.deepEqual(found('window'), []);
  assert.deepEqual(found('d'), ['d', 'Decoder', 'M.body']);
});

// Moved from the extension's own folding provider (src/extension/brace-folding.ts, deleted: the
// language server's folding, read from the syntax tree, is the one provider).
const linesOf = (text: string): string[] => foldingRegions(text, parse(text).file).map((r) => `${r.kind} ${lineColumn(text, r.start).line}-${lineColumn(text, r.end).line}`);

test('folding: # region … # endregion pairs fold as markers, nested; they do not join comment runs', () => {
  const text = ['# a spec', '# about things', '', '# region layers', 'd = 1', '#region inner', 'e = 2', '#  endregion', '# endregion', '# lone', '# regional is a word, not a marker'].join('\n');
  assert.deepEqual(linesOf(text), ['comment 1-2', 'marker 4-9', 'marker 6-8', 'comment 10-11']);
  // An unpaired marker folds nothing; neither does a pair on one line (not possible) or a marker word inside a comment.
  assert.deepEqual(linesOf('# endregion\nd = 1\n# region open\n'), []);
});

test('folding: brackets in strings and comments are not brackets; one-line pairs do not fold; a half-written file never throws', () => {
  assert.deepEqual(linesOf(['model M { # }', '  s = "}{\\"}"', '  x = Linear(64, 64)', '}'].join('\n')), ['region 1-3']);
  assert.doesNotThrow(() => linesOf('}\n]\nmodel M {\n  x = f(\n'));
});

test('folding: every example spec folds each model, variant and budget', () => {
  const dir = join(__dirname, '..', '..', '..', 'examples');
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.npas'))) {
    const spec = readFileSync(join(dir, name), 'utf8');
    const file = parse(spec).file;
    const starts = new Set(foldingRegions(spec, file).filter((r) => r.kind === 'region').map((r) => lineColumn(spec, r.start).line));
    for (const item of file.items) {
      if (item.kind === 'Model' || item.kind === 'Variant' || item.kind === 'Budget') {
        const line = lineColumn(spec, item.range.start).line;
        if (spec.slice(item.range.start, item.range.end).includes('\n')) assert.ok(starts.has(line), `${name}:${line}`);
      }
    }
  }
});
