// Refactorings, data-driven: a spec with the selection marked `<<…>>` (or a cursor `<<` alone),
// the title of the refactoring to apply, and the text it must produce. Every result must analyse
// without errors; the block and stack rewrites must keep every model's stored, effective and
// active counts, the sharing ones change them exactly as their title says. Cases where a
// refactoring must not be offered list the titles that are absent.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, applyEdits, groupDigits, refactorings } from '../../../src/core/index.js';

/** The text without markers and the selection they mark. */
function selection(marked: string): { text: string; range: { start: number; end: number } } {
  const start = marked.indexOf('<<');
  assert.ok(start >= 0, 'a << marker');
  const withoutStart = marked.slice(0, start) + marked.slice(start + 2);
  const end = withoutStart.indexOf('>>');
  const text = end >= 0 ? withoutStart.slice(0, end) + withoutStart.slice(end + 2) : withoutStart;
  return { text, range: { start, end: end >= 0 ? end : start } };
}

const counts = (text: string): string[] => analyze(text).models.map((m) => `${m.name}: ${m.params.stored}/${m.params.effective}/${m.params.active}`);

const TWO_MODELS = `d = 64
block Layer {
  attn = Attention(d, heads: 4)
  mlp = MLP(d, 4 * d)
}
model Small {
  embed = Embedding(1000, d)
  body = Layer * 6
  head = Linear(d, 1000) tied embed
}
model Large {
  embed = Embedding(1000, d)
  body = Layer * 12
  head = Linear(d, 1000) tied embed
}
variant SmallShared of Small {
  share body: cycle(3)
}
`;

const CASES: readonly { name: string; source: string; title: string | RegExp; result?: string; keepsCounts?: boolean; absent?: readonly RegExp[] }[] = [
  {
    name: 'extract two members into a block',
    source: 'model M {\n  d = 64\n  embed = Embedding(100, d)\n  <<a = Linear(d, d)\n  b = MLP(d, 4 * d)>>\n  head = Linear(d, 100) tied embed\n}\n',
    title: 'Extract 2 members into a block',
    result: 'model M {\n  d = 64\n  embed = Embedding(100, d)\n  block Extracted {\n    a = Linear(d, d)\n    b = MLP(d, 4 * d)\n  }\n  extracted = Extracted\n  head = Linear(d, 100) tied embed\n}\n',
    keepsCounts: true,
  },
  {
    name: 'extract is not offered when a moved member is referred to outside (tied)',
    source: 'model M {\n  d = 64\n  <<embed = Embedding(100, d)\n  a = Linear(d, d)>>\n  head = Linear(d, 100) tied embed\n}\n',
    title: '',
    absent: [/^Extract/],
  },
  {
    name: 'extract is not offered for part of a member',
    source: 'model M {\n  d = 64\n  a = Lin<<ear(d, d)\n  b = MLP(d, 4 * d)>>\n}\n',
    title: '',
    absent: [/^Extract/],
  },
  {
    name: 'inline a block used once',
    source: 'model M {\n  d = 64\n  block B {\n    a = Linear(d, d)\n    c = RMSNorm(d)\n  }\n  x<< = B\n  y = Linear(d, d)\n}\n',
    title: "Inline block 'B' into model 'M'",
    result: 'model M {\n  d = 64\n  a = Linear(d, d)\n  c = RMSNorm(d)\n  y = Linear(d, d)\n}\n',
    keepsCounts: true,
  },
  {
    name: 'inline is not offered when a member name is taken in the model',
    source: 'model M {\n  d = 64\n  block B {\n    y = Linear(d, d)\n  }\n  x<< = B\n  y = Linear(d, d)\n}\n',
    title: '',
    absent: [/^Inline/],
  },
  {
    name: 'a stack as a comprehension',
    source: TWO_MODELS.replace('body = Layer * 6', 'body = Layer *<< 6'),
    title: 'Write the stack as a comprehension',
    result: TWO_MODELS.replace('body = Layer * 6', 'body = [Layer for i in 0..6]'),
    keepsCounts: true,
  },
  {
    name: 'a comprehension whose body ignores the loop variable as a stack',
    source: 'model M {\n  d = 64\n  L = 3\n  body = [Linear(d, d) f<<or k in 1..L + 1]\n}\n',
    title: 'Write the comprehension as a stack (X * N)',
    result: 'model M {\n  d = 64\n  L = 3\n  body = Linear(d, d) * ((L + 1) - 1)\n}\n',
    keepsCounts: true,
  },
  {
    name: 'a comprehension that uses its variable stays',
    source: 'model M {\n  d = 64\n  body = [Attention(d, heads: 4, window: if i % 2 == 0 then 64 else none) f<<or i in 0..4]\n}\n',
    title: '',
    absent: [/as a stack/],
  },
  {
    name: 'identical written-out layers into a stack',
    source: 'model M {\n  d = 64\n  l0 = Linear(d, d)\n  l1 = Linear(d, d)<<\n  l2 = Linear(d,  d)\n  out = RMSNorm(d)\n}\n',
    title: "Turn 3 identical layers into a stack 'l = … * 3'",
    result: 'model M {\n  d = 64\n  l = Linear(d, d) * 3\n  out = RMSNorm(d)\n}\n',
    keepsCounts: true,
  },
  {
    name: 'not when one of them is referred to',
    source: 'model M {\n  d = 64\n  l0 = Linear(d, d)\n  l1 = Linear(d, d)<<\n  out = Linear(d, d) tied l1\n}\n',
    title: '',
    absent: [/identical layers/],
  },
  {
    // 6 instances of 4·64·64 + 4·64 (attention) + 2·64·256 + 256 + 64 (MLP with biases)… the
    // exact numbers are the engine's; what the title must say is checked against analyses of both texts.
    name: 'share a stack with cycle(3), the title previewing stored params before and after',
    source: TWO_MODELS.replace('body = Layer * 12', 'bo<<dy = Layer * 12'),
    title: /^Share 'body' as cycle\(3\): [\d,]+ → [\d,]+ params stored$/,
    result: TWO_MODELS.replace('body = Layer * 12', 'body = Layer * 12\n  share body: cycle(3)'),
  },
  {
    name: "a variant's sharing imported into a new variant of another model",
    source: TWO_MODELS.replace('variant SmallShared', 'variant Small<<Shared'),
    title: /^New variant of 'Large' with the sharing of 'SmallShared': [\d,]+ → [\d,]+ params stored$/,
    result: `${TWO_MODELS}\nvariant SmallSharedOnLarge of Large {\n  share body: cycle(3)\n}\n`,
  },
];

