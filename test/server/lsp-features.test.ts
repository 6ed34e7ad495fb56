// Every language feature through real JSON-RPC, in process: initialize (the declared
// capabilities), pull diagnostics, hover, completion, definition, symbols, code lens, inlay
// hints, formatting, code actions, npas/modelReports, re-analysis on change, and a malformed
// request that must not take the server down.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type {
  CodeAction,
  CodeLens,
  CompletionList,
  DocumentDiagnosticReport,
  DocumentSymbol,
  Hover,
  InlayHint,
  LocationLink,
  TextEdit,
} from 'vscode-languageserver/node';
import { MODEL_REPORTS_METHOD, SHOW_DASHBOARD_COMMAND, type ModelReportsResult } from '../../src/protocol/lsp-extensions.js';
import { applyEdits, cursor, GEMMA, GEMMA_URI, positionAt, positionOf, sharedSession, type TestSession } from './harness.js';

let s: TestSession;
sharedSession([[GEMMA_URI, GEMMA]], (session) => (s = session));

const at = positionAt;

test('initialize declares every feature, pull diagnostics and incremental sync', () => {
  const c = s.initialize.capabilities;
  assert.deepEqual(c.textDocumentSync, { openClose: true, change: 2 });
  assert.deepEqual(c.diagnosticProvider, { identifier: 'npas', interFileDependencies: true, workspaceDiagnostics: false });
  assert.equal(c.hoverProvider, true);
  assert.deepEqual(c.completionProvider?.triggerCharacters, ['.', ':', '(', ',', '[']);
  assert.equal(c.definitionProvider, true);
  assert.ok(c.documentSymbolProvider);
  assert.deepEqual(c.codeLensProvider, { resolveProvider: false });
  assert.deepEqual(c.inlayHintProvider, { resolveProvider: false });
  assert.equal(c.documentFormattingProvider, true);
  assert.deepEqual(c.codeActionProvider, { codeActionKinds: ['quickfix', 'refactor', 'refactor.extract', 'refactor.inline', 'refactor.rewrite'], resolveProvider: false });
  assert.equal(s.initialize.serverInfo?.name, 'npas-language-server');
});

test('pull diagnostics: an example is clean; a broken spec reports stable codes, exact ranges, severities and source npas', async () => {
  const clean = await s.client.sendRequest<DocumentDiagnosticReport>('textDocument/diagnostic', { textDocument: { uri: GEMMA_URI } });
  assert.equal(clean.kind, 'full');
  assert.deepEqual(clean.kind === 'full' ? clean.items : undefined, []);
  // Asking again with the result id answers "unchanged".
  const again = await s.client.sendRequest<DocumentDiagnosticReport>('textDocument/diagnostic', { textDocument: { uri: GEMMA_URI }, previousResultId: clean.resultId });
  assert.equal(again.kind, 'unchanged');

  const uri = 'file:///work/broken.npas';
  const text = 'model M {\n  x = Linear(8, 8)\n  y = Atention(8, heads: 2)\n}\nbudget M {\n  params.stored <= 10\n}\n';
  await s.open(uri, text);
  const report = await s.client.sendRequest<DocumentDiagnosticReport>('textDocument/diagnostic', { textDocument: { uri } });
  assert.equal(report.kind, 'full');
  const items = report.kind === 'full' ? report.items : [];
  assert.deepEqual(
    items.map((d) => [d.code, d.severity, d.source, d.range]),
    [
      ['npas-name-unknown', 1, 'npas', { start: { line: 2, character: 6 }, end: { line: 2, character: 14 } }],
      ['npas-budget-violated', 1, 'npas', { start: { line: 5, character: 2 }, end: { line: 5, character: 21 } }],
    ],
  );
  const message = items[1]!.message;
  assert.match(typeof message === 'string' ? message : message.value, /params\.stored is 64, the limit is <= 10/);
});

