/// <reference types="mocha" />
// Quick fixes where the fix is knowable: a misspelt layer kind or strategy gets "Change to …";
// applying it removes the diagnostic.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { codeOf, openFixture, scratchDocument, waitForDiagnostics } from './helpers';

const SPEC = `model Q {
  d = 64
  a = Linaer(d, d)
  body = Linear(d, d) * 4
  share body: cycel(2)
}
`;

describe('quick fixes', () => {
  const scratch = scratchDocument(SPEC);

  async function fixFor(code: string, word: string): Promise<vscode.CodeAction> {
    const diags = await waitForDiagnostics(scratch.doc.uri, (d) => d.some((x) => codeOf(x) === code), 15_000, `${code} on the scratch spec`);
    const diag = diags.find((x) => codeOf(x) === code)!;
    assert.equal(scratch.doc.getText(diag.range), word);
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', scratch.doc.uri, diag.range, vscode.CodeActionKind.QuickFix.value);
    const preferred = actions.find((a) => a.isPreferred) ?? actions[0];
    assert.ok(preferred, `a quick fix for ${code} (got ${JSON.stringify(actions.map((a) => a.title))})`);
    assert.ok(preferred.kind && vscode.CodeActionKind.QuickFix.contains(preferred.kind), 'kind quickfix');
    assert.ok(preferred.edit, 'the fix carries an edit');
    return preferred;
  }

  it('a misspelt layer kind: "Change to \'Linear\'", and applying it clears the error', async () => {
    const fix = await fixFor('npas-name-unknown', 'Linaer');
    assert.equal(fix.title, "Change to 'Linear'");
    assert.ok(await vscode.workspace.applyEdit(fix.edit!));
    assert.match(scratch.doc.getText(), /a = Linear\(d, d\)/);
    await waitForDiagnostics(scratch.doc.uri, (d) => !d.some((x) => codeOf(x) === 'npas-name-unknown'), 15_000, 'npas-name-unknown to go');
  });

  it('a misspelt sharing strategy: "Change to \'cycle\'"', async () => {
    const fix = await fixFor('npas-share-strategy', 'cycel');
    assert.equal(fix.title, "Change to 'cycle'");
    assert.ok(await vscode.workspace.applyEdit(fix.edit!));
    await waitForDiagnostics(scratch.doc.uri, (d) => d.length === 0, 15_000, 'no diagnostics once both fixes are applied');
  });

  it('a violated budget gets no fix (that is a design decision)', async () => {
    // Shown in an editor: the client pulls diagnostics for documents in tabs.
    const broken = (await openFixture('broken.npas')).document;
    const diags = await waitForDiagnostics(broken.uri, (d) => d.some((x) => codeOf(x) === 'npas-budget-violated'), 15_000, 'the budget diagnostic');
    const budget = diags.find((x) => codeOf(x) === 'npas-budget-violated')!;
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', broken.uri, budget.range, vscode.CodeActionKind.QuickFix.value);
    assert.deepEqual(actions.filter((a) => a.diagnostics?.some((d) => codeOf(d) === 'npas-budget-violated')).map((a) => a.title), []);
  });
});

describe('quick fixes for syntax and arguments', () => {
  const scratch = scratchDocument('model R {\n  d = 64\n  a = Attention(d, heads: 2, heads: 4)\n  b = Linear(d, d\n}\n');

  async function preferredFix(code: string): Promise<vscode.CodeAction> {
    const diags = await waitForDiagnostics(scratch.doc.uri, (d) => d.some((x) => codeOf(x) === code), 15_000, `${code} on the scratch spec`);
    const diag = diags.find((x) => codeOf(x) === code)!;
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', scratch.doc.uri, diag.range, vscode.CodeActionKind.QuickFix.value);
    // As fixFor above: the actions asked for the diagnostic's range. Requiring isPreferred and a
    // matching diagnostic on the action found nothing in the real VS Code although the fix was
    // offered (the title is checked below); the server's JSON-RPC tests check both fields.
    const fix = actions.find((a) => a.isPreferred) ?? actions[0];
    assert.ok(fix?.edit, `a fix for ${code} (got ${JSON.stringify(actions.map((a) => a.title))})`);
    return fix;
  }

  it('a missing parenthesis: "Insert \')\'"', async () => {
    const fix = await preferredFix('npas-syntax-expected');
    assert.equal(fix.title, "Insert ')'");
    assert.ok(await vscode.workspace.applyEdit(fix.edit!));
    assert.match(scratch.doc.getText(), /b = Linear\(d, d\)\n/);
  });

  it('a repeated argument: removed, and the spec is clean', async () => {
    const fix = await preferredFix('npas-layer-duplicate-arg');
    assert.equal(fix.title, "Remove the repeated 'heads'");
    assert.ok(await vscode.workspace.applyEdit(fix.edit!));
    await waitForDiagnostics(scratch.doc.uri, (d) => d.length === 0, 15_000, 'no diagnostics once both fixes are applied');
  });
});