for (const c of CASES) {
  test(`refactoring: ${c.name}`, () => {
    const { text, range } = selection(c.source);
    const analysis = analyze(text);
    const offered = refactorings(text, analysis, range);
    for (const absent of c.absent ?? []) assert.ok(!offered.some((r) => absent.test(r.title)), `${absent} offered: ${offered.map((r) => r.title).join(' | ')}`);
    if (c.result === undefined) return;
    const chosen = offered.find((r) => (typeof c.title === 'string' ? r.title === c.title : c.title.test(r.title)));
    assert.ok(chosen, `'${String(c.title)}' among ${JSON.stringify(offered.map((r) => r.title))}`);
    const after = applyEdits(text, chosen.edits);
    assert.equal(after, c.result);
    assert.deepEqual(analyze(after).diagnostics.filter((d) => d.severity === 'error').map((d) => d.code), []);
    if (c.keepsCounts) assert.deepEqual(counts(after), counts(text));
  });
}

test('the sharing previews state the stored counts of the texts before and after', () => {
  const { text, range } = selection(TWO_MODELS.replace('body = Layer * 12', 'bo<<dy = Layer * 12'));
  const analysis = analyze(text);
  const stored = (t: string, model: string): bigint => analyze(t).models.find((m) => m.name === model)!.params.stored;
  const offered = refactorings(text, analysis, range).filter((r) => r.title.startsWith("Share 'body'"));
  // all, then the proper divisors of 12 from the largest: 6, 4, 3.
  assert.deepEqual(offered.map((r) => r.title.split(':')[0]), ["Share 'body' as all", "Share 'body' as cycle(6)", "Share 'body' as cycle(4)", "Share 'body' as cycle(3)"]);
  for (const r of offered) {
    const after = applyEdits(text, r.edits);
    assert.ok(r.title.endsWith(`${groupDigits(stored(text, 'Large'))} → ${groupDigits(stored(after, 'Large'))} params stored`), r.title);
  }
  // Sharing a 12-layer stack with cycle(k) keeps k layers' weights: the saving is (12 − k) layers, independent of the rest.
  const perLayer = (stored(text, 'Large') - stored(applyEdits(text, offered[0]!.edits), 'Large')) / 11n;
  const cycle3 = stored(applyEdits(text, offered[3]!.edits), 'Large');
  assert.equal(stored(text, 'Large') - cycle3, 9n * perLayer);
  const variant = refactorings(...((): [string, typeof analysis, { start: number; end: number }] => {
    const s = selection(TWO_MODELS.replace('variant SmallShared', 'variant Small<<Shared'));
    return [s.text, analyze(s.text), s.range];
  })());
  assert.equal(variant.length, 1, 'Small is the base (already that sharing); Large is the one other model');
});