test('hover on a model name: exact params, FLOPs (a multiply-add = 2 FLOPs), KV cache, memory, roofline', async () => {
  const h = await s.client.sendRequest<Hover>('textDocument/hover', { textDocument: { uri: GEMMA_URI }, position: at(GEMMA, 'model Gemma2B', 7) });
  const value = typeof h.contents === 'object' && 'value' in h.contents ? h.contents.value : '';
  assert.equal(typeof h.contents === 'object' && 'kind' in h.contents ? h.contents.kind : '', 'markdown');
  assert.match(value, /\| stored \| 2,506,172,416 \|/);
  assert.match(value, /a multiply-add = 2 FLOPs/);
  assert.match(value, /KV cache\*\* at seq 4,096, batch 1, bf16: 75,497,472 bytes \(72\.00 MiB\)/);
  assert.match(value, /Roofline on H100/);
  assert.deepEqual(h.range, { start: at(GEMMA, 'Gemma2B {'), end: at(GEMMA, 'Gemma2B {', 7) });
});

test('hover on a layer kind shows its signature and argument docs', async () => {
  const h = await s.client.sendRequest<Hover>('textDocument/hover', { textDocument: { uri: GEMMA_URI }, position: at(GEMMA, 'Attention(d', 3) });
  const value = typeof h.contents === 'object' && 'value' in h.contents ? h.contents.value : '';
  assert.match(value, /Attention\(d, heads, kv_heads\?, head_dim\?/);
  assert.match(value, /`heads` \(required, positional\) — positive integer\. Query heads\./);
});

test('completion inside a layer call offers the arguments not yet given, as `name: `', async () => {
  const uri = 'file:///work/completion.npas';
  const { text, offset } = cursor('model M {\n  d = 64\n  a = Attention(d, heads: 4, $0)\n}\n');
  await s.open(uri, text);
  const list = await s.client.sendRequest<CompletionList>('textDocument/completion', { textDocument: { uri }, position: positionOf(text, offset) });
  const labels = list.items.map((i) => i.label);
  assert.ok(labels.includes('kv_heads'));
  assert.ok(!labels.includes('heads'), 'heads is given already');
  assert.ok(!labels.includes('d'.padEnd(2, '_')));
  const kvHeads = list.items.find((i) => i.label === 'kv_heads')!;
  assert.deepEqual(kvHeads.textEdit, { range: { start: positionOf(text, offset), end: positionOf(text, offset) }, newText: 'kv_heads: ' });
  // Layer kinds come with signature snippets.
  const { text: t2, offset: o2 } = cursor('model M {\n  d = 64\n  a = Att$0\n}\n');
  await s.replace(uri, t2, 2);
  const list2 = await s.client.sendRequest<CompletionList>('textDocument/completion', { textDocument: { uri }, position: positionOf(t2, o2) });
  const attention = list2.items.find((i) => i.label === 'Attention')!;
  assert.equal(attention.insertTextFormat, 2);
  assert.equal(attention.textEdit && 'newText' in attention.textEdit ? attention.textEdit.newText : '', 'Attention(${1:d}, ${2:heads})$0');
});

test('go to definition: a name, a tied path, a variant base', async () => {
  const def = (needle: string, delta: number): Promise<LocationLink[]> =>
    s.client.sendRequest<LocationLink[]>('textDocument/definition', { textDocument: { uri: GEMMA_URI }, position: at(GEMMA, needle, delta) });
  const d = await def('RMSNorm(d)', 8);
  assert.deepEqual(d[0]!.targetSelectionRange, { start: at(GEMMA, 'd = 2048'), end: at(GEMMA, 'd = 2048', 1) });
  const tied = await def('tied embed', 6);
  assert.deepEqual(tied[0]!.targetSelectionRange, { start: at(GEMMA, 'embed   ='), end: at(GEMMA, 'embed   =', 5) });
  const base = await def('of Gemma2B', 4);
  assert.deepEqual(base[0]!.targetSelectionRange, { start: at(GEMMA, 'Gemma2B {'), end: at(GEMMA, 'Gemma2B {', 7) });
  const share = await def('share body', 7);
  assert.deepEqual(share[0]!.targetSelectionRange, { start: at(GEMMA, 'body    ='), end: at(GEMMA, 'body    =', 4) });
});

test('document symbols: models, variants, budgets, blocks and members, hierarchical', async () => {
  const symbols = await s.client.sendRequest<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri: GEMMA_URI } });
  assert.deepEqual(symbols.map((x) => [x.name, x.kind]), [['Gemma2B', 5], ['RecursiveGemma', 5], ['RelaxedRecursiveGemma', 5], ['RelaxedRecursiveGemma', 3]]);
  const gemma = symbols[0]!;
  assert.deepEqual(gemma.children?.map((c) => `${c.name}:${c.detail}`), ['vocab:256,000', 'd:2,048', 'Decoder:block', 'embed:Embedding', 'body:18 × Decoder', 'norm:RMSNorm', 'lm_head:Linear tied embed']);
  const decoder = gemma.children?.find((c) => c.name === 'Decoder');
  assert.deepEqual(decoder?.children?.map((c) => `${c.name}:${c.detail}`), ['attn_norm:RMSNorm', 'attn:Attention', 'mlp_norm:RMSNorm', 'mlp:GatedMLP']);
});

