// The refactorings as code actions over real JSON-RPC (issue 18), each applied as the client
// applies its one WorkspaceEdit and re-analysed: extract members into a block and inline it back
// (a round trip to the original text), `X * N` into a comprehension and back, and importing a
// variant's sharing into a new variant of another model, whose title previews stored params
// derived here by hand, and identical written-out layers turned into a stack. (Sharing a stack,
// with its previews: lsp-navigation.test.ts.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CodeAction, Range } from 'vscode-languageserver/node';
import { analyze } from '../../src/core/index.js';
import { applyEdits, positionAt, sharedSession, type TestSession } from './harness.js';

const URI = 'file:///work/refactorings.npas';
// Linear(64, 64) has no bias by default: 4,096 params; RMSNorm(64) 64.
const SPEC = ['model M {', '  d = 64', '  norm = RMSNorm(d)', '  proj = Linear(d, d)', '  body = Linear(d, d) * 4', '}', ''].join('\n');

let s: TestSession;
sharedSession([[URI, SPEC]], (session) => (s = session));

let version = 1;
/** The refactorings offered on `range` of the document, now holding `text`. */
async function offered(text: string, range: Range, kind = 'refactor'): Promise<CodeAction[]> {
  await s.replace(URI, text, ++version);
  return s.client.sendRequest<CodeAction[]>('textDocument/codeAction', { textDocument: { uri: URI }, range, context: { diagnostics: [], only: [kind] } });
}

/** The text after the one action titled `title`, checked to analyse clean. */
function applied(text: string, actions: readonly CodeAction[], title: string, kind: string): string {
  const action = actions.find((a) => a.title === title);
  assert.ok(action, `'${title}' among ${JSON.stringify(actions.map((a) => a.title))}`);
  assert.equal(action.kind, kind);
  const edits = action.edit?.changes?.[URI];
  assert.ok(edits && Object.keys(action.edit!.changes!).length === 1, 'one WorkspaceEdit on this document');
  const out = applyEdits(text, edits);
  assert.deepEqual(analyze(out).diagnostics, []);
  return out;
}

const stored = (text: string): bigint[] => analyze(text).models.map((m) => m.params.stored);

test('extract two members into a block, then inline the block: the original text, every count kept', async () => {
  const selection = { start: positionAt(SPEC, '  norm'), end: positionAt(SPEC, 'Linear(d, d)\n', 'Linear(d, d)'.length) };
  const extracted = applied(SPEC, await offered(SPEC, selection, 'refactor.extract'), 'Extract 2 members into a block', 'refactor.extract');
  assert.equal(extracted, SPEC.replace('  norm = RMSNorm(d)\n  proj = Linear(d, d)\n', '  block Extracted {\n    norm = RMSNorm(d)\n    proj = Linear(d, d)\n  }\n  extracted = Extracted\n'));
  // 64 + 4,096 + 4 · 4,096 = 20,544 before and after.
  assert.deepEqual(stored(extracted), [20_544n]);
  const p = positionAt(extracted, 'extracted = Extracted', 1);
  const inlined = applied(extracted, await offered(extracted, { start: p, end: p }, 'refactor.inline'), "Inline block 'Extracted' into model 'M'", 'refactor.inline');
  assert.equal(inlined, SPEC);
});

test('a stack written as a comprehension and back', async () => {
  const p = positionAt(SPEC, 'body =', 1);
  const comprehension = applied(SPEC, await offered(SPEC, { start: p, end: p }, 'refactor.rewrite'), 'Write the stack as a comprehension', 'refactor.rewrite');
  assert.equal(comprehension, SPEC.replace('Linear(d, d) * 4', '[Linear(d, d) for i in 0..4]'));
  assert.deepEqual(stored(comprehension), [20_544n]);
  const q = positionAt(comprehension, '[Linear', 2);
  const back = applied(comprehension, await offered(comprehension, { start: q, end: q }, 'refactor.rewrite'), 'Write the comprehension as a stack (X * N)', 'refactor.rewrite');
  assert.equal(back, SPEC);
});

test("a variant's sharing imported into a new variant of another model, its stored params previewed", async () => {
  const text = ['model A {', '  body = Linear(64, 64) * 4', '}', 'model B {', '  body = Linear(32, 32) * 6', '}', 'variant SharedA of A {', '  share body: all', '}', ''].join('\n');
  const p = positionAt(text, 'SharedA of', 2);
  // B stores 6 · 32² = 6,144; with `share body: all` one layer, 1,024.
  const title = "New variant of 'B' with the sharing of 'SharedA': 6,144 → 1,024 params stored";
  const actions = await offered(text, { start: p, end: p });
  // A is SharedA's own base: nothing is offered for it.
  assert.deepEqual(actions.filter((a) => a.title.startsWith('New variant')).map((a) => a.title), [title]);
  const out = applied(text, actions, title, 'refactor');
  assert.equal(out, `${text}\nvariant SharedAOnB of B {\n  share body: all\n}\n`);
  assert.deepEqual(stored(out), [16_384n, 6_144n, 4_096n, 1_024n]);
});

test('identical written-out layers become one stack, every count kept', async () => {
  const text = ['model S {', '  d = 64', '  l0 = Linear(d, d)', '  l1 = Linear(d, d)', '  l2 = Linear(d, d)', '  out = RMSNorm(d)', '}', ''].join('\n');
  const p = positionAt(text, 'l1 =', 1);
  const out = applied(text, await offered(text, { start: p, end: p }, 'refactor.rewrite'), "Turn 3 identical layers into a stack 'l = … * 3'", 'refactor.rewrite');
  assert.equal(out, text.replace('  l0 = Linear(d, d)\n  l1 = Linear(d, d)\n  l2 = Linear(d, d)\n', '  l = Linear(d, d) * 3\n'));
  // 3 · 4,096 + 64 = 12,352 before and after.
  assert.deepEqual(stored(text), [12_352n]);
  assert.deepEqual(stored(out), [12_352n]);
});
