// References and rename across the files of a program (issue 18): a top-level constant, block,
// model or variant declared in a library occurs in every file importing it, directly or through
// another file, and in `from "…" import` lists; a name an importer declares itself is its own.
// Table-driven: the cursor ($0) in one file, the occurrences expected in each file as the text
// of their lines, or the rename's result as each file's changed lines (then re-analysed: no new
// error, every model's stored count unchanged) or its refusal.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyEdits, compile, ParsedSources, programOccurrencesAt, programRenameEdits, programSymbolAt, type ProgramFile } from '../../../src/core/index.js';

const LIB = `d = 64
block Pair {
  a = Linear(d, d, bias: false)
  b = Linear(d, d, bias: false)
}
model Base {
  body = Pair * 4
}
`;
// Imports the library whole and uses its block, constant and model; declares its own Pair-free names.
const EXP = `import "lib.npas"
variant Shared of Base {
  share body: all
}
model Mine {
  body = Pair * 2
  head = Linear(d, 10)
}
budget Base {
  params.stored <= 1M
}
`;
// Imports the library selectively; its own d shadows the library's.
const SEL = `from "lib.npas" import Pair, Base
d = 32
model Small {
  body = Pair * 1
  proj = Linear(d, d)
}
`;
// Reaches the library through the experiments file only.
const FAR = `import "exp.npas"
variant Far of Shared {
}
model Near {
  x = Pair
}
`;
// A block parameter named like a candidate new name, in a file using the library's Pair.
const CAPTURE = `import "lib.npas"
block Wrap(Twin = 2) {
  inner = Pair * Twin
}
model W {
  w = Wrap(Twin: 3)
}
`;

type Files = Readonly<Record<string, string>>;
const FILES: Files = { '/w/lib.npas': LIB, '/w/exp.npas': EXP, '/w/sel.npas': SEL, '/w/far.npas': FAR, '/w/capture.npas': CAPTURE };

/** Each file compiled as its own main file, its imports read from `files`. */
function program(files: Files): ProgramFile[] {
  const cache = new ParsedSources();
  const host = { read: (s: string) => files[s], cache };
  return Object.entries(files).map(([source, text]) => ({ source, compilation: compile(text, { source, imports: host }) }));
}

/** `files` with the cursor put `delta` characters into the `occurrence`-th `needle` of `source`. */
function cursorIn(files: ProgramFile[], source: string, needle: string, delta: number, occurrence = 0): { file: ProgramFile; offset: number } {
  const file = files.find((f) => f.source === source)!;
  let i = -1;
  for (let k = 0; k <= occurrence; k++) i = file.compilation.text.indexOf(needle, i + 1);
  assert.ok(i >= 0, needle);
  return { file, offset: i + delta };
}

const lineOf = (text: string, offset: number): string => text.slice(text.lastIndexOf('\n', offset - 1) + 1, text.indexOf('\n', offset)).trim();

const REFERENCES: readonly { name: string; at: [string, string, number, number?]; expected: Readonly<Record<string, readonly string[]>> }[] = [
  {
    name: 'a block, from its declaration: its stack in the library, uses in importers direct, selective and transitive',
    at: ['/w/lib.npas', 'block Pair', 7],
    expected: {
      '/w/lib.npas': ['block Pair {', 'body = Pair * 4'],
      '/w/exp.npas': ['body = Pair * 2'],
      '/w/sel.npas': ['from "lib.npas" import Pair, Base', 'body = Pair * 1'],
      '/w/far.npas': ['x = Pair'],
      '/w/capture.npas': ['inner = Pair * Twin'],
    },
  },
  {
    name: 'the same block, from a use in an importer',
    at: ['/w/far.npas', 'x = Pair', 5],
    expected: {
      '/w/lib.npas': ['block Pair {', 'body = Pair * 4'],
      '/w/exp.npas': ['body = Pair * 2'],
      '/w/sel.npas': ['from "lib.npas" import Pair, Base', 'body = Pair * 1'],
      '/w/far.npas': ['x = Pair'],
      '/w/capture.npas': ['inner = Pair * Twin'],
    },
  },
  {
    name: "a constant: the importer that declares its own d is left out",
    at: ['/w/lib.npas', 'd = 64', 0],
    expected: {
      '/w/lib.npas': ['d = 64', 'a = Linear(d, d, bias: false)', 'a = Linear(d, d, bias: false)', 'b = Linear(d, d, bias: false)', 'b = Linear(d, d, bias: false)'],
      '/w/exp.npas': ['head = Linear(d, 10)'],
    },
  },
  {
    name: 'a model: a variant of it and a budget of it in an importer, a selective import',
    at: ['/w/exp.npas', 'of Base', 4],
    expected: {
      '/w/lib.npas': ['model Base {'],
      '/w/exp.npas': ['variant Shared of Base {', 'budget Base {'],
      '/w/sel.npas': ['from "lib.npas" import Pair, Base'],
    },
  },
  {
    name: 'a variant declared in an importer, used by a file importing that one',
    at: ['/w/exp.npas', 'variant Shared', 9],
    expected: { '/w/exp.npas': ['variant Shared of Base {'], '/w/far.npas': ['variant Far of Shared {'] },
  },
  { name: "a model's member: a sharing path in an importer's variant of the model", at: ['/w/lib.npas', 'body = Pair', 1], expected: { '/w/lib.npas': ['body = Pair * 4'], '/w/exp.npas': ['share body: all'] } },
  { name: "an importer's own constant shadowing the library's is its own", at: ['/w/sel.npas', 'Linear(d', 8], expected: { '/w/sel.npas': ['d = 32', 'proj = Linear(d, d)', 'proj = Linear(d, d)'] } },
];

