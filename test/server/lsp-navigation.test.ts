// The navigation and editing features over real JSON-RPC, in process: references, document
// highlights, prepareRename and rename (a WorkspaceEdit, or an error message the client shows),
// signature help, semantic tokens (decoded against the declared legend), workspace symbols over
// every open document, folding ranges and selection ranges.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type {
  CodeAction,
  DocumentHighlight,
  FoldingRange,
  Location,
  SelectionRange,
  SemanticTokens,
  SignatureHelp,
  SymbolInformation,
  WorkspaceEdit,
} from 'vscode-languageserver/node';
import { analyze, groupDigits } from '../../src/core/index.js';
import { applyEdits, GEMMA, GEMMA_URI, positionAt, sharedSession, type TestSession } from './harness.js';

let s: TestSession;
sharedSession([[GEMMA_URI, GEMMA]], (session) => (s = session));

const at = positionAt;
const doc = { textDocument: { uri: GEMMA_URI } };
const lineText = (text: string, line: number): string => text.split('\n')[line]!.trim();

test('initialize declares references, highlights, rename with prepare, signature help, semantic tokens, workspace symbols, folding and selection ranges', () => {
  const c = s.initialize.capabilities;
  assert.equal(c.referencesProvider, true);
  assert.equal(c.documentHighlightProvider, true);
  assert.deepEqual(c.renameProvider, { prepareProvider: true });
  assert.deepEqual(c.signatureHelpProvider, { triggerCharacters: ['(', ','], retriggerCharacters: [':'] });
  assert.deepEqual(c.semanticTokensProvider?.legend.tokenTypes, ['type', 'class', 'function', 'method', 'enumMember', 'variable', 'property', 'parameter', 'keyword']);
  assert.deepEqual(c.semanticTokensProvider?.legend.tokenModifiers, ['declaration', 'readonly', 'defaultLibrary']);
  assert.equal(c.workspaceSymbolProvider, true);
  assert.equal(c.foldingRangeProvider, true);
  assert.equal(c.selectionRangeProvider, true);
});

test('references: every use of a member across the block, the stack and sharing; with and without the declaration', async () => {
  const refs = (includeDeclaration: boolean): Promise<Location[]> =>
    s.client.sendRequest<Location[]>('textDocument/references', { ...doc, position: at(GEMMA, 'Decoder * 18', 2), context: { includeDeclaration } });
  const all = await refs(true);
  assert.deepEqual(all.map((l) => [l.uri, lineText(GEMMA, l.range.start.line)]), [
    [GEMMA_URI, 'block Decoder {'],
    [GEMMA_URI, 'body    = Decoder * 18'],
  ]);
  assert.deepEqual(all[0]!.range, { start: at(GEMMA, 'Decoder {'), end: at(GEMMA, 'Decoder {', 7) });
  assert.deepEqual((await refs(false)).map((l) => lineText(GEMMA, l.range.start.line)), ['body    = Decoder * 18']);
  const d = await s.client.sendRequest<Location[]>('textDocument/references', { ...doc, position: at(GEMMA, 'd = 2048'), context: { includeDeclaration: true } });
  // d is declared once and used by the three norms, attention, the MLP, the embedding and the head.
  assert.equal(d.length, 8);
});

test('document highlights: the declaration is a write, uses are reads', async () => {
  const h = await s.client.sendRequest<DocumentHighlight[]>('textDocument/documentHighlight', { ...doc, position: at(GEMMA, 'tied embed', 6) });
  assert.deepEqual(h.map((x) => [lineText(GEMMA, x.range.start.line), x.kind]), [
    ['embed   = Embedding(vocab, d)', 3],
    ['lm_head = Linear(d, vocab) tied embed', 2],
  ]);
});

test('prepareRename and rename: a WorkspaceEdit that keeps the spec meaning the same; a clash and a builtin refused with a message', async () => {
  const position = at(GEMMA, 'body    =');
  const prepared = await s.client.sendRequest<{ range: unknown; placeholder: string }>('textDocument/prepareRename', { ...doc, position });
  assert.deepEqual(prepared, { range: { start: position, end: at(GEMMA, 'body    =', 4) }, placeholder: 'body' });
  const edit = await s.client.sendRequest<WorkspaceEdit>('textDocument/rename', { ...doc, position, newName: 'layers' });
  const renamed = applyEdits(GEMMA, edit.changes![GEMMA_URI]!);
  assert.equal(renamed, GEMMA.replace('body    =', 'layers    =').replaceAll('share body:', 'share layers:'));
  assert.deepEqual(analyze(renamed).models.map((m) => m.params.stored), analyze(GEMMA).models.map((m) => m.params.stored));
  await assert.rejects(s.client.sendRequest('textDocument/rename', { ...doc, position, newName: 'norm' }), /Cannot rename 'body' to 'norm': model Gemma2B declares 'norm' already/);
  await assert.rejects(s.client.sendRequest('textDocument/prepareRename', { ...doc, position: at(GEMMA, 'RMSNorm(d)', 2) }), /'RMSNorm' is a builtin layer kind/);
});

