// Issue 18, part 4, in the language server over real JSON-RPC (in process): imports are read
// from the open documents first, then from disk; a change to an imported file re-diagnoses its
// importers (pulled and pushed); each file's diagnostics are published on that file; go to
// definition and hover lead across files; an unchanged import is not parsed again per keystroke.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CompletionItem, CompletionList, DocumentDiagnosticReport, DocumentHighlight, Hover, Location, LocationLink, SignatureHelp, WorkspaceEdit } from 'vscode-languageserver/node';
import { DASHBOARD_DATA_METHOD, type DashboardDataAnswer, type DashboardDataParams } from '../../src/protocol/lsp-extensions.js';
import { applyEdits, MINIMAL_CAPABILITIES, positionAt, startSession, until, type TestSession } from './harness.js';

// Linear(64, 64, bias: false) = 4,096 params; the library's block holds two, Base four blocks.
const LIB = ['d = 64', 'block Pair {', '  a = Linear(d, d, bias: false)', '  b = Linear(d, d, bias: false)', '}', 'model Base {', '  body = Pair * 4', '}', ''].join('\n');
const EXP = ['import "lib/blocks.npas"', 'variant Shared of Base {', '  share body: all', '}', 'model Mine {', '  body = Pair * 2', '}', 'budget Shared {', '  params.stored <= 8192', '}', ''].join('\n');

let dir: string;
let libUri: string;
let expUri: string;
let s: TestSession;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'npas-lsp-multi-'));
  // The library exists on disk only; the experiments file is open.
  const libPath = join(dir, 'lib', 'blocks.npas');
  mkdirSync(join(dir, 'lib'));
  writeFileSync(libPath, LIB);
  libUri = pathToFileURL(libPath).href;
  expUri = pathToFileURL(join(dir, 'exp.npas')).href;
  s = await startSession();
  await s.open(expUri, EXP);
});
after(async () => {
  await s.close();
  rmSync(dir, { recursive: true, force: true });
});

const at = positionAt;
const pull = async (uri: string, previousResultId?: string): Promise<DocumentDiagnosticReport> =>
  s.client.sendRequest<DocumentDiagnosticReport>('textDocument/diagnostic', { textDocument: { uri }, ...(previousResultId ? { previousResultId } : {}) });
const items = (r: DocumentDiagnosticReport): { code: unknown; line: number; message: string }[] =>
  r.kind === 'full' ? r.items.map((d) => ({ code: d.code, line: d.range.start.line, message: typeof d.message === 'string' ? d.message : d.message.value })) : [];

test('an import read from disk: the importer is clean and meets its budget (one shared Pair: 2 × 4,096)', async () => {
  assert.deepEqual(items(await pull(expUri)), []);
});

test('go to definition leads to the file that declares an imported block, model or path', async () => {
  const links = await s.client.sendRequest<LocationLink[]>('textDocument/definition', { textDocument: { uri: expUri }, position: at(EXP, 'Pair * 2', 1) });
  assert.equal(links.length, 1);
  assert.equal(links[0]!.targetUri, libUri);
  assert.deepEqual(links[0]!.targetSelectionRange, { start: at(LIB, 'Pair {'), end: at(LIB, 'Pair {', 4) });
  assert.deepEqual(links[0]!.targetRange.start, at(LIB, 'block Pair'));
  assert.deepEqual(links[0]!.originSelectionRange, { start: at(EXP, 'Pair * 2'), end: at(EXP, 'Pair * 2', 4) });
  const base = await s.client.sendRequest<LocationLink[]>('textDocument/definition', { textDocument: { uri: expUri }, position: at(EXP, 'Base {', 2) });
  assert.deepEqual([base[0]!.targetUri, base[0]!.targetSelectionRange.start], [libUri, at(LIB, 'Base {')]);
  const path = await s.client.sendRequest<LocationLink[]>('textDocument/definition', { textDocument: { uri: expUri }, position: at(EXP, 'lib/blocks', 3) });
  assert.deepEqual([path[0]!.targetUri, path[0]!.targetRange.start], [libUri, { line: 0, character: 0 }]);
});