for (const c of REFERENCES) {
  test(`references across files: ${c.name}`, () => {
    const files = program(FILES);
    const { file, offset } = cursorIn(files, ...c.at);
    const found = programOccurrencesAt(files, file, offset);
    assert.ok(found);
    const actual = Object.fromEntries(found.files.map((f) => [f.source, f.occurrences.map((o) => lineOf(FILES[f.source]!, o.range.start))]));
    assert.deepEqual(actual, c.expected);
    // Each range is exactly the name.
    for (const f of found.files) for (const o of f.occurrences) assert.equal(FILES[f.source]!.slice(o.range.start, o.range.end), found.symbol.name);
  });
}

/** Every model's stored parameters in every file, and the files' errors. */
function measured(files: Files): { stored: Record<string, string>; errors: string[] } {
  const stored: Record<string, string> = {};
  const errors: string[] = [];
  for (const f of program(files)) {
    const a = f.compilation.analysis();
    for (const m of a.models) stored[`${f.source}:${m.source ?? ''}:${m.name}`] = String(m.params.stored);
    for (const d of a.diagnostics) if (d.severity === 'error') errors.push(`${f.source}: ${d.code} ${d.message}`);
  }
  return { stored, errors };
}

/** A rename at a cursor (file, needle, offset in it, occurrence): the lines it changes per file, or the message refusing it. */
interface RenameCase {
  readonly name: string;
  readonly at: [string, string, number, number?];
  readonly to: string;
  readonly changed?: Readonly<Record<string, readonly string[]>>;
  readonly refused?: RegExp;
}

/**
 * Renames as the case says over `sources` and checks the changed lines, or the refusal; an
 * accepted rename changes no meaning: the same errors everywhere, every model's stored count
 * the same. `acrossFiles` lets the cursor's symbol be looked up in the file declaring it (a
 * member of an imported model). Answers the measurements before and after, for further checks.
 */
function checkRename(sources: Files, c: RenameCase, acrossFiles: boolean): { before: ReturnType<typeof measured>; after: ReturnType<typeof measured> } | undefined {
  const files = program(sources);
  const { file, offset } = cursorIn(files, ...c.at);
  const symbol = acrossFiles ? programSymbolAt(file, offset, (s) => files.find((f) => f.source === s)) : programSymbolAt(file, offset);
  assert.ok(symbol);
  const result = programRenameEdits(files, symbol, c.to);
  if (c.refused) {
    assert.equal(result.ok, false);
    if (!result.ok) assert.match(result.message, c.refused);
    return undefined;
  }
  assert.ok(result.ok, result.ok ? '' : result.message);
  const renamed: Record<string, string> = { ...sources };
  for (const e of result.edits) renamed[e.source] = applyEdits(sources[e.source]!, e.edits);
  const changed = Object.fromEntries(
    Object.keys(sources)
      .map((source) => [source, renamed[source]!.split('\n').filter((line, i) => line !== sources[source]!.split('\n')[i]).map((l) => l.trim())] as const)
      .filter(([, lines]) => lines.length > 0),
  );
  assert.deepEqual(changed, c.changed);
  const before = measured(sources);
  const after = measured(renamed);
  assert.deepEqual(after.errors, before.errors);
  assert.deepEqual(Object.values(after.stored), Object.values(before.stored));
  return { before, after };
}