test('signature help in a layer call: the signature, the docs and the active argument', async () => {
  const uri = 'file:///work/signature.npas';
  const text = 'model M {\n  d = 64\n  a = Attention(d, heads: 8, kv_heads: \n}\n';
  await s.open(uri, text);
  const help = await s.client.sendRequest<SignatureHelp>('textDocument/signatureHelp', { textDocument: { uri }, position: at(text, 'kv_heads: ', 10) });
  const sig = help.signatures[0]!;
  assert.match(sig.label, /^Attention\(d, heads, kv_heads\?, head_dim\?/);
  const active = sig.parameters![help.activeParameter!]!;
  const [start, end] = active.label as [number, number];
  assert.equal(sig.label.slice(start, end), 'kv_heads?');
  assert.deepEqual(active.documentation, { kind: 'markdown', value: '`kv_heads` (optional, positional) — positive integer. Key/value heads (GQA; 1 is MQA); must divide heads. Default: heads.' });
  assert.equal(await s.client.sendRequest('textDocument/signatureHelp', { textDocument: { uri }, position: at(text, 'd = 64') }), null);
  // A sharing strategy being written.
  const strategy = 'model M {\n  a = Linear(64, 64) * 4\n  share a: cycle(\n}\n';
  await s.replace(uri, strategy, 2);
  const cycle = await s.client.sendRequest<SignatureHelp>('textDocument/signatureHelp', { textDocument: { uri }, position: at(strategy, 'cycle(', 6) });
  assert.equal(cycle.signatures[0]!.label, 'cycle(n)');
  assert.equal(cycle.activeParameter, 0);
});

test('semantic tokens: relative encoding against the legend, a layer kind, a block and a sharing keyword told apart', async () => {
  const { data } = await s.client.sendRequest<SemanticTokens>('textDocument/semanticTokens/full', doc);
  const legend = s.initialize.capabilities.semanticTokensProvider!.legend;
  const decoded: string[] = [];
  let line = 0;
  let character = 0;
  for (let i = 0; i < data.length; i += 5) {
    line += data[i]!;
    character = data[i]! === 0 ? character + data[i + 1]! : data[i + 1]!;
    const word = GEMMA.split('\n')[line]!.slice(character, character + data[i + 2]!);
    const modifiers = legend.tokenModifiers.filter((_, bit) => (data[i + 4]! & (1 << bit)) !== 0);
    decoded.push(`${line + 1}:${word}:${[legend.tokenTypes[data[i + 3]!], ...modifiers].join('+')}`);
  }
  const lineOf = (needle: string): number => at(GEMMA, needle).line + 1;
  for (const expected of [
    `${lineOf('block Decoder')}:Decoder:class+declaration`,
    `${lineOf('attn_norm = RMSNorm')}:RMSNorm:class+defaultLibrary`,
    `${lineOf('body    =')}:Decoder:class`,
    `${lineOf('share body: cycle(9)\n')}:share:keyword`,
    `${lineOf('share body: cycle(9)\n')}:cycle:method+defaultLibrary`,
    `${lineOf('d = 2048')}:d:variable+declaration+readonly`,
    `${lineOf('act: gelu')}:gelu:enumMember+defaultLibrary`,
  ]) {
    assert.ok(decoded.includes(expected), `${expected} in ${decoded.join(' ')}`);
  }
});

test('workspace symbols: a query over every open document', async () => {
  const uri = 'file:///work/library.npas';
  await s.open(uri, 'block GemmaDecoder(d) {\n  x = Linear(d, d)\n}\n');
  const found = await s.client.sendRequest<SymbolInformation[]>('workspace/symbol', { query: 'gemdec' });
  assert.deepEqual(found.map((x) => [x.name, x.location.uri, x.containerName ?? null]).sort(), [['GemmaDecoder', uri, null]]);
  const gemma = await s.client.sendRequest<SymbolInformation[]>('workspace/symbol', { query: 'RecursiveGemma' });
  assert.deepEqual(gemma.map((x) => x.name), ['RecursiveGemma', 'RelaxedRecursiveGemma']);
  assert.deepEqual(gemma[0]!.location, { uri: GEMMA_URI, range: { start: at(GEMMA, 'RecursiveGemma of'), end: at(GEMMA, 'RecursiveGemma of', 14) } });
});

test('folding ranges: the header comment, each declaration (its closing brace left visible), the block', async () => {
  const ranges = await s.client.sendRequest<FoldingRange[]>('textDocument/foldingRange', doc);
  const model = at(GEMMA, 'model Gemma2B').line;
  assert.deepEqual(ranges.find((r) => r.startLine === 0), { startLine: 0, endLine: 12, kind: 'comment' });
  assert.deepEqual(ranges.find((r) => r.startLine === model), { startLine: model, endLine: at(GEMMA, 'lm_head =').line });
  assert.deepEqual(ranges.find((r) => r.startLine === at(GEMMA, 'block Decoder').line), { startLine: at(GEMMA, 'block Decoder').line, endLine: at(GEMMA, 'mlp       =').line });
});

test('selection ranges: from a name out through its call, its binding, the block, the model, the file', async () => {
  const [range] = await s.client.sendRequest<SelectionRange[]>('textDocument/selectionRange', { ...doc, positions: [at(GEMMA, 'heads: 8', 2)] });
  const texts: string[] = [];
  const lines = GEMMA.split('\n');
  const slice = (r: SelectionRange['range']): string => (r.start.line === r.end.line ? lines[r.start.line]!.slice(r.start.character, r.end.character) : `${r.start.line}-${r.end.line}`);
  for (let r: SelectionRange | undefined = range; r; r = r.parent) texts.push(slice(r.range));
  assert.deepEqual(texts.slice(0, 5), ['heads', 'heads: 8', '(d, heads: 8, kv_heads: 1, head_dim: 256, rope: true)', 'Attention(d, heads: 8, kv_heads: 1, head_dim: 256, rope: true)', 'attn      = Attention(d, heads: 8, kv_heads: 1, head_dim: 256, rope: true)']);
  const line = (needle: string): number => at(GEMMA, needle).line;
  // Then the block, the model, and the whole file.
  assert.deepEqual(texts.slice(5), [`${line('block Decoder')}-${line('  }\n  embed')}`, `${line('model Gemma2B')}-${line('}\n\n# Pure')}`, `0-${lines.length - 1}`]);
});

test("refactorings as code actions: sharing Gemma's 18-layer stack previews the published counts; `only` filters by kind", async () => {
  // The model alone: in the example its variants share the stack already, and a scheme in the
  // base would overlap theirs (an error, so the refactoring is not offered there).
  const uri = 'file:///work/gemma-only.npas';
  const text = GEMMA.slice(0, GEMMA.indexOf('# Pure recursion'));
  await s.open(uri, text);
  const actions = (only?: string[]): Promise<CodeAction[]> => {
    const p = at(text, 'body    = Decoder', 2);
    return s.client.sendRequest<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: { start: p, end: p }, context: { diagnostics: [], ...(only ? { only } : {}) } });
  };
  const all = await actions(['refactor']);
  // Gemma 2B stores 2,506,172,416; one decoder layer is 110,104,576 (the example's header); sharing
  // the 18 layers in a cycle of k keeps k of them. cycle(9) is the paper's Recursive Gemma, 1,515,231,232.
  const perLayer = 110_104_576n;
  const stored = 2_506_172_416n;
  const expected = [18, 9, 6, 3].map((k) => `${k === 18 ? 'all' : `cycle(${k})`}: ${groupDigits(stored)} → ${groupDigits(stored - BigInt(18 - (k === 18 ? 1 : k)) * perLayer)} params stored`);
  assert.deepEqual(all.filter((a) => a.title.startsWith("Share 'body' as ")).map((a) => a.title.slice("Share 'body' as ".length)), expected);
  assert.ok(expected[1]!.endsWith('1,515,231,232 params stored'));
  const cycle9 = all.find((a) => a.title.includes('cycle(9)'))!;
  assert.equal(cycle9.kind, 'refactor.rewrite');
  assert.equal(applyEdits(text, cycle9.edit!.changes![uri]!), text.replace('body    = Decoder * 18\n', 'body    = Decoder * 18\n  share body: cycle(9)\n'));
  // On the example itself the variants already share the stack: no scheme is offered in the base.
  const p = at(GEMMA, 'body    = Decoder', 2);
  const inExample = await s.client.sendRequest<CodeAction[]>('textDocument/codeAction', { ...doc, range: { start: p, end: p }, context: { diagnostics: [], only: ['refactor'] } });
  assert.ok(!inExample.some((a) => a.title.startsWith('Share')));
  assert.ok(all.some((a) => a.title === 'Write the stack as a comprehension'));
  // The lightbulb's automatic requests skip the previews (each analyses a rewritten spec).
  const p0 = at(text, 'body    = Decoder', 2);
  const automatic = await s.client.sendRequest<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: { start: p0, end: p0 }, context: { diagnostics: [], triggerKind: 2 } });
  assert.deepEqual(automatic.map((a) => a.title), ['Write the stack as a comprehension']);
  assert.deepEqual((await actions(['quickfix'])).map((a) => a.title), []);
  assert.deepEqual((await actions(['refactor.extract'])).map((a) => a.title), []);
  assert.deepEqual([...new Set((await actions(['refactor.rewrite'])).map((a) => a.kind))], ['refactor.rewrite']);
});
