/// <reference types="mocha" />
// References, highlights, rename, signature help, semantic tokens, workspace symbols, folding
// and selection ranges, asked through VS Code's own commands as the editor asks them.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { eventually, languageServerReady, openFixture, positionOf, scratchDocument } from './helpers';

describe('navigation on the Gemma example', () => {
  let doc: vscode.TextDocument;
  before(async () => {
    await languageServerReady();
    doc = (await openFixture('gemma.npas')).document;
  });
  const lineOf = (range: vscode.Range): string => doc.lineAt(range.start.line).text.trim();

  it('find references: the block Decoder is declared once and stacked once', async () => {
    const refs = await eventually(
      () => vscode.commands.executeCommand<vscode.Location[]>('vscode.executeReferenceProvider', doc.uri, positionOf(doc, 'Decoder * 18', 2)).then((r) => (r.length > 0 ? r : undefined)),
      15_000,
      'references of Decoder',
    );
    assert.deepEqual(refs.map((l) => lineOf(l.range)), ['block Decoder {', 'body    = Decoder * 18']);
  });

  it('document highlights: the tied embedding is written once and read once', async () => {
    const highlights = await vscode.commands.executeCommand<vscode.DocumentHighlight[]>('vscode.executeDocumentHighlights', doc.uri, positionOf(doc, 'tied embed', 6));
    assert.deepEqual(highlights.map((h) => [lineOf(h.range), h.kind]), [
      ['embed   = Embedding(vocab, d)', vscode.DocumentHighlightKind.Write],
      ['lm_head = Linear(d, vocab) tied embed', vscode.DocumentHighlightKind.Read],
    ]);
  });

  it('semantic tokens: the legend is the server\'s and a layer kind is a defaultLibrary class', async () => {
    const legend = await vscode.commands.executeCommand<vscode.SemanticTokensLegend>('vscode.provideDocumentSemanticTokensLegend', doc.uri);
    assert.ok(legend.tokenTypes.includes('class') && legend.tokenModifiers.includes('defaultLibrary'));
    const tokens = await vscode.commands.executeCommand<vscode.SemanticTokens>('vscode.provideDocumentSemanticTokens', doc.uri);
    const data = tokens.data;
    const at = positionOf(doc, 'Attention(d');
    let line = 0;
    let character = 0;
    let found: string | undefined;
    for (let i = 0; i < data.length; i += 5) {
      line += data[i]!;
      character = data[i] === 0 ? character + data[i + 1]! : data[i + 1]!;
      if (line === at.line && character === at.character) {
        const modifiers = legend.tokenModifiers.filter((_, bit) => (data[i + 4]! & (1 << bit)) !== 0);
        found = [legend.tokenTypes[data[i + 3]!], ...modifiers].join('+');
      }
    }
    assert.equal(found, 'class+defaultLibrary');
  });

  it('workspace symbols find a variant by the letters of its name', async () => {
    const symbols = await vscode.commands.executeCommand<vscode.SymbolInformation[]>('vscode.executeWorkspaceSymbolProvider', 'RelaxedRecursive');
    assert.ok(symbols.some((s) => s.name === 'RelaxedRecursiveGemma' && s.location.uri.toString() === doc.uri.toString()), JSON.stringify(symbols.map((s) => s.name)));
  });

  it('folding ranges: the header comment and the model, its closing brace left visible', async () => {
    const ranges = await vscode.commands.executeCommand<vscode.FoldingRange[]>('vscode.executeFoldingRangeProvider', doc.uri);
    const model = positionOf(doc, 'model Gemma2B').line;
    assert.ok(ranges.some((r) => r.start === 0 && r.end === 12 && r.kind === vscode.FoldingRangeKind.Comment), JSON.stringify(ranges));
    assert.ok(ranges.some((r) => r.start === model && r.end === positionOf(doc, 'lm_head =').line), JSON.stringify(ranges));
  });

  it('selection ranges expand from an argument name to its call and its binding', async () => {
    const [range] = await vscode.commands.executeCommand<vscode.SelectionRange[]>('vscode.executeSelectionRangeProvider', doc.uri, [positionOf(doc, 'heads: 8', 2)]);
    const texts: string[] = [];
    for (let r: vscode.SelectionRange | undefined = range; r && texts.length < 5; r = r.parent) texts.push(doc.getText(r.range));
    assert.deepEqual(texts, ['heads', 'heads: 8', '(d, heads: 8, kv_heads: 1, head_dim: 256, rope: true)', 'Attention(d, heads: 8, kv_heads: 1, head_dim: 256, rope: true)', 'attn      = Attention(d, heads: 8, kv_heads: 1, head_dim: 256, rope: true)']);
  });
});