const RENAMES: readonly RenameCase[] = [
  {
    name: 'a block across the library and every importer',
    at: ['/w/exp.npas', 'Pair * 2', 1],
    to: 'Duo',
    changed: {
      '/w/lib.npas': ['block Duo {', 'body = Duo * 4'],
      '/w/exp.npas': ['body = Duo * 2'],
      '/w/sel.npas': ['from "lib.npas" import Duo, Base', 'body = Duo * 1'],
      '/w/far.npas': ['x = Duo'],
      '/w/capture.npas': ['inner = Duo * Twin'],
    },
  },
  {
    name: 'a model: variants, budgets and selective imports follow',
    at: ['/w/lib.npas', 'model Base', 6],
    to: 'Core',
    changed: { '/w/lib.npas': ['model Core {'], '/w/exp.npas': ['variant Shared of Core {', 'budget Core {'], '/w/sel.npas': ['from "lib.npas" import Pair, Core'] },
  },
  { name: 'refused: an importer declares the new name', at: ['/w/lib.npas', 'model Base', 6], to: 'Mine', refused: /exp\.npas declares 'Mine' already, at line 5/ },
  { name: 'refused: a block parameter of an importer would capture a renamed use', at: ['/w/lib.npas', 'block Pair', 7], to: 'Twin', refused: /in capture\.npas at line 3, column 11 the new name would refer to a name of that file/ },
  { name: 'refused: an importer sees another name spelt so', at: ['/w/sel.npas', 'Pair * 1', 1], to: 'Base', refused: /exp\.npas imports 'Base' from lib\.npas already/ },
  { name: 'refused: the declaring file declares the new name (the single-file check)', at: ['/w/exp.npas', 'Linear(d', 7], to: 'Pair', refused: /the 'Pair' at line 7, column 10 would then refer to the renamed binding instead of the block it names now/ },
  { name: 'refused: not a name', at: ['/w/lib.npas', 'block Pair', 7], to: '2x', refused: /is not a name/ },
];

for (const c of RENAMES) {
  test(`rename across files: ${c.name}`, () => {
    checkRename(FILES, c, false);
  });
}

// Members and parameters across files: a library's model with a parameter, a block with a
// parameter and members, and a variant of the model in the library itself.
const MLIB = `d = 64
block Decoder(heads = 4) {
  attn = Attention(d, heads)
  mlp = MLP(d, 4 * d)
}
model Base(L = 4) {
  body = Decoder * L
  head = Linear(d, 10)
}
variant Deep of Base {
  L = 8
}
`;
// Variants of the library's model and variant (overrides, sharing paths into its members), a
// model setting the block's parameter by name and sharing a path through the imported block.
const MEXP = `import "lib.npas"
layers = 6
variant Wide of Base {
  L = layers
  share body.attn: all
}
model Mine {
  body = Decoder(heads: 8) * 2
  share body.mlp: all
}
variant Deeper of Deep {
  L = 12
  share body: cycle(2)
}
`;
// A variant of the experiments file's variant: the library's parameter two files away.
const MFAR = `import "exp.npas"
variant Far of Wide {
  L = 2
}
`;
// Its own names spelt like the library's members: never occurrences of them.
const MOWN = `import "lib.npas"
model Own(L = 3) {
  body = Decoder * L
  attn = Linear(d, d)
  share body: all
}
`;
const MEMBER_FILES: Files = { '/m/lib.npas': MLIB, '/m/exp.npas': MEXP, '/m/far.npas': MFAR, '/m/own.npas': MOWN };

