/// <reference types="mocha" />
// Completion: layer arguments inside a call, layer kinds where a member's value starts.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { labelOf, scratchDocument } from './helpers';

const SPEC = `model M {
  d = 64
  attn = Attention(d, )
  mlp = 
}
`;

async function completionsAt(doc: vscode.TextDocument, needle: string, delta: number): Promise<string[]> {
  const at = doc.getText().indexOf(needle);
  assert.ok(at >= 0, needle);
  const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', doc.uri, doc.positionAt(at + delta));
  return list.items.map(labelOf);
}

describe('completion', () => {
  const scratch = scratchDocument(SPEC);

  it('inside a layer call lists that layer kind\'s arguments', async () => {
    const labels = await completionsAt(scratch.doc, 'Attention(d, ', 'Attention(d, '.length);
    for (const arg of ['heads', 'kv_heads', 'head_dim']) {
      assert.ok(labels.some((l) => l.replace(/[:=\s]+$/, '') === arg), `${arg} in ${JSON.stringify(labels)}`);
    }
  });

  it('where a member\'s value starts lists the layer kinds', async () => {
    const labels = await completionsAt(scratch.doc, 'mlp = ', 'mlp = '.length);
    for (const kind of ['Linear', 'Attention', 'GatedMLP', 'RMSNorm', 'Embedding']) {
      assert.ok(labels.includes(kind), `${kind} in ${JSON.stringify(labels.slice(0, 60))}`);
    }
  });

  it('names in scope are offered as values', async () => {
    const labels = await completionsAt(scratch.doc, 'mlp = ', 'mlp = '.length);
    assert.ok(labels.includes('d'), `d in ${JSON.stringify(labels.slice(0, 60))}`);
  });
});