const SPEC = `d = 64
block Decoder(window = none) {
  attn = Attention(d, heads: 4, window: window)
}
model M {
  body = Decoder(window: 128) * 4
  head = Linear(d, d)
}
`;

describe('rename and signature help', () => {
  const scratch = scratchDocument(SPEC);

  it('prepareRename refuses a layer kind with the reason', async () => {
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand('vscode.prepareRename', scratch.doc.uri, positionOf(scratch.doc, 'Linear(', 2))),
      /builtin layer kind/,
    );
  });

  it('renaming a block parameter renames the named argument that sets it, in one edit', async () => {
    const position = positionOf(scratch.doc, 'window = none', 1);
    const prepared = await eventually(
      () => vscode.commands.executeCommand<{ range: vscode.Range; placeholder: string }>('vscode.prepareRename', scratch.doc.uri, position),
      15_000,
      'prepareRename on window',
    );
    assert.equal(prepared.placeholder, 'window');
    const edit = await vscode.commands.executeCommand<vscode.WorkspaceEdit>('vscode.executeDocumentRenameProvider', scratch.doc.uri, position, 'span');
    assert.ok(await vscode.workspace.applyEdit(edit));
    assert.equal(scratch.doc.getText(), SPEC.replace('window = none', 'span = none').replace('window: window', 'window: span').replace('Decoder(window: 128)', 'Decoder(span: 128)'));
  });

  it('a rename that clashes is refused with a message', async () => {
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand('vscode.executeDocumentRenameProvider', scratch.doc.uri, positionOf(scratch.doc, 'head =', 1), 'body')),
      /model M declares 'body' already/,
    );
  });

  it('signature help in a layer call marks the argument being written', async () => {
    const position = positionOf(scratch.doc, 'heads: 4', 'heads: '.length);
    const help = await vscode.commands.executeCommand<vscode.SignatureHelp>('vscode.executeSignatureHelpProvider', scratch.doc.uri, position);
    const signature = help.signatures[help.activeSignature]!;
    assert.match(signature.label, /^Attention\(d, heads, kv_heads\?/);
    const [start, end] = signature.parameters[help.activeParameter]!.label as [number, number];
    assert.equal(signature.label.slice(start, end), 'heads');
  });
});