test('hover on an imported name says what it is and which file declares it', async () => {
  const h = await s.client.sendRequest<Hover>('textDocument/hover', { textDocument: { uri: expUri }, position: at(EXP, 'Pair * 2', 2) });
  const value = (h.contents as { value: string }).value;
  assert.match(value, /block \*\*Pair\*\* — imported from `blocks\.npas`/);
  assert.match(value, /block Pair \{/);
});

test("npas/dashboardData's answer names the files an open document imports, for the dashboard to follow", async () => {
  const ask = (uri: string): Promise<DashboardDataAnswer | null> => s.client.sendRequest<DashboardDataAnswer | null>(DASHBOARD_DATA_METHOD, { uri, source: 'exp.npas' } satisfies DashboardDataParams);
  const answer = await ask(expUri);
  // One request per update: the names, the error count and the imports beside the encoded data.
  assert.deepEqual([answer?.models, answer?.errors, answer?.imports], [['Base', 'Shared', 'Mine'], 0, [libUri]]);
  // A document that is not open has no dashboard data (and so no imports to follow).
  assert.equal(await ask(libUri), null);
});

test('an open imported document is read instead of the disk; editing it re-diagnoses the importer, its own errors stay on it', async () => {
  const before = await pull(expUri);
  assert.equal(before.kind, 'full');
  // Opened with d = 128: one shared Pair is now 2 × 128² = 32,768, over the importer's budget.
  const wider = LIB.replace('d = 64', 'd = 128');
  await s.open(libUri, wider);
  const after = await pull(expUri, before.kind === 'full' ? before.resultId : undefined);
  assert.deepEqual(items(after).map((d) => [d.code, d.line]), [['npas-budget-violated', 8]]);
  assert.match(items(after)[0]!.message, /32,768/);
  // An error written in the library is published on the library, not on its importer.
  const broken = wider.replace('model Base {', 'x = nothing\nmodel Base {');
  await s.replace(libUri, broken, 2);
  assert.deepEqual(items(await pull(libUri)).map((d) => [d.code, d.line]), [['npas-name-unknown', 5]]);
  // The importer shows one error at its import, naming the library's first error.
  const importer = items(await pull(expUri)).filter((d) => d.code !== 'npas-budget-violated');
  assert.deepEqual(importer.map((d) => [d.code, d.line]), [['npas-import-errors', 0]]);
  assert.match(importer[0]!.message, /blocks\.npas:6:5: npas-name-unknown: unknown name 'nothing'/);
  // Closed again: the importer reads the disk's d = 64 and meets its budget.
  await s.client.sendNotification('textDocument/didClose', { textDocument: { uri: libUri } });
  assert.deepEqual(items(await pull(expUri)), []);
});

test('a keystroke in the importer does not parse an unchanged import again', async () => {
  const first = s.server.analyses.get(s.server.documents.get(expUri)!);
  await s.replace(expUri, EXP + '# a comment\n', 5);
  await until(() => s.server.documents.get(expUri)?.version === 5, 'the edit');
  const second = s.server.analyses.get(s.server.documents.get(expUri)!);
  assert.notEqual(second.compilation, first.compilation);
  assert.equal(second.compilation.imported[0]!.file, first.compilation.imported[0]!.file, 'the same parsed tree of blocks.npas');
});

test('a missing import is a diagnostic at its path', async () => {
  const uri = pathToFileURL(join(dir, 'missing.npas')).href;
  const text = 'import "nope.npas"\nx = 1\n';
  await s.open(uri, text);
  assert.deepEqual(items(await pull(uri)).map((d) => [d.code, d.line]), [['npas-import-missing', 0]]);
});

test('pushed diagnostics: a change to an open library is pushed to its open importers', async () => {
  const push = await startSession({ capabilities: MINIMAL_CAPABILITIES });
  try {
    const lib = 'file:///mem/lib.npas';
    const exp = 'file:///mem/exp.npas';
    const first = push.nextDiagnostics(exp);
    await push.open(lib, LIB);
    await push.open(exp, 'import "lib.npas"\nbudget Base {\n  params.stored <= 32768\n}\n');
    assert.deepEqual((await first).diagnostics, []);
    const changed = push.nextDiagnostics(exp, (p) => p.diagnostics.length > 0);
    await push.replace(lib, LIB.replace('d = 64', 'd = 65'), 2);
    const pushed = await changed;
    assert.deepEqual(pushed.diagnostics.map((d) => [d.code, d.range.start.line]), [['npas-budget-violated', 2]]);
    // Four Pairs of two 65×65 matrices.
    assert.match(String(pushed.diagnostics[0]!.message), /33,800/);
  } finally {
    await push.close();
  }
});

test('references across files: a block imported from a closed library — its declaration and stack there, its use here', async () => {
  const refs = await s.client.sendRequest<Location[]>('textDocument/references', { textDocument: { uri: expUri }, position: at(EXP, 'Pair * 2', 1), context: { includeDeclaration: true } });
  const where = refs.map((r) => [r.uri === libUri ? 'lib' : r.uri === expUri ? 'exp' : r.uri, r.range.start.line, r.range.start.character, r.range.end.character]);
  assert.deepEqual(where, [
    ['lib', 1, 6, 10],
    ['lib', 6, 9, 13],
    ['exp', 5, 9, 13],
  ]);
  const uses = await s.client.sendRequest<Location[]>('textDocument/references', { textDocument: { uri: expUri }, position: at(EXP, 'Pair * 2', 1), context: { includeDeclaration: false } });
  assert.equal(uses.length, 2);
  // Highlights stay in the document: the imported name's one use here.
  const highlights = await s.client.sendRequest<DocumentHighlight[]>('textDocument/documentHighlight', { textDocument: { uri: expUri }, position: at(EXP, 'of Base', 4) });
  assert.deepEqual(highlights.map((h) => [h.range.start.line, h.kind]), [[1, 2]]);
});

test('rename across files: an imported block renamed from its use, in the library and here, as one WorkspaceEdit; a clash refused', async () => {
  const prepared = await s.client.sendRequest<{ range: { start: unknown }; placeholder: string }>('textDocument/prepareRename', { textDocument: { uri: expUri }, position: at(EXP, 'Pair * 2', 2) });
  assert.deepEqual([prepared.range.start, prepared.placeholder], [at(EXP, 'Pair * 2'), 'Pair']);
  const edit = await s.client.sendRequest<WorkspaceEdit>('textDocument/rename', { textDocument: { uri: expUri }, position: at(EXP, 'Pair * 2', 2), newName: 'Duo' });
  assert.deepEqual(Object.keys(edit.changes ?? {}).sort(), [expUri, libUri].sort());
  assert.equal(applyEdits(LIB, edit.changes![libUri]!), LIB.replace('block Pair', 'block Duo').replace('Pair * 4', 'Duo * 4'));
  assert.ok(applyEdits(EXP, edit.changes![expUri]!).includes('body = Duo * 2'));
  // The model Base renamed to a name the importer declares: refused, saying where.
  const clash = await s.client.sendRequest('textDocument/rename', { textDocument: { uri: expUri }, position: at(EXP, 'of Base', 4), newName: 'Mine' }).then(
    () => undefined,
    (e: { message: string }) => e.message,
  );
  assert.match(String(clash), /exp\.npas declares 'Mine' already, at line 5/);
});

test("members across files: a sharing path in the importer's variant names the library model's member — definition, references, prepareRename and rename reach both files; the importer's own body stays", async () => {
  const path = at(EXP, 'share body', 'share '.length + 1);
  const refs = await s.client.sendRequest<Location[]>('textDocument/references', { textDocument: { uri: expUri }, position: path, context: { includeDeclaration: true } });
  assert.deepEqual(
    refs.map((r) => [r.uri === libUri ? 'lib' : r.uri === expUri ? 'exp' : r.uri, r.range.start.line, r.range.start.character]),
    [
      ['lib', 6, 2],
      ['exp', 2, 8],
    ],
  );
  const links = await s.client.sendRequest<LocationLink[]>('textDocument/definition', { textDocument: { uri: expUri }, position: path });
  assert.deepEqual(
    links.map((l) => [l.targetUri === libUri, l.targetSelectionRange.start, l.originSelectionRange?.start]),
    [[true, at(LIB, 'body = Pair'), at(EXP, 'share body', 'share '.length)]],
  );
  const prepared = await s.client.sendRequest<{ range: { start: unknown }; placeholder: string }>('textDocument/prepareRename', { textDocument: { uri: expUri }, position: path });
  assert.deepEqual([prepared.range.start, prepared.placeholder], [at(EXP, 'share body', 'share '.length), 'body']);
  const edit = await s.client.sendRequest<WorkspaceEdit>('textDocument/rename', { textDocument: { uri: expUri }, position: path, newName: 'layers' });
  assert.equal(applyEdits(LIB, edit.changes![libUri]!), LIB.replace('body = Pair * 4', 'layers = Pair * 4'));
  assert.equal(applyEdits(EXP, edit.changes![expUri]!), EXP.replace('share body: all', 'share layers: all'));
});

test('completion offers what the imports bring in, and signature help reads an imported block from its file', async () => {
  const libPath = join(dir, 'lib', 'dec.npas');
  writeFileSync(libPath, 'k = 8\nblock Dec(width = 64, heads) {\n  a = Attention(width, heads)\n}\nmodel Lib {\n  x = Linear(k, k)\n}\n');
  const uri = pathToFileURL(join(dir, 'sig.npas')).href;
  const text = 'import "lib/dec.npas"\nmodel S {\n  y = Dec(heads: 4, \n}\nvariant V of \n';
  await s.open(uri, text);
  const help = await s.client.sendRequest<SignatureHelp>('textDocument/signatureHelp', { textDocument: { uri }, position: at(text, 'heads: 4', 'heads: '.length) });
  assert.equal(help.signatures[0]!.label, 'Dec(width = 64, heads)');
  const [start, end] = help.signatures[0]!.parameters![help.activeParameter!]!.label as [number, number];
  assert.equal(help.signatures[0]!.label.slice(start, end), 'heads');
  const items = async (needle: string, delta: number): Promise<CompletionItem[]> =>
    (await s.client.sendRequest<CompletionList>('textDocument/completion', { textDocument: { uri }, position: at(text, needle, delta) })).items;
  const inCall = await items('heads: 4, ', 'heads: 4, '.length);
  assert.deepEqual(inCall.filter((i) => i.label === 'k' || i.label === 'Dec').map((i) => [i.label, i.detail]), [
    ['Dec', 'block from dec.npas'],
    ['k', '8 — from dec.npas'],
  ]);
  const bases = await items('variant V of ', 'variant V of '.length);
  assert.ok(bases.some((i) => i.label === 'Lib' && i.detail === 'model from dec.npas'), JSON.stringify(bases.map((i) => i.label)));
});

test('an import cycle is reported at the import that closes it, and at the open importer that reaches it', async () => {
  // b.npas (on disk only) imports a.npas back: the import in b closes the cycle; a hears of it at its own import.
  writeFileSync(join(dir, 'b.npas'), 'import "a.npas"\nk = 2\n');
  const aUri = pathToFileURL(join(dir, 'a.npas')).href;
  const text = 'import "b.npas"\nmodel A {\n  l = Linear(k, k)\n}\n';
  await s.open(aUri, text);
  const diagnostics = items(await pull(aUri));
  assert.deepEqual(diagnostics.map((d) => [d.code, d.line]), [['npas-import-errors', 0]]);
  assert.match(diagnostics[0]!.message, /b\.npas:1:8: npas-import-cycle: this import closes a cycle: a\.npas → b\.npas → a\.npas/);
});
