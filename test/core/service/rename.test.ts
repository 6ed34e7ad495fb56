// Rename, data-driven: the cursor ($0) on a name, the new name, and either the renamed text's
// changed lines (compared to the original's) or the refusal's message. Each accepted rename is
// also re-analysed: it must introduce no diagnostic and leave every model's stored parameter
// count unchanged, which is what "a rename changes no meaning" means for a spec.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, applyEdits, prepareRename, renameEdits } from '../../../src/core/index.js';
import { marked } from './cursor.js';

const SPEC = `d = 256
block Decoder(window = none, heads = 4) {
  attn = Attention(d, heads: heads, window: window)
  mlp = MLP(d, 4 * d)
  out = Linear(d, d) tied attn
}
model M(L = 4) {
  embed = Embedding(1000, d)
  body = [Decoder(window: if i % 2 == 0 then 64 else none) for i in 0..L]
  tail = Decoder(heads: 8) * 2
  head = Linear(d, 1000) tied embed
  share tail: cycle(1)
}
model Other {
  w = 64
  x = Linear(w, w)
}
variant V of M {
  L = 8
  share body.attn: all
}
budget V {
  params.stored <= 1B
}
`;

const at = (needle: string, delta: number): string => {
  const i = SPEC.indexOf(needle);
  assert.ok(i >= 0, needle);
  return SPEC.slice(0, i + delta) + '$0' + SPEC.slice(i + delta);
};

/** The lines that differ between two texts of the same line count, as `new` strings. */
function changedLines(before: string, after: string): string[] {
  const a = before.split('\n');
  const b = after.split('\n');
  assert.equal(b.length, a.length, 'a rename never adds or removes lines');
  return b.filter((line, i) => line !== a[i]).map((l) => l.trim());
}

const CASES: readonly { name: string; source: string; to: string; lines?: readonly string[]; refused?: RegExp }[] = [
  { name: 'a file constant everywhere it is used', source: at('d = 256', 0), to: 'width', lines: ['width = 256', 'attn = Attention(width, heads: heads, window: window)', 'mlp = MLP(width, 4 * width)', 'out = Linear(width, width) tied attn', 'embed = Embedding(1000, width)', 'head = Linear(width, 1000) tied embed'] },
  { name: 'a block: declaration, calls and stack', source: at('Decoder(heads', 3), to: 'Layer', lines: ['block Layer(window = none, heads = 4) {', 'body = [Layer(window: if i % 2 == 0 then 64 else none) for i in 0..L]', 'tail = Layer(heads: 8) * 2'] },
  { name: 'a block parameter and the named arguments that set it', source: at('window = none', 2), to: 'span', lines: ['block Decoder(span = none, heads = 4) {', 'attn = Attention(d, heads: heads, window: span)', 'body = [Decoder(span: if i % 2 == 0 then 64 else none) for i in 0..L]'] },
  { name: "a layer argument's name is not the block parameter's", source: at('heads: heads', 8), to: 'h', lines: ['block Decoder(window = none, h = 4) {', 'attn = Attention(d, heads: h, window: window)', 'tail = Decoder(h: 8) * 2'] },
  { name: 'a member through `tied` and sharing paths', source: at('attn = Attention', 1), to: 'self_attn', lines: ['self_attn = Attention(d, heads: heads, window: window)', 'out = Linear(d, d) tied self_attn', 'share body.self_attn: all'] },
  { name: 'a model: its variant follows', source: at('model M', 6), to: 'Base', lines: ['model Base(L = 4) {', 'variant V of Base {'] },
  { name: 'a variant: its budget follows', source: at('variant V', 8), to: 'Deep', lines: ['variant Deep of M {', 'budget Deep {'] },
  { name: 'a model parameter: the variant override follows', source: at('0..L', 3), to: 'depth', lines: ['model M(depth = 4) {', 'body = [Decoder(window: if i % 2 == 0 then 64 else none) for i in 0..depth]', 'depth = 8'] },
  { name: 'a loop variable', source: at('for i', 4), to: 'k', lines: ['body = [Decoder(window: if k % 2 == 0 then 64 else none) for k in 0..L]'] },
  { name: 'a name only another scope uses is free here', source: at('w = 64', 0), to: 'd', lines: ['d = 64', 'x = Linear(d, d)'] },
  { name: 'the same name: no edits', source: at('embed =', 0), to: 'embed', lines: [] },
  // Refusals.
  { name: 'a clash with a sibling member', source: at('mlp = MLP', 0), to: 'attn', refused: /Cannot rename 'mlp' to 'attn'/ },
  { name: 'a sibling member with no uses is still a duplicate', source: at('head = Linear', 0), to: 'tail', refused: /model M declares 'tail' already, at line 10/ },
  { name: 'capturing uses of an outer name', source: at('embed =', 0), to: 'd', refused: /the 'd' at line 8, column 27 would then refer to the renamed binding/ },
  { name: 'being captured by an inner declaration', source: at('d = 256', 0), to: 'heads', refused: /at line 3, column 20 the new name would refer to something else \(the parameter declared at line 2\)/ },
  { name: 'a model named like another', source: at('model Other', 6), to: 'M', refused: /the file declares 'M' already, at line 7/ },
  { name: 'a keyword', source: at('embed =', 0), to: 'share', refused: /'share' is a keyword/ },
  { name: 'not a name', source: at('embed =', 0), to: '2x', refused: /'2x' is not a name/ },
  { name: 'a layer kind', source: at('Embedding(', 3), to: 'Embed', refused: /'Embedding' is a builtin layer kind/ },
  { name: 'a strategy', source: at('cycle(1)', 2), to: 'loop', refused: /builtin strategy or method/ },
  { name: 'a layer argument', source: at('heads: heads', 2), to: 'h', refused: /argument of a builtin layer kind/ },
  { name: 'a number', source: at('1000, d', 1), to: 'n', refused: /A number cannot be renamed/ },
];

const baseline = analyze(SPEC);
assert.deepEqual(baseline.diagnostics.map((d) => d.code), [], 'the spec under test is clean');

for (const c of CASES) {
  test(`rename: ${c.name}`, () => {
    const { text, offset, analysis } = marked(c.source);
    const result = renameEdits(text, analysis, offset, c.to);
    if (c.refused) {
      assert.equal(result.ok, false, 'refused');
      if (!result.ok) assert.match(result.message, c.refused);
      return;
    }
    assert.ok(result.ok, result.ok ? '' : result.message);
    const renamed = applyEdits(text, result.edits);
    assert.deepEqual(changedLines(text, renamed), c.lines);
    const after = analyze(renamed);
    assert.deepEqual(after.diagnostics.map((d) => d.code), []);
    // The same models by position, with the same counts (model names may be what was renamed).
    assert.deepEqual(after.models.map((m) => m.params.stored), analysis.models.map((m) => m.params.stored));
  });
}

test('prepareRename: the name and its range on a declared symbol, a message elsewhere', () => {
  const { text, offset, analysis } = marked(at('tail: cycle', 2));
  const ok = prepareRename(text, analysis, offset);
  assert.ok(ok.ok);
  if (ok.ok) {
    assert.equal(ok.placeholder, 'tail');
    assert.equal(text.slice(ok.range.start, ok.range.end), 'tail');
  }
  const m = marked(at('Linear(w', 2));
  const refused = prepareRename(m.text, m.analysis, m.offset);
  assert.deepEqual(refused, { ok: false, message: "'Linear' is a builtin layer kind; only names declared in the file can be renamed." });
});