test('code lens: params stored and FLOP/token per model, with the dashboard command and the model name', async () => {
  const lenses = await s.client.sendRequest<CodeLens[]>('textDocument/codeLens', { textDocument: { uri: GEMMA_URI } });
  const model = lenses.find((l) => l.command?.command === SHOW_DASHBOARD_COMMAND && l.command.arguments?.[0] === 'RelaxedRecursiveGemma');
  assert.ok(model);
  assert.match(model.command!.title, /^1,593,677,824 params stored · \d+(\.\d+)? GFLOP\/token$/);
  const recursive = lenses.find((l) => l.command?.arguments?.[0] === 'RecursiveGemma')!;
  assert.match(recursive.command!.title, /^1,515,231,232 params stored/);
  const block = lenses.find((l) => l.command?.title.includes('per instance'));
  assert.match(block!.command!.title, /^110,104,576 params · 220\.2 MFLOP\/token per instance · ×18 in Gemma2B$/);
});

test('inlay hints: evaluated constants that are not literals, stack lengths that are not written', async () => {
  const uri = 'file:///work/hints.npas';
  const text = 'model M(L = 3) {\n  d = 2048\n  ff = 4 * d\n  block B { x = Linear(d, ff) }\n  body = B * L\n}\n';
  await s.open(uri, text);
  const hints = await s.client.sendRequest<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 6, character: 0 } } });
  assert.deepEqual(hints.map((h) => [h.label, h.position]), [['= 8,192', at(text, '\n  block')], ['×3', at(text, '\n}')]]);
});

test('formatting returns minimal edits to the canonical form', async () => {
  const uri = 'file:///work/format.npas';
  const text = 'model   M{\n    d=8   # width\n  x = Linear( d ,d )\n}';
  await s.open(uri, text);
  const edits = await s.client.sendRequest<TextEdit[]>('textDocument/formatting', { textDocument: { uri }, options: { tabSize: 4, insertSpaces: true } });
  assert.equal(applyEdits(text, edits), 'model M {\n  d = 8  # width\n  x = Linear(d, d)\n}\n');
  // A file with a syntax error is left alone.
  await s.replace(uri, 'model M {\n  d = = 8\n}\n', 2);
  assert.deepEqual(await s.client.sendRequest<TextEdit[]>('textDocument/formatting', { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } }), []);
});

test('code actions: "did you mean" for an unknown layer kind, a placeholder for a missing argument, nothing for a violated budget', async () => {
  const uri = 'file:///work/fixes.npas';
  const text = 'model M {\n  a = Atention(8, heads: 2)\n  b = RMSNorm()\n}\nbudget M {\n  params.stored <= 1\n}\n';
  await s.open(uri, text);
  const fixesAt = async (needle: string, delta: number): Promise<CodeAction[]> => {
    const p = at(text, needle, delta);
    return s.client.sendRequest<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: { start: p, end: p }, context: { diagnostics: [] } });
  };
  const unknown = await fixesAt('Atention', 2);
  assert.equal(unknown[0]!.title, "Change to 'Attention'");
  assert.equal(unknown[0]!.isPreferred, true);
  assert.equal(unknown[0]!.diagnostics?.[0]?.code, 'npas-name-unknown');
  assert.equal(applyEdits(text, unknown[0]!.edit!.changes![uri]!), text.replace('Atention', 'Attention'));
  const missing = await fixesAt('RMSNorm()', 8);
  assert.equal(missing[0]!.title, "Add the argument 'd: '");
  assert.equal(applyEdits(text, missing[0]!.edit!.changes![uri]!), text.replace('RMSNorm()', 'RMSNorm(d: )'));
  assert.deepEqual(await fixesAt('params.stored', 3), []);
});

