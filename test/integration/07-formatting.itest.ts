/// <reference types="mocha" />
// Formatting: edits that change only whitespace, idempotent, none for a formatted file.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { LANGUAGE_ID, languageServerReady, openFixture, withoutWhitespace } from './helpers';

const OPTIONS = { tabSize: 2, insertSpaces: true };

async function format(doc: vscode.TextDocument): Promise<vscode.TextEdit[]> {
  return (await vscode.commands.executeCommand<vscode.TextEdit[]>('vscode.executeFormatDocumentProvider', doc.uri, OPTIONS)) ?? [];
}

/** Applies `edits` to a copy of the text (as VS Code would) and returns the result. */
function applied(doc: vscode.TextDocument, edits: readonly vscode.TextEdit[]): string {
  const text = doc.getText();
  const sorted = [...edits].sort((a, b) => doc.offsetAt(b.range.start) - doc.offsetAt(a.range.start));
  let out = text;
  for (const e of sorted) out = out.slice(0, doc.offsetAt(e.range.start)) + e.newText + out.slice(doc.offsetAt(e.range.end));
  return out;
}

const MESSY = `model   Messy{
vocab=32_000
    d   =   512
  block B {
        attn=Attention(d,heads:8)
  mlp   = GatedMLP( d , 4*d )
  }
  embed=Embedding(vocab,d)
      body = B*4
}
`;

describe('formatting', () => {
  before(() => languageServerReady());

  it('the valid example only ever changes in whitespace', async () => {
    const doc = (await openFixture('gemma.npas')).document;
    const edits = await format(doc);
    assert.equal(withoutWhitespace(applied(doc, edits)), withoutWhitespace(doc.getText()));
  });

  it('a messy spec gets edits that keep every token and comment, and formatting is idempotent', async () => {
    const doc = await vscode.workspace.openTextDocument({ language: LANGUAGE_ID, content: MESSY });
    const editor = await vscode.window.showTextDocument(doc);
    try {
      const edits = await format(doc);
      assert.ok(edits.length > 0, 'edits returned');
      const expected = applied(doc, edits);
      assert.equal(withoutWhitespace(expected), withoutWhitespace(MESSY), 'no text lost or added');
      // Apply them in the editor, then format again: nothing left to do.
      assert.ok(await editor.edit((b) => edits.forEach((e) => b.replace(e.range, e.newText))));
      assert.equal(doc.getText(), expected);
      assert.deepEqual(await format(doc), [], 'a formatted file gets no edits');
      assert.match(doc.getText(), /^ {4}attn = Attention\(d, heads: 8\)$/m);
    } finally {
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    }
  });
});
