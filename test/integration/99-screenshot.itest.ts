/// <reference types="mocha" />
// One picture of the editor experience for people (test-artifacts/vscode/NN-editor.png): the
// broken fixture with its squiggles and the Problems panel, and a hover with exact numbers on
// the valid example beside it. The harness waits for the hover widget before it shoots and
// writes NN-editor.frames.json with every frame's text, which is checked here too.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { fixtureUri, languageServerReady, positionOf, screenshot, waitForDiagnostics } from './helpers';

describe('screenshot', () => {
  before(() => languageServerReady());

  it('an example with diagnostics and a hover', async function () {
    this.timeout(40_000);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const broken = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(fixtureUri('broken.npas')), vscode.ViewColumn.One);
    await waitForDiagnostics(broken.document.uri, (d) => d.length > 0, 15_000, 'diagnostics of broken.npas');
    await vscode.commands.executeCommand('workbench.actions.view.problems');
    const gemma = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(fixtureUri('gemma.npas')), vscode.ViewColumn.Two);
    const at = positionOf(gemma.document, 'model Gemma2B', 'model '.length + 2);
    gemma.selection = new vscode.Selection(at, at);
    gemma.revealRange(new vscode.Range(at, at), vscode.TextEditorRevealType.InCenter);
    await vscode.commands.executeCommand('editor.action.showHover');
    const png = await screenshot('editor', '.monaco-hover .hover-contents');
    if (!png) {
      this.skip(); // not under scripts/vscode-host/run-tests.mjs (e.g. @vscode/test-cli): no screenshot taker
      return;
    }
    assert.ok(fs.statSync(png).size > 10_000, `${png} is a real picture`);
    const frames = JSON.parse(fs.readFileSync(png.replace(/\.png$/, '.frames.json'), 'utf8')) as { text: string }[];
    const workbench = frames.map((f) => f.text).join(' ');
    assert.match(workbench, /2,506,172,416/, 'the hover with the exact count is on screen');
    assert.match(workbench, /npas-eval-not-integer|must be an integer/, 'the Problems panel lists the errors');
  });
});