test('code actions: "Allocate N parameters to NAME…" on a model or variant line runs the client\'s npas.allocate, read from the syntax tree', async () => {
  const uri = 'file:///work/allocate-action.npas';
  const text = 'model M {\n  x = Linear(8, 8)\n}\n  variant V of M {\n  x = Linear(8, 4)\n}\nbudget M {\n  params.stored <= 100\n}\n';
  await s.open(uri, text);
  const allocateAt = async (needle: string, delta: number, only?: string[]): Promise<CodeAction | undefined> => {
    const p = at(text, needle, delta);
    const actions = await s.client.sendRequest<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: { start: p, end: p }, context: { diagnostics: [], ...(only ? { only } : {}) } });
    return actions.find((a) => a.title.startsWith('Allocate'));
  };
  const onModel = await allocateAt('model M', 0);
  assert.equal(onModel?.title, 'Allocate N parameters to M…');
  assert.equal(onModel?.kind, 'refactor.rewrite');
  assert.deepEqual(onModel?.command, { title: 'Allocate N parameters to M…', command: 'npas.allocate', arguments: [{ model: 'M', document: uri }] });
  // Anywhere on the header line up to the name's end, indentation included; not in the body, not on a budget.
  assert.equal((await allocateAt('variant V', 8))?.title, 'Allocate N parameters to V…');
  assert.equal((await allocateAt('  variant V', 0))?.title, 'Allocate N parameters to V…');
  assert.equal(await allocateAt('x = Linear(8, 8)', 2), undefined);
  assert.equal(await allocateAt('budget M', 7), undefined);
  assert.equal(await allocateAt('model M', 6, ['quickfix']), undefined);
});

test('code actions: a missing parenthesis inserted, a repeated argument removed, a hidden layer kind renamed with its uses', async () => {
  const uri = 'file:///work/more-fixes.npas';
  const text = 'model M {\n  d = 8\n  MLP = MLP(d, 4 * d)\n  body = MLP * 2\n  a = Attention(d, heads: 2, heads: 4)\n  b = Linear(d, d\n}\n';
  await s.open(uri, text);
  const fixesAt = async (needle: string, delta: number): Promise<CodeAction[]> => {
    const p = at(text, needle, delta);
    return s.client.sendRequest<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: { start: p, end: p }, context: { diagnostics: [] } });
  };
  const paren = (await fixesAt('Linear(d, d', 11)).find((a) => a.diagnostics?.[0]?.code === 'npas-syntax-expected')!;
  assert.equal(paren.title, "Insert ')'");
  assert.equal(applyEdits(text, paren.edit!.changes![uri]!), text.replace('Linear(d, d', 'Linear(d, d)'));
  const repeated = (await fixesAt('heads: 4', 1)).find((a) => a.diagnostics?.[0]?.code === 'npas-layer-duplicate-arg')!;
  assert.equal(repeated.title, "Remove the repeated 'heads'");
  assert.equal(applyEdits(text, repeated.edit!.changes![uri]!), text.replace(', heads: 4', ''));
  const hidden = (await fixesAt('MLP =', 1)).find((a) => a.diagnostics?.[0]?.code === 'npas-name-shadows-builtin')!;
  assert.equal(hidden.title, "Rename 'MLP' to 'mlp'");
  assert.equal(applyEdits(text, hidden.edit!.changes![uri]!), text.replace('MLP = MLP', 'mlp = MLP').replace('MLP * 2', 'mlp * 2'));
});

