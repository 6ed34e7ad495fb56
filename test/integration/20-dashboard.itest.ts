/// <reference types="mocha" />
// The dashboard panel in the real VS Code: `npas.showDashboard` opens a webview panel of type
// `npas.dashboard`, the bundled webview (dist/webview.js) posts `ready`, the host answers with
// `update` (dashboardData of the followed spec), edits bring debounced updates, and the code
// lens form (model, document URI) opens the Architecture view. The extension's API exposes the
// panel's state (`dashboard()` / `onDidChangeDashboard`), so the tests wait on events, never
// on a fixed sleep — except a short settle before each screenshot, since the webview sends no
// message after it draws. Screenshots: test-artifacts/vscode/NN-dashboard-<example>.png.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { eventually, extension, fixtureUri, languageServerReady, screenshot, waitForEvent, withTimeout } from './helpers';

interface DashboardSnapshot {
  open: boolean;
  visible: boolean;
  readyCount: number;
  updateCount: number;
  droppedCount: number;
  document: string | undefined;
  imports: string[];
  models: string[];
  view: string | undefined;
  error: string | undefined;
  firstReadyMs: number | undefined;
  lastAnalysisMs: number | undefined;
}
interface Api {
  dashboard: () => DashboardSnapshot;
  onDidChangeDashboard: vscode.Event<DashboardSnapshot>;
  dashboardReceive: (message: unknown) => void;
}
type Outcome = { status: string; document?: string; models?: string[]; view?: string; model?: string };

function api(): Api {
  const a = extension().exports as Partial<Api> | undefined;
  if (!a?.dashboard || !a.onDidChangeDashboard) throw new Error('activate() does not expose dashboard() / onDidChangeDashboard');
  return a as Api;
}

