/// <reference types="mocha" />
// `npas.allocate` in the real VS Code, with arguments instead of its dialogs: the plan stores
// exactly the budget, Apply appends the emitted variant as one undoable edit, the language
// server (npas/modelReports, through npas.compareVariants) counts exactly the budget for it, and
// a budget below the minimum is refused with the minimum stated; the plan is drawn in the
// dashboard's Allocation pane (the panel opens if needed; the webview acknowledges what it
// validated and drew with `received`, which the extension's API counts, so nothing sleeps), and
// a malformed plan posted raw to the webview is dropped there. The spec is a copy of
// examples/ssn-wrn-28-10.npas in a temp folder, so the workspace is never written.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { extension, fixtureUri, languageServerReady, positionOf, screenshot, waitForEvent, withTimeout } from './helpers';

type Outcome = { status: string; [key: string]: unknown };
interface ResultSnapshot {
  posted: number;
  received: number;
  model: string | undefined;
  rows: number | undefined;
}
interface DashboardSnapshot {
  open: boolean;
  visible: boolean;
  view: string | undefined;
  allocation: ResultSnapshot;
  webviewWarnings: number;
  lastWebviewWarning: string | undefined;
}
interface Api {
  dashboard: () => DashboardSnapshot;
  onDidChangeDashboard: vscode.Event<DashboardSnapshot>;
  dashboardPostRaw: (message: unknown) => Promise<boolean>;
}
const api = (): Api => extension().exports as Api;

