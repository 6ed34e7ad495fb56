/// <reference types="mocha" />
// The status bar item: the stored parameters of the model under the cursor. The status bar is
// not readable through the API, so the extension's exports give its snapshot and an event.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { extension, languageServerReady, openFixture, positionOf, waitForEvent } from './helpers';

interface StatusBarSnapshot {
  readonly visible: boolean;
  readonly text: string;
  readonly tooltip: string;
  readonly model: string | undefined;
  readonly version: number | null;
}
interface Api {
  readonly activateMs: number;
  readonly clientReady: Promise<number | undefined>;
  readonly statusBar: () => StatusBarSnapshot;
  readonly onDidUpdateStatusBar: vscode.Event<StatusBarSnapshot>;
}

describe('status bar', () => {
  let api: Api;
  before(async () => {
    await languageServerReady();
    api = extension().exports as Api;
    assert.ok(api && typeof api.statusBar === 'function', 'activate() returns the test API');
  });

  it('activation is light and the language client starts', async () => {
    assert.ok(api.activateMs < 500, `activate() took ${api.activateMs} ms`);
    const readyMs = await api.clientReady;
    assert.ok(readyMs !== undefined, 'the language client started');
    console.log(`      (activate() ${api.activateMs.toFixed(1)} ms; client running after ${readyMs.toFixed(0)} ms)`);
  });

  it('shows the stored parameters of the model under the cursor', async () => {
    const editor = await openFixture('gemma.npas');
    const doc = editor.document;
    const select = (needle: string) => {
      const p = positionOf(doc, needle, 2);
      editor.selection = new vscode.Selection(p, p);
    };
    select('model Gemma2B');
    const gemma = await waitForEvent(
      api.onDidUpdateStatusBar,
      () => (api.statusBar().model === 'Gemma2B' && api.statusBar().version === doc.version ? api.statusBar() : undefined),
      15_000,
      'the status bar to show Gemma2B',
    );
    assert.ok(gemma.visible);
    assert.match(gemma.text, /Gemma2B/);
    assert.match(gemma.text, /2\.51B/);
    assert.match(gemma.tooltip, /stored 2,506,172,416/);

    select('variant RelaxedRecursiveGemma');
    const relaxed = await waitForEvent(
      api.onDidUpdateStatusBar,
      () => (api.statusBar().model === 'RelaxedRecursiveGemma' ? api.statusBar() : undefined),
      15_000,
      'the status bar to follow the cursor',
    );
    assert.match(relaxed.tooltip, /stored 1,593,677,824/);
  });
});
