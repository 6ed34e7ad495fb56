/// <reference types="mocha" />
// Code lenses: params · FLOPs per model and block; inlay hints for evaluated constants.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { LANGUAGE_ID, languageServerReady, openFixture, positionOf } from './helpers';

describe('code lenses and inlay hints', () => {
  let doc: vscode.TextDocument;
  before(async () => {
    await languageServerReady();
    doc = (await openFixture('gemma.npas')).document;
  });

  it('each model, variant and block has a lens with its parameters', async () => {
    // The second argument resolves up to that many lenses (their titles may be filled lazily).
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri, 100);
    assert.ok(lenses.length > 0, 'lenses returned');
    const titles = lenses.map((l) => ({ line: l.range.start.line, title: l.command?.title ?? '' }));
    for (const t of titles) assert.ok(t.title.length > 0, `lens on line ${t.line + 1} has a title`);
    const onLine = (needle: string) => titles.filter((t) => t.line === positionOf(doc, needle).line).map((t) => t.title).join(' | ');
    assert.match(onLine('model Gemma2B'), /param/i);
    assert.match(onLine('model Gemma2B'), /2\.51\s?B|2,506,172,416/);
    assert.match(onLine('variant RelaxedRecursiveGemma'), /1\.59\s?B|1,593,677,824/);
    assert.match(onLine('block Decoder'), /FLOP/);
  });

  it('inlay hints show computed constants and stack lengths, none for literals', async () => {
    const spec = ['model H {', '  d = 512', '  ff = 4 * d', '  layers = 2 * 6', '  block B {', '    mlp = Linear(d, ff)', '  }', '  body = B * layers', '}', ''].join('\n');
    const scratch = await vscode.workspace.openTextDocument({ language: LANGUAGE_ID, content: spec });
    await vscode.window.showTextDocument(scratch);
    try {
      const hints = await hintsOf(scratch);
      assert.deepEqual(
        hints.map((h) => ({ after: scratch.getText(new vscode.Range(h.position.with({ character: 0 }), h.position)).trim(), label: labelText(h) })),
        [
          { after: 'ff = 4 * d', label: '= 2,048' },
          { after: 'layers = 2 * 6', label: '= 12' },
          { after: 'body = B * layers', label: '×12' },
        ],
      );
      // The example writes every value as a literal: nothing to add.
      assert.deepEqual(await hintsOf(doc), []);
    } finally {
      await vscode.window.showTextDocument(scratch);
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    }
  });
});

function labelText(h: vscode.InlayHint): string {
  return typeof h.label === 'string' ? h.label : h.label.map((p) => p.value).join('');
}

async function hintsOf(d: vscode.TextDocument): Promise<vscode.InlayHint[]> {
  const full = new vscode.Range(d.positionAt(0), d.positionAt(d.getText().length));
  return (await vscode.commands.executeCommand<vscode.InlayHint[]>('vscode.executeInlayHintProvider', d.uri, full)) ?? [];
}
