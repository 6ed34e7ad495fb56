/// <reference types="mocha" />
// Imports in the real VS Code (issue 18): an experiments file importing a block library that
// is not open — clean diagnostics, go to definition and hover across files, references in both
// files, an edit to the library re-diagnosing the importer, a rename of an imported block
// applied to both files as one WorkspaceEdit, and references and rename of the library model's
// member that the importer's sharing path names.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { codeOf, eventually, fixtureUri, hoverText, labelOf, languageServerReady, openFixture, positionOf, waitForDiagnostics } from './helpers';

describe('imports across files', () => {
  let exp: vscode.TextDocument;
  const lib = (): vscode.Uri => fixtureUri('multi/blocks.npas');
  const file = (uri: vscode.Uri): string => uri.path.slice(uri.path.lastIndexOf('/') + 1);

  before(async () => {
    await languageServerReady();
    exp = (await openFixture('multi/experiments.npas')).document;
  });

  it('the importer analyses clean: the library is read from disk and its budget met', async () => {
    // The language server answers a hover once the document is analysed; then there are no diagnostics.
    await eventually(
      () => vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', exp.uri, positionOf(exp, 'Pair * 2', 1)).then((h) => (h.length > 0 ? h : undefined)),
      15_000,
      'a hover on the imported block',
    );
    assert.deepEqual(vscode.languages.getDiagnostics(exp.uri).map(codeOf), []);
  });

  it('go to definition and hover lead to the library', async () => {
    const targets = await vscode.commands.executeCommand<(vscode.Location | vscode.LocationLink)[]>('vscode.executeDefinitionProvider', exp.uri, positionOf(exp, 'Pair * 2', 1));
    const target = targets[0]!;
    const uri = 'targetUri' in target ? target.targetUri : target.uri;
    const range = 'targetUri' in target ? target.targetSelectionRange ?? target.targetRange : target.range;
    assert.equal(uri.toString(), lib().toString());
    assert.equal(range.start.line, 3);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', exp.uri, positionOf(exp, 'Pair * 2', 1));
    assert.match(hoverText(hovers), /imported from `blocks\.npas`/);
  });

  it('find references lists the declaration and stack in the library and the use here', async () => {
    const refs = await vscode.commands.executeCommand<vscode.Location[]>('vscode.executeReferenceProvider', exp.uri, positionOf(exp, 'Pair * 2', 1));
    assert.deepEqual(refs.map((r) => [file(r.uri), r.range.start.line]), [
      ['blocks.npas', 3],
      ['blocks.npas', 8],
      ['experiments.npas', 6],
    ]);
  });

  it('an edit to the library re-diagnoses the importer, and the edit back clears it', async () => {
    const library = await vscode.workspace.openTextDocument(lib());
    const at = positionOf(library, 'd = 64', 4);
    const widen = new vscode.WorkspaceEdit();
    widen.replace(library.uri, new vscode.Range(at, at.translate(0, 2)), '128');
    assert.ok(await vscode.workspace.applyEdit(widen));
    // One shared Pair of two 128 × 128 matrices: 32,768 > 8,192.
    const violated = await waitForDiagnostics(exp.uri, (ds) => ds.some((d) => codeOf(d) === 'npas-budget-violated'), 15_000, 'the budget violated after the library edit');
    assert.match(violated.find((d) => codeOf(d) === 'npas-budget-violated')!.message, /32,768/);
    const narrow = new vscode.WorkspaceEdit();
    narrow.replace(library.uri, new vscode.Range(at, at.translate(0, 3)), '64');
    assert.ok(await vscode.workspace.applyEdit(narrow));
    await waitForDiagnostics(exp.uri, (ds) => ds.length === 0, 15_000, 'the importer clean again');
  });

  it('completion offers the names the import brings in, saying which file', async () => {
    const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', exp.uri, positionOf(exp, 'Pair * 2', 1));
    const detail = (label: string): string | undefined => list.items.find((i) => labelOf(i) === label)?.detail;
    assert.equal(detail('Pair'), 'block from blocks.npas');
    assert.equal(detail('d'), '64 — from blocks.npas');
  });

  it('renaming the imported block renames it in the library and here, in one edit', async () => {
    const position = positionOf(exp, 'Pair * 2', 1);
    const prepared = await vscode.commands.executeCommand<{ range: vscode.Range; placeholder: string }>('vscode.prepareRename', exp.uri, position);
    assert.equal(prepared.placeholder, 'Pair');
    const edit = await vscode.commands.executeCommand<vscode.WorkspaceEdit>('vscode.executeDocumentRenameProvider', exp.uri, position, 'Duo');
    assert.deepEqual(edit.entries().map(([uri, edits]) => [file(uri), edits.length]).sort(), [['blocks.npas', 2], ['experiments.npas', 1]]);
    assert.ok(await vscode.workspace.applyEdit(edit));
    const library = await vscode.workspace.openTextDocument(lib());
    assert.ok(library.getText().includes('block Duo {') && library.getText().includes('body = Duo * 4'));
    assert.ok(exp.getText().includes('body = Duo * 2'));
    await waitForDiagnostics(exp.uri, (ds) => ds.length === 0, 15_000, 'the importer clean after the rename');
  });

  it("a member across files: the importer's sharing path names the library model's member — definition, references and rename reach both", async () => {
    const position = positionOf(exp, 'share body', 'share '.length + 1);
    const targets = await vscode.commands.executeCommand<(vscode.Location | vscode.LocationLink)[]>('vscode.executeDefinitionProvider', exp.uri, position);
    assert.deepEqual(targets.map((t) => ('targetUri' in t ? [file(t.targetUri), t.targetRange.start.line] : [file(t.uri), t.range.start.line])), [['blocks.npas', 8]]);
    const refs = await vscode.commands.executeCommand<vscode.Location[]>('vscode.executeReferenceProvider', exp.uri, position);
    // The importer's own `body` (in model Mine) is another member and is not listed.
    assert.deepEqual(refs.map((r) => [file(r.uri), r.range.start.line]), [
      ['blocks.npas', 8],
      ['experiments.npas', 3],
    ]);
    const edit = await vscode.commands.executeCommand<vscode.WorkspaceEdit>('vscode.executeDocumentRenameProvider', exp.uri, position, 'layers');
    assert.deepEqual(edit.entries().map(([uri, edits]) => [file(uri), edits.map((e) => [e.range.start.line, e.newText])]).sort(), [
      ['blocks.npas', [[8, 'layers']]],
      ['experiments.npas', [[3, 'layers']]],
    ]);
  });
});