const MEMBER_REFERENCES: readonly { name: string; at: [string, string, number, number?]; expected: Readonly<Record<string, readonly string[]>> }[] = [
  {
    name: "a model's parameter, from its declaration: the overrides of variants in the library, an importer and a file two imports away",
    at: ['/m/lib.npas', 'L = 4', 0],
    expected: { '/m/lib.npas': ['model Base(L = 4) {', 'body = Decoder * L', 'L = 8'], '/m/exp.npas': ['L = layers', 'L = 12'], '/m/far.npas': ['L = 2'] },
  },
  {
    name: 'the same parameter, from an override two files away',
    at: ['/m/far.npas', 'L = 2', 0],
    expected: { '/m/lib.npas': ['model Base(L = 4) {', 'body = Decoder * L', 'L = 8'], '/m/exp.npas': ['L = layers', 'L = 12'], '/m/far.npas': ['L = 2'] },
  },
  {
    name: "a block's member: a sharing path through the imported model's stack",
    at: ['/m/lib.npas', 'attn =', 0],
    expected: { '/m/lib.npas': ['attn = Attention(d, heads)'], '/m/exp.npas': ['share body.attn: all'] },
  },
  {
    name: "a block's parameter, from the named argument that sets it in an importer",
    at: ['/m/exp.npas', 'heads: 8', 1],
    expected: { '/m/lib.npas': ['block Decoder(heads = 4) {', 'attn = Attention(d, heads)'], '/m/exp.npas': ['body = Decoder(heads: 8) * 2'] },
  },
  {
    name: "a model's member, from a sharing path in a variant of a variant: the importer's own body is its own",
    at: ['/m/exp.npas', 'share body: cycle', 'share '.length + 1],
    expected: { '/m/lib.npas': ['body = Decoder * L'], '/m/exp.npas': ['share body.attn: all', 'share body: cycle(2)'] },
  },
  {
    name: "a block's member through an importer's own stack of the imported block",
    at: ['/m/exp.npas', 'body.mlp', 'body.'.length + 1],
    expected: { '/m/lib.npas': ['mlp = MLP(d, 4 * d)'], '/m/exp.npas': ['share body.mlp: all'] },
  },
];

for (const c of MEMBER_REFERENCES) {
  test(`references across files: ${c.name}`, () => {
    const files = program(MEMBER_FILES);
    const { file, offset } = cursorIn(files, ...c.at);
    const found = programOccurrencesAt(files, file, offset);
    assert.ok(found);
    assert.equal(found.symbol.scope, 'member');
    const actual = Object.fromEntries(found.files.map((f) => [f.source, f.occurrences.map((o) => lineOf(MEMBER_FILES[f.source]!, o.range.start))]));
    assert.deepEqual(actual, c.expected);
    for (const f of found.files) for (const o of f.occurrences) assert.equal(MEMBER_FILES[f.source]!.slice(o.range.start, o.range.end), found.symbol.name);
  });
}

test('references across files: a member without the program (no lookup) is not a program symbol', () => {
  const files = program(MEMBER_FILES);
  const { file, offset } = cursorIn(files, '/m/lib.npas', 'attn =', 0);
  assert.equal(programSymbolAt(file, offset), undefined);
});

const MEMBER_RENAMES: readonly RenameCase[] = [
  {
    name: "a model's parameter from an importer's override: the declaration, its use and every override in three files",
    at: ['/m/exp.npas', 'L = layers', 0],
    to: 'depth',
    changed: { '/m/lib.npas': ['model Base(depth = 4) {', 'body = Decoder * depth', 'depth = 8'], '/m/exp.npas': ['depth = layers', 'depth = 12'], '/m/far.npas': ['depth = 2'] },
  },
  {
    name: "a block's member and the importer's path through it",
    at: ['/m/lib.npas', 'attn =', 0],
    to: 'mixer',
    changed: { '/m/lib.npas': ['mixer = Attention(d, heads)'], '/m/exp.npas': ['share body.mixer: all'] },
  },
  {
    name: "a block's parameter from the importer's named argument",
    at: ['/m/exp.npas', 'heads: 8', 0],
    to: 'h',
    changed: { '/m/lib.npas': ['block Decoder(h = 4) {', 'attn = Attention(d, h)'], '/m/exp.npas': ['body = Decoder(h: 8) * 2'] },
  },
  { name: 'refused: the declaring model has a member of the new name (the single-file check)', at: ['/m/lib.npas', 'body =', 0], to: 'head', refused: /declares 'head' already/ },
  {
    name: "refused: an importer's override would capture the importer's constant its value names",
    at: ['/m/lib.npas', 'L = 4', 0],
    to: 'layers',
    refused: /in exp\.npas at line 4, column 7 the name would then refer to something else/,
  },
];

for (const c of MEMBER_RENAMES) {
  test(`rename across files: ${c.name}`, () => {
    const measuredPair = checkRename(MEMBER_FILES, c, true);
    // These files compile cleanly, before the rename and after it.
    if (measuredPair) assert.deepEqual(measuredPair.after.errors, []);
  });
}