test('npas/modelReports: JSON-safe summaries with exact counts as decimal strings', async () => {
  const r = await s.client.sendRequest<ModelReportsResult>(MODEL_REPORTS_METHOD, { uri: GEMMA_URI });
  assert.equal(r.version, 1);
  assert.deepEqual(r.settings, { sequenceLength: 4096, batchSize: 1, dtype: 'bf16', device: 'H100' });
  assert.deepEqual(r.models.map((m) => [m.name, m.kind, m.base, m.params.stored]), [
    ['Gemma2B', 'model', null, '2506172416'],
    ['RecursiveGemma', 'variant', 'Gemma2B', '1515231232'],
    ['RelaxedRecursiveGemma', 'variant', 'Gemma2B', '1593677824'],
  ]);
  const relaxed = r.models[2]!;
  assert.equal(relaxed.kvCacheBytes, '75497472');
  assert.equal(relaxed.budgets.length, 2);
  assert.equal(relaxed.budgets[0]!.ok, true);
  assert.deepEqual(relaxed.range, { start: at(GEMMA, 'RelaxedRecursiveGemma of'), end: at(GEMMA, 'RelaxedRecursiveGemma of', 21) });
  assert.equal(relaxed.tree, undefined);
  const withTree = await s.client.sendRequest<ModelReportsResult>(MODEL_REPORTS_METHOD, { uri: GEMMA_URI, includeTree: true });
  assert.equal(withTree.models[0]!.tree?.children.map((c) => c.name).join(','), 'embed,body,norm,lm_head');
  const closed = await s.client.sendRequest<ModelReportsResult>(MODEL_REPORTS_METHOD, { uri: 'file:///not-open.npas' });
  assert.deepEqual([closed.version, closed.models], [null, []]);
});

test('didChange re-analyses once per version, and every feature of that version shares the analysis', async () => {
  const uri = 'file:///work/change.npas';
  await s.open(uri, 'model M {\n  x = Linear(8, 8)\n}\n');
  const first = await s.client.sendRequest<DocumentDiagnosticReport>('textDocument/diagnostic', { textDocument: { uri } });
  assert.deepEqual(first.kind === 'full' ? first.items : [], []);
  const runs = s.server.analyses.runs;
  // An incremental edit: `8, 8` → `8, 8x` (a bad unit suffix).
  await s.client.sendNotification('textDocument/didChange', { textDocument: { uri, version: 2 }, contentChanges: [{ range: { start: { line: 1, character: 16 }, end: { line: 1, character: 17 } }, text: '8x' }] });
  const second = await s.client.sendRequest<DocumentDiagnosticReport>('textDocument/diagnostic', { textDocument: { uri } });
  assert.deepEqual(second.kind === 'full' ? second.items.map((d) => d.code) : [], ['npas-syntax-bad-number']);
  await s.client.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 1, character: 3 } });
  await s.client.sendRequest('textDocument/documentSymbol', { textDocument: { uri } });
  await s.client.sendRequest('textDocument/codeLens', { textDocument: { uri } });
  assert.equal(s.server.analyses.runs, runs + 1);
});

test('a malformed request is answered with an empty result and a logged error; the server keeps serving', async () => {
  const logged = s.logs.length;
  const hover = await s.client.sendRequest('textDocument/hover', { textDocument: { uri: GEMMA_URI }, position: { line: 'one' } });
  assert.equal(hover, null);
  const symbols = await s.client.sendRequest('textDocument/documentSymbol', { textDocument: null });
  assert.deepEqual(symbols, []);
  const reports = await s.client.sendRequest(MODEL_REPORTS_METHOD, { uri: 42 });
  assert.equal(reports, null);
  assert.ok(s.logs.slice(logged).some((l) => l.type === 1 && /textDocument\/hover failed/.test(l.message)));
  // Unknown methods are JSON-RPC errors, not crashes.
  await assert.rejects(s.client.sendRequest('npas/noSuchMethod', {}), /Unhandled method|not found/i);
  const h = await s.client.sendRequest<Hover>('textDocument/hover', { textDocument: { uri: GEMMA_URI }, position: at(GEMMA, 'model Gemma2B', 7) });
  assert.ok(h);
});