describe('npas.allocate', () => {
  let scratch: string;
  let uri: vscode.Uri;
  let original: string;
  before(async () => {
    await languageServerReady();
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'npas-alloc-'));
    const file = path.join(scratch, 'wrn.npas');
    fs.copyFileSync(path.join(extension().extensionPath, 'examples', 'ssn-wrn-28-10.npas'), file);
    uri = vscode.Uri.file(file);
    original = fs.readFileSync(file, 'utf8');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
  });
  after(async () => {
    const doc = await vscode.workspace.openTextDocument(uri);
    if (doc.isDirty) {
      await vscode.window.showTextDocument(doc);
      await vscode.commands.executeCommand('workbench.action.files.revert');
    }
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('(model, budget, grouping) returns a plan storing exactly the budget', async function () {
    this.timeout(30_000);
    const t0 = Date.now();
    const outcome = await withTimeout(vscode.commands.executeCommand<Outcome>('npas.allocate', 'WRN28_10', '3.65M', 'shape', undefined, uri, false), 20_000, 'npas.allocate');
    console.log(`    allocate WRN28_10 at 3.65M (shape): ${Date.now() - t0} ms, preview included`);
    assert.equal(outcome.status, 'planned', JSON.stringify(outcome));
    assert.equal(outcome.target, 3_650_000);
    assert.equal(outcome.stored, 3_650_000);
    assert.equal(outcome.unused, 0);
    assert.equal(outcome.grouping, 'shape');
    assert.match(String(outcome.variantText), /^variant WRN28_10_npas of WRN28_10 \{$/m);
    assert.match(String(outcome.markdown), /Layers × groups/);
    assert.equal((await vscode.workspace.openTextDocument(uri)).getText(), original, 'nothing applied with apply: false');
  });

  it("a model an experiments file imports from its library is allocated as the file sees it", async function () {
    this.timeout(30_000);
    // multi/blocks.npas: Base stacks 4 blocks of two Linear(64, 64, bias: false), 8 × 4,096 = 32,768 stored; half is 16,384.
    const experiments = fixtureUri('multi/experiments.npas');
    const outcome = await withTimeout(vscode.commands.executeCommand<Outcome>('npas.allocate', 'Base', '50%', 'shape', undefined, experiments, false), 20_000, 'npas.allocate on an imported model');
    assert.equal(outcome.status, 'planned', JSON.stringify(outcome));
    assert.equal(outcome.target, 16_384);
    assert.equal(outcome.stored, 16_384);
    assert.match(String(outcome.variantText), /^variant Base_npas of Base \{$/m);
  });

  it('a percentage budget: 10% of the stored parameters, rounded down', async () => {
    const outcome = await vscode.commands.executeCommand<Outcome>('npas.allocate', { model: 'WRN28_10', budget: '10%', grouping: 'all', document: uri.toString(), apply: false, preview: false });
    assert.equal(outcome.status, 'planned', JSON.stringify(outcome));
    assert.equal(outcome.target, 3_653_688, '10% of 36,536,884, rounded down');
    assert.equal(outcome.stored, 3_653_688);
  });

  it('Apply inserts the variant as one undoable edit, and the server counts exactly the budget', async function () {
    this.timeout(30_000);
    const outcome = await vscode.commands.executeCommand<Outcome>('npas.allocate', { model: 'WRN28_10', budget: 3_651_883, grouping: 'shape', document: uri, apply: true, preview: false });
    assert.equal(outcome.status, 'applied', JSON.stringify(outcome));
    const doc = await vscode.workspace.openTextDocument(uri);
    const name = String(outcome.variantName);
    assert.ok(doc.getText().startsWith(original), 'the spec is unchanged above the insertion');
    assert.ok(doc.getText().includes(`variant ${name} of WRN28_10 {`), 'the variant is in the document');
    const compared = await withTimeout(vscode.commands.executeCommand<Outcome>('npas.compareVariants', 'none', uri), 15_000, 'npas.compareVariants');
    assert.equal(compared.status, 'shown', JSON.stringify(compared));
    const row = (compared.rows as { name: string; stored: string }[]).find((r) => r.name === name);
    assert.ok(row, `npas/modelReports lists ${name}`);
    assert.equal(row.stored.replace(/\D/g, ''), '3651883', 'the language server counts exactly the budget');
    // One Undo removes the whole insertion.
    await vscode.window.showTextDocument(doc);
    await vscode.commands.executeCommand('undo');
    assert.equal(doc.getText(), original, 'one undo restores the spec');
  });

  it('a budget below the minimum is refused with the minimum stated', async () => {
    const outcome = await vscode.commands.executeCommand<Outcome>('npas.allocate', 'WRN28_10', '1000', 'auto', undefined, uri, false);
    assert.equal(outcome.status, 'refused', JSON.stringify(outcome));
    assert.match(String(outcome.message), /minimum of 18,053/);
    assert.equal(outcome.minimum, 18_053);
  });

  it('the plan is drawn in the dashboard\'s Allocation pane (screenshot dashboard-allocation)', async function () {
    this.timeout(60_000);
    const a = api();
    const before = a.dashboard();
    const outcome = await withTimeout(
      vscode.commands.executeCommand<Outcome>('npas.allocate', { model: 'WRN28_10', budget: '3.65M', grouping: 'shape', document: uri, apply: false, preview: false }),
      30_000,
      'npas.allocate',
    );
    assert.equal(outcome.status, 'planned', JSON.stringify(outcome).slice(0, 400));
    assert.equal(outcome.dashboard, 'shown');
    // The webview validated the plan and drew it: its `received` reached the host.
    const s = await waitForEvent(a.onDidChangeDashboard, () => a.dashboard().allocation.received > before.allocation.received && a.dashboard(), 30_000, 'the Allocation pane to receive the plan').catch((e: unknown) => {
      throw new Error(`${e instanceof Error ? e.message : String(e)}; dashboard now ${JSON.stringify(a.dashboard())}`);
    });
    assert.ok(s.open && s.visible, 'the panel is open and visible');
    assert.equal(s.view, 'allocation');
    assert.equal(s.allocation.model, 'WRN28_10');
    assert.equal(s.allocation.rows, 29, 'one row per generated weight of WRN-28-10');
    assert.ok(s.allocation.posted > before.allocation.posted);
    assert.equal(s.webviewWarnings, before.webviewWarnings, 'the webview dropped nothing');
    // The webview sends nothing after it paints; a short settle before the picture.
    await new Promise((r) => setTimeout(r, 1500));
    const png = await screenshot('dashboard-allocation', 'iframe.webview.ready');
    if (png) {
      assert.ok(fs.statSync(png).size > 10_000, `${png} is a real picture`);
      const frames = JSON.parse(fs.readFileSync(png.replace(/\.png$/, '.frames.json'), 'utf8')) as { url: string; text: string }[];
      const text = frames.map((f) => f.text).join(' ');
      // The newest plan, never an older one queued while the page was hidden (dashboard-outbox.ts).
      assert.ok(text.includes('stored 3,650,000 = target 3,650,000'), `the pane shows the exact total (frames: ${text.slice(0, 300)})`);
    }
  });

  it('a malformed plan posted raw to the webview is dropped there (logged, no `received`)', async function () {
    this.timeout(30_000);
    const a = api();
    const before = a.dashboard();
    const bad = {
      type: 'allocation',
      result: { model: 'WRN28_10', source: 'wrn.npas', target: '100', stored: '101', stores: '100', coefficients: '0', fixed: '1', demand: '1', unused: '0', referenceUnused: '0', minimum: '1', generationMacs: '0', grouping: 'all', groupingReason: '', method: 'wavg', regime: 'low', groups: [], layers: [], variantName: null },
    };
    assert.ok(await a.dashboardPostRaw(bad), 'the page is up and took the message');
    const s = await waitForEvent(a.onDidChangeDashboard, () => a.dashboard().webviewWarnings > before.webviewWarnings && a.dashboard(), 15_000, 'the webview to log the dropped plan');
    assert.match(s.lastWebviewWarning ?? '', /dropped a malformed message: allocation: plan\.stored 101 is not the target 100/);
    assert.equal(s.allocation.received, before.allocation.received, 'no `received` for a dropped plan');
  });

  it('offers "Allocate N parameters to WRN28_10…" as a code action on the model line', async () => {
    const doc = await vscode.workspace.openTextDocument(uri);
    const at = positionOf(doc, 'model WRN28_10', 7);
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, new vscode.Range(at, at), vscode.CodeActionKind.RefactorRewrite.value);
    const action = actions.find((a) => a.title === 'Allocate N parameters to WRN28_10…');
    assert.ok(action, `code actions: ${actions.map((a) => a.title).join(', ')}`);
    assert.equal(action.command?.command, 'npas.allocate');
  });
});