/** Waits until the panel is visible, follows `uri`, and has had `ready` and `update` after `since`. */
function dashboardUpdated(since: DashboardSnapshot, uri: vscode.Uri, what: string, needReady = true): Promise<DashboardSnapshot> {
  const a = api();
  return waitForEvent(
    a.onDidChangeDashboard,
    () => {
      const s = a.dashboard();
      return s.open && s.visible && s.document === uri.toString() && (!needReady || s.readyCount > since.readyCount) && s.updateCount > since.updateCount && s;
    },
    30_000,
    what,
  ).catch((e: unknown) => {
    throw new Error(`${e instanceof Error ? e.message : String(e)}; dashboard now ${JSON.stringify(a.dashboard())}`);
  });
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('dashboard panel', () => {
  before(() => languageServerReady());
  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('npas.showDashboard opens the panel; the webview answers ready and receives the data', async function () {
    this.timeout(40_000);
    const doc = await vscode.workspace.openTextDocument(fixtureUri('gemma.npas'));
    await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
    const before = api().dashboard();
    const t0 = Date.now();
    const outcome = await withTimeout(vscode.commands.executeCommand<Outcome>('npas.showDashboard'), 15_000, 'npas.showDashboard');
    assert.equal(outcome.status, 'shown', JSON.stringify(outcome));
    assert.equal(outcome.document, doc.uri.toString());
    assert.deepEqual(outcome.models, ['Gemma2B', 'RecursiveGemma', 'RelaxedRecursiveGemma']);
    const s = await dashboardUpdated(before, doc.uri, 'the webview to post ready and the host to send update');
    console.log(`    dashboard: ready ${s.firstReadyMs} ms after the panel was created, update ${Date.now() - t0} ms after the command (analysis ${s.lastAnalysisMs} ms)`);
    assert.deepEqual(s.models, ['Gemma2B', 'RecursiveGemma', 'RelaxedRecursiveGemma']);
    assert.equal(s.droppedCount, before.droppedCount, 'no malformed message from the webview');
    assert.equal(s.error, undefined);
    const tab = vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('npas.dashboard'));
    assert.ok(tab, 'a webview tab of type npas.dashboard is open');
  });

  it('an edit of the followed spec sends a debounced update with the new model', async function () {
    this.timeout(30_000);
    const doc = await vscode.workspace.openTextDocument(fixtureUri('gemma.npas'));
    const before = api().dashboard();
    assert.ok(before.visible, 'the panel is visible');
    const edit = new vscode.WorkspaceEdit();
    edit.insert(doc.uri, doc.positionAt(doc.getText().length), '\nvariant Wider of Gemma2B { d = 4096 }\n');
    assert.ok(await vscode.workspace.applyEdit(edit));
    try {
      const s = await dashboardUpdated(before, doc.uri, 'an update after the edit', false);
      assert.deepEqual(s.models, ['Gemma2B', 'RecursiveGemma', 'RelaxedRecursiveGemma', 'Wider']);
    } finally {
      await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
      await vscode.commands.executeCommand('workbench.action.files.revert');
    }
  });

  it('an edit of a library the followed spec imports updates the importer\'s dashboard', async function () {
    this.timeout(40_000);
    const exp = await vscode.workspace.openTextDocument(fixtureUri('multi/experiments.npas'));
    const lib = await vscode.workspace.openTextDocument(fixtureUri('multi/blocks.npas'));
    await vscode.window.showTextDocument(exp, vscode.ViewColumn.One);
    const before = api().dashboard();
    await vscode.commands.executeCommand('npas.showDashboard', undefined, exp.uri);
    const shown = await dashboardUpdated(before, exp.uri, 'the dashboard of the experiments file', false);
    assert.deepEqual(shown.imports, [lib.uri.toString()]);
    // The whole-file import brings the library's models: one more there is one more here.
    // Edited without showing it: an active library editor would be followed instead.
    const end = lib.positionAt(lib.getText().length);
    const added = '\nmodel Extra {\n  l = Linear(8, 8)\n}\n';
    const edit = new vscode.WorkspaceEdit();
    edit.insert(lib.uri, end, added);
    assert.ok(await vscode.workspace.applyEdit(edit));
    const s = await waitForEvent(api().onDidChangeDashboard, () => api().dashboard().models.includes('Extra') && api().dashboard(), 15_000, 'an update of the importer after the library edit');
    assert.equal(s.document, exp.uri.toString(), 'the panel still follows the importer');
    assert.ok(s.updateCount > shown.updateCount);
    // The edit undone is an edit too: the importer's dashboard drops the model again.
    const back = new vscode.WorkspaceEdit();
    back.delete(lib.uri, new vscode.Range(end, lib.positionAt(lib.offsetAt(end) + added.length)));
    assert.ok(await vscode.workspace.applyEdit(back));
    const t = await waitForEvent(api().onDidChangeDashboard, () => !api().dashboard().models.includes('Extra') && api().dashboard(), 15_000, 'an update after the library edit was undone');
    assert.equal(t.document, exp.uri.toString());
  });

  it('hidden, edits send nothing; shown again, the webview reloads and gets the current data once', async function () {
    this.timeout(30_000);
    const a = api();
    const doc = await vscode.workspace.openTextDocument(fixtureUri('gemma.npas'));
    await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
    await vscode.commands.executeCommand('npas.showDashboard', undefined, doc.uri);
    const panelTab = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('npas.dashboard'));
    const group = panelTab()?.group.viewColumn;
    assert.ok(group, 'the panel has a tab');
    // Hide it behind a non-.npas file in its own group (an .npas editor would be followed).
    const other = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(fixtureUri('hf/gpt2.config.json')), { viewColumn: group, preview: false });
    const hidden = await waitForEvent(a.onDidChangeDashboard, () => !a.dashboard().visible && a.dashboard(), 10_000, 'the panel to be hidden');
    const edit = new vscode.WorkspaceEdit();
    edit.insert(doc.uri, doc.positionAt(doc.getText().length), '\nvariant Hidden of Gemma2B { d = 1024 }\n');
    assert.ok(await vscode.workspace.applyEdit(edit));
    try {
      // Absence can only be shown by waiting: well past the 300 ms debounce, nothing was sent.
      await settle(900);
      assert.equal(a.dashboard().updateCount, hidden.updateCount, 'no update while hidden');
      const otherTab = vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputText && t.input.uri.toString() === other.document.uri.toString());
      assert.ok(otherTab);
      await vscode.window.tabGroups.close(otherTab);
      const shown = await dashboardUpdated(hidden, doc.uri, 'ready and an update once visible again');
      assert.ok(shown.models.includes('Hidden'), `the update has the edit: ${shown.models.join(', ')}`);
      await settle(600);
      assert.equal(a.dashboard().updateCount, hidden.updateCount + 1, 'exactly one update after becoming visible');
    } finally {
      await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
      await vscode.commands.executeCommand('workbench.action.files.revert');
    }
  });

  it('the code lens form (model, document URI) shows that model in the Architecture view', async () => {
    const uri = fixtureUri('gemma.npas');
    const outcome = await vscode.commands.executeCommand<Outcome>('npas.showDashboard', 'RecursiveGemma', uri.toString());
    assert.equal(outcome.status, 'shown', JSON.stringify(outcome));
    assert.equal(outcome.model, 'RecursiveGemma');
    assert.equal(outcome.view, 'architecture');
    assert.equal(api().dashboard().view, 'architecture');
  });

  it('malformed webview messages are logged and dropped, never acted on', async () => {
    const a = api();
    const before = a.dashboard().droppedCount;
    const bad = [
      { type: 'reveal', range: { start: 5, end: 2 } },
      { type: 'export', format: 'svg', fileName: '../../outside.svg', data: '<svg/>' },
      { type: 'export', format: 'png', fileName: 'x.png', data: 'not a data url' },
      { type: 'ready', protocol: 99 },
      { type: 'run', command: 'rm -rf /' },
      'ready',
    ];
    for (const m of bad) a.dashboardReceive(m);
    assert.equal(a.dashboard().droppedCount, before + bad.length);
  });

  it('a reveal message selects the declaration in the spec\'s editor', async function () {
    this.timeout(15_000);
    const a = api();
    const doc = await vscode.workspace.openTextDocument(fixtureUri('gemma.npas'));
    await vscode.commands.executeCommand('npas.showDashboard', undefined, doc.uri);
    const start = doc.getText().indexOf('variant RelaxedRecursiveGemma');
    const end = start + 'variant RelaxedRecursiveGemma'.length;
    assert.ok(start > 0);
    const selected = waitForEvent(
      vscode.window.onDidChangeTextEditorSelection,
      () => {
        const e = vscode.window.activeTextEditor;
        return e?.document.uri.toString() === doc.uri.toString() && doc.offsetAt(e.selection.start) === start && doc.offsetAt(e.selection.end) === end && e;
      },
      10_000,
      'the selection of the revealed range',
    );
    a.dashboardReceive({ type: 'reveal', range: { start, end } });
    const editor = await selected;
    assert.equal(editor.document.getText(editor.selection), 'variant RelaxedRecursiveGemma');
  });

  it('an export message saves the SVG text or the PNG bytes where the save dialog says', async function () {
    this.timeout(40_000);
    const a = api();
    // A spec in a temp folder: the dialog proposes the spec's folder, so nothing lands in the workspace.
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'npas-dash-'));
    try {
      const copy = vscode.Uri.file(path.join(scratch, 'gemma.npas'));
      fs.copyFileSync(fixtureUri('gemma.npas').fsPath, copy.fsPath);
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(copy), vscode.ViewColumn.One);
      await vscode.commands.executeCommand('npas.showDashboard', undefined, copy);
      const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"><rect width="1" height="1"/></svg>';
      // A 1×1 PNG.
      const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
      for (const [name, message, check] of [
        ['architecture.svg', { type: 'export', format: 'svg', fileName: 'architecture.svg', data: svg }, (b: Buffer) => assert.equal(b.toString('utf8'), svg)],
        ['budget.png', { type: 'export', format: 'png', fileName: 'budget.png', data: `data:image/png;base64,${png}` }, (b: Buffer) => assert.deepEqual(b, Buffer.from(png, 'base64'))],
      ] as const) {
        const target = path.join(scratch, name);
        a.dashboardReceive(message);
        // The save dialog proposes <spec folder>/<fileName>; accept it as proposed.
        await eventually(
          async () => {
            if (fs.existsSync(target)) return true;
            await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
            return fs.existsSync(target);
          },
          20_000,
          `${name} to be saved`,
          300,
        );
        await eventually(() => fs.statSync(target).size > 0, 5_000, `${name} to be written`);
        check(fs.readFileSync(target));
      }
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  });

  for (const example of ['relaxed-recursive-gemma', 'ssn-wrn-28-10', 'moeut']) {
    it(`shows examples/${example}.npas (screenshot dashboard-${example})`, async function () {
      this.timeout(60_000);
      const uri = vscode.Uri.file(path.join(extension().extensionPath, 'examples', `${example}.npas`));
      const doc = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
      const before = api().dashboard();
      const outcome = await vscode.commands.executeCommand<Outcome>('npas.showDashboard', undefined, uri);
      assert.equal(outcome.status, 'shown', JSON.stringify(outcome));
      assert.ok((outcome.models ?? []).length > 0, `${example} has models`);
      // The panel existed already: it follows the new spec and posts a fresh update.
      const s = await dashboardUpdated(before, uri, `the dashboard of ${example}`, false);
      await settle(1500);
      const png = await screenshot(`dashboard-${example}`, 'iframe.webview.ready');
      if (!png) {
        this.skip(); // not under scripts/vscode-host/run-tests.mjs: no screenshot taker
        return;
      }
      assert.ok(fs.statSync(png).size > 10_000, `${png} is a real picture`);
      const frames = JSON.parse(fs.readFileSync(png.replace(/\.png$/, '.frames.json'), 'utf8')) as { url: string; text: string }[];
      const text = frames.map((f) => f.text).join(' ');
      assert.ok(text.includes(s.models[0]!), `the webview shows ${s.models[0]} (frames: ${frames.map((f) => `${f.url.slice(0, 60)}: ${f.text.slice(0, 80)}`).join(' | ')})`);
    });
  }
});
