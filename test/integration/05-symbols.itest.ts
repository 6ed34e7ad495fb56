/// <reference types="mocha" />
// Document symbols (the outline) and go to definition.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { languageServerReady, openFixture, positionOf } from './helpers';

describe('document symbols and definitions', () => {
  let doc: vscode.TextDocument;
  before(async () => {
    await languageServerReady();
    doc = (await openFixture('gemma.npas')).document;
  });

  it('the outline lists the models and variants, with blocks and members inside', async () => {
    const symbols = await vscode.commands.executeCommand<vscode.DocumentSymbol[]>('vscode.executeDocumentSymbolProvider', doc.uri);
    assert.ok(Array.isArray(symbols) && symbols.length > 0, 'symbols returned');
    const top = symbols.map((s) => s.name);
    for (const name of ['Gemma2B', 'RecursiveGemma', 'RelaxedRecursiveGemma']) assert.ok(top.includes(name), `${name} in ${JSON.stringify(top)}`);
    const model = symbols.find((s) => s.name === 'Gemma2B')!;
    assert.equal(doc.getText(model.selectionRange), 'Gemma2B');
    assert.ok(model.range.contains(model.selectionRange));
    const members = model.children.map((c) => c.name);
    for (const name of ['Decoder', 'embed', 'body', 'norm', 'lm_head']) assert.ok(members.includes(name), `${name} in ${JSON.stringify(members)}`);
    const block = model.children.find((c) => c.name === 'Decoder')!;
    assert.deepEqual(
      block.children.map((c) => c.name),
      ['attn_norm', 'attn', 'mlp_norm', 'mlp'],
    );
    assert.equal(doc.getText(block.selectionRange), 'Decoder');
  });

  it('go to definition: a block use jumps to the block', async () => {
    const locations = await vscode.commands.executeCommand<(vscode.Location | vscode.LocationLink)[]>(
      'vscode.executeDefinitionProvider',
      doc.uri,
      positionOf(doc, 'body    = Decoder', 'body    = '.length + 2),
    );
    assert.equal(locations.length, 1, JSON.stringify(locations));
    const loc = locations[0]!;
    const range = loc instanceof vscode.Location ? loc.range : (loc.targetSelectionRange ?? loc.targetRange);
    assert.equal(doc.getText(range), 'Decoder');
    assert.equal(range.start.line, positionOf(doc, 'block Decoder').line);
  });
});