describe('refactorings', () => {
  const scratch = scratchDocument('model S {\n  d = 64\n  l0 = Linear(d, d)\n  l1 = Linear(d, d)\n  l2 = Linear(d, d)\n  out = RMSNorm(d)\n}\n');

  it('identical layers become a stack in one edit, and one undo brings them back', async () => {
    const before = scratch.doc.getText();
    const at = positionOf(scratch.doc, 'l1 =', 1);
    const actions = await eventually(
      () =>
        vscode.commands
          .executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', scratch.doc.uri, new vscode.Range(at, at), vscode.CodeActionKind.Refactor.value)
          .then((a) => (a.some((x) => x.title.startsWith('Turn 3 identical layers')) ? a : undefined)),
      15_000,
      'the stack refactoring',
    );
    const stack = actions.find((x) => x.title.startsWith('Turn 3 identical layers'))!;
    assert.ok(stack.kind && vscode.CodeActionKind.RefactorRewrite.contains(stack.kind));
    await vscode.window.showTextDocument(scratch.doc);
    assert.ok(await vscode.workspace.applyEdit(stack.edit!));
    assert.equal(scratch.doc.getText(), 'model S {\n  d = 64\n  l = Linear(d, d) * 3\n  out = RMSNorm(d)\n}\n');
    await vscode.commands.executeCommand('undo');
    assert.equal(scratch.doc.getText(), before);
  });

  it('sharing the stack previews the stored parameters in the title', async () => {
    const rewrite = new vscode.WorkspaceEdit();
    rewrite.replace(scratch.doc.uri, new vscode.Range(0, 0, scratch.doc.lineCount, 0), 'model S {\n  d = 64\n  body = Linear(d, d) * 4\n}\n');
    assert.ok(await vscode.workspace.applyEdit(rewrite));
    const p = positionOf(scratch.doc, 'body =', 1);
    const actions = await eventually(
      () =>
        vscode.commands
          .executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', scratch.doc.uri, new vscode.Range(p, p), vscode.CodeActionKind.Refactor.value)
          .then((a) => (a.some((x) => x.title.startsWith("Share 'body'")) ? a : undefined)),
      15_000,
      'the sharing refactorings',
    );
    // Linear has no bias by default: 4 × 64·64 = 16,384 stored; all keeps one layer's 4,096, cycle(2) two layers' 8,192.
    assert.deepEqual(
      actions.filter((x) => x.title.startsWith("Share 'body'")).map((x) => x.title),
      ["Share 'body' as all: 16,384 → 4,096 params stored", "Share 'body' as cycle(2): 16,384 → 8,192 params stored"],
    );
  });

  /** Replaces the scratch document's text. */
  const write = async (text: string): Promise<void> => {
    const rewrite = new vscode.WorkspaceEdit();
    rewrite.replace(scratch.doc.uri, new vscode.Range(0, 0, scratch.doc.lineCount, 0), text);
    assert.ok(await vscode.workspace.applyEdit(rewrite));
  };
  /** Applies the code action titled `title` offered on `range` (kind `kind`), and checks one undo reverts it. */
  const apply = async (range: vscode.Range, title: string, kind: vscode.CodeActionKind): Promise<string> => {
    const actions = await eventually(
      () =>
        vscode.commands
          .executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', scratch.doc.uri, range, vscode.CodeActionKind.Refactor.value)
          .then((a) => (a.some((x) => x.title === title) ? a : undefined)),
      15_000,
      title,
    );
    const action = actions.find((x) => x.title === title)!;
    assert.ok(action.kind && kind.contains(action.kind), `${action.kind?.value} is ${kind.value}`);
    const before = scratch.doc.getText();
    await vscode.window.showTextDocument(scratch.doc);
    assert.ok(await vscode.workspace.applyEdit(action.edit!));
    const after = scratch.doc.getText();
    await vscode.commands.executeCommand('undo');
    assert.equal(scratch.doc.getText(), before, 'one undo reverts it');
    await write(after);
    return after;
  };
  const SPEC = 'model M {\n  d = 64\n  norm = RMSNorm(d)\n  proj = Linear(d, d)\n  body = Linear(d, d) * 4\n}\n';

  it('extract members into a block, and inline the block back', async () => {
    await write(SPEC);
    const selection = new vscode.Range(positionOf(scratch.doc, '  norm'), positionOf(scratch.doc, 'proj = Linear(d, d)', 'proj = Linear(d, d)'.length));
    const extracted = await apply(selection, 'Extract 2 members into a block', vscode.CodeActionKind.RefactorExtract);
    assert.equal(extracted, SPEC.replace('  norm = RMSNorm(d)\n  proj = Linear(d, d)\n', '  block Extracted {\n    norm = RMSNorm(d)\n    proj = Linear(d, d)\n  }\n  extracted = Extracted\n'));
    const at = positionOf(scratch.doc, 'extracted = Extracted', 1);
    assert.equal(await apply(new vscode.Range(at, at), "Inline block 'Extracted' into model 'M'", vscode.CodeActionKind.RefactorInline), SPEC);
  });

  it('a stack as a comprehension, and back', async () => {
    await write(SPEC);
    const at = positionOf(scratch.doc, 'body =', 1);
    assert.equal(await apply(new vscode.Range(at, at), 'Write the stack as a comprehension', vscode.CodeActionKind.RefactorRewrite), SPEC.replace('Linear(d, d) * 4', '[Linear(d, d) for i in 0..4]'));
    const on = positionOf(scratch.doc, '[Linear', 2);
    assert.equal(await apply(new vscode.Range(on, on), 'Write the comprehension as a stack (X * N)', vscode.CodeActionKind.RefactorRewrite), SPEC);
  });

  it("a variant's sharing imported into a new variant of another model", async () => {
    const text = 'model A {\n  body = Linear(64, 64) * 4\n}\nmodel B {\n  body = Linear(32, 32) * 6\n}\nvariant SharedA of A {\n  share body: all\n}\n';
    await write(text);
    const at = positionOf(scratch.doc, 'SharedA of', 2);
    // B stores 6 · 32² = 6,144; sharing its stack in one layer keeps 1,024.
    const title = "New variant of 'B' with the sharing of 'SharedA': 6,144 → 1,024 params stored";
    assert.equal(await apply(new vscode.Range(at, at), title, vscode.CodeActionKind.Refactor), `${text}\nvariant SharedAOnB of B {\n  share body: all\n}\n`);
  });
});
