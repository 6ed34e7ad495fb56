/// <reference types="mocha" />
// Live diagnostics from the language server: stable `npas-…` codes at exact ranges for the
// broken fixture, none for the valid example, and updates as the text changes.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { codeOf, fixtureUri, languageServerReady, lineCol, openFixture, waitForDiagnostics } from './helpers';

// What `npas check test/fixtures/workspace/broken.npas` reports, with the text each range covers.
const BROKEN_EXPECTED = [
  { code: 'npas-eval-not-integer', at: '6:20', text: '2.5' },
  { code: 'npas-name-unknown', at: '7:17', text: 'width' },
  { code: 'npas-share-strategy', at: '9:15', text: 'zigzag' },
  { code: 'npas-budget-violated', at: '16:3', text: 'params.stored <= 1K' },
];

function summarise(doc: vscode.TextDocument, diags: readonly vscode.Diagnostic[]) {
  return [...diags]
    .sort((a, b) => a.range.start.compareTo(b.range.start))
    .map((d) => ({ code: codeOf(d), at: lineCol(d.range.start), text: doc.getText(d.range) }));
}

/** Replaces the first `from` in the editor's document by `to` (an unsaved edit). */
async function replaceText(editor: vscode.TextEditor, from: string, to: string): Promise<void> {
  const doc = editor.document;
  const at = doc.getText().indexOf(from);
  assert.ok(at >= 0, `'${from}' not in ${doc.uri.path}`);
  const ok = await editor.edit((e) => e.replace(new vscode.Range(doc.positionAt(at), doc.positionAt(at + from.length)), to));
  assert.ok(ok, 'edit applied');
}

/** Drops unsaved edits of the active editor. */
async function revert(editor: vscode.TextEditor, original: string): Promise<void> {
  await vscode.window.showTextDocument(editor.document);
  await vscode.commands.executeCommand('workbench.action.files.revert');
  assert.equal(editor.document.getText(), original);
  assert.equal(editor.document.isDirty, false);
}

describe('diagnostics', () => {
  before(() => languageServerReady());

  it('broken.npas: every error with its stable code at its exact range', async () => {
    const editor = await openFixture('broken.npas');
    const diags = await waitForDiagnostics(editor.document.uri, (d) => d.length >= BROKEN_EXPECTED.length, 15_000, 'all diagnostics of broken.npas');
    assert.deepEqual(summarise(editor.document, diags), BROKEN_EXPECTED);
    for (const d of diags) assert.equal(d.severity, vscode.DiagnosticSeverity.Error, `${codeOf(d)} is an error`);
  });

  it('a budget violation states the measured value and the limit', () => {
    const d = vscode.languages.getDiagnostics(fixtureUri('broken.npas')).find((x) => codeOf(x) === 'npas-budget-violated');
    assert.ok(d, 'npas-budget-violated reported');
    assert.match(d.message, /4,096/);
    assert.match(d.message, /1,000|1K/);
  });

  it('gemma.npas (a valid example) has no diagnostics, and they follow edits live', async () => {
    const editor = await openFixture('gemma.npas');
    const uri = editor.document.uri;
    const original = editor.document.getText();
    try {
      // A positive signal that the server analyses this document: break it, see the error…
      await replaceText(editor, 'd = 2048', 'd = 2048 + nope');
      const broken = await waitForDiagnostics(uri, (d) => d.some((x) => codeOf(x) === 'npas-name-unknown'), 15_000, 'npas-name-unknown after the edit');
      const unknown = broken.find((x) => codeOf(x) === 'npas-name-unknown')!;
      assert.equal(editor.document.getText(unknown.range), 'nope');
      // …then undo it: the valid text ends with no diagnostics at all.
      await replaceText(editor, 'd = 2048 + nope', 'd = 2048');
      await waitForDiagnostics(uri, (d) => d.length === 0, 15_000, 'no diagnostics once the edit is undone');
      assert.equal(editor.document.getText(), original);
    } finally {
      await revert(editor, original);
    }
  });

  it('fixing one error in broken.npas removes exactly that diagnostic', async () => {
    const editor = await openFixture('broken.npas');
    const uri = editor.document.uri;
    const original = editor.document.getText();
    try {
      await replaceText(editor, 'Linear(8, 2.5)', 'Linear(8, 2)');
      const diags = await waitForDiagnostics(uri, (d) => !d.some((x) => codeOf(x) === 'npas-eval-not-integer'), 15_000, 'npas-eval-not-integer to go');
      assert.deepEqual(
        summarise(editor.document, diags).map((d) => d.code),
        BROKEN_EXPECTED.slice(1).map((d) => d.code),
      );
    } finally {
      await revert(editor, original);
      await waitForDiagnostics(uri, (d) => d.length === BROKEN_EXPECTED.length, 15_000, 'the original diagnostics after revert');
    }
  });
});
