/// <reference types="mocha" />
// Hovers with the exact numbers (README: Gemma-2B stores 2,506,172,416 parameters; the
// relaxed recursive variant 1,593,677,824).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { hoverText, languageServerReady, openFixture, positionOf } from './helpers';

async function hoverAt(doc: vscode.TextDocument, needle: string, delta: number, occurrence = 0): Promise<{ text: string; hovers: vscode.Hover[] }> {
  const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, positionOf(doc, needle, delta, occurrence));
  return { text: hoverText(hovers), hovers };
}

describe('hover', () => {
  let doc: vscode.TextDocument;
  before(async () => {
    await languageServerReady();
    doc = (await openFixture('gemma.npas')).document;
  });

  it('a model name shows its exact stored, effective and active parameters', async () => {
    const { text, hovers } = await hoverAt(doc, 'model Gemma2B', 'model '.length + 2);
    assert.match(text, /2,506,172,416/, text);
    assert.match(text, /3,030,460,416/, text); // effective: the tied LM head counts again
    assert.match(text, /stored/i, text);
    assert.match(text, /effective/i, text);
    assert.match(text, /active/i, text);
    const range = hovers.find((h) => h.range)?.range;
    if (range) assert.equal(doc.getText(range), 'Gemma2B');
  });

  it('a model hover also gives FLOPs and the KV cache', async () => {
    const { text } = await hoverAt(doc, 'model Gemma2B', 'model '.length + 2);
    assert.match(text, /FLOP/, text);
    assert.match(text, /KV/, text);
    assert.match(text, /72(\.00)? MiB/, text); // 18 layers × 2 × 256 × 2 bytes × 4096 tokens
  });

  it('variant names show their own stored counts', async () => {
    const recursive = await hoverAt(doc, 'variant RecursiveGemma', 'variant '.length + 2);
    assert.match(recursive.text, /1,515,231,232/, recursive.text);
    const relaxed = await hoverAt(doc, 'variant RelaxedRecursiveGemma', 'variant '.length + 2);
    assert.match(relaxed.text, /1,593,677,824/, relaxed.text);
  });

  it('a layer shows its own parameters', async () => {
    const mlp = await hoverAt(doc, 'mlp       = GatedMLP', 1);
    assert.match(mlp.text, /100,663,296/, mlp.text); // 3 × 2048 × 16,384
    const attn = await hoverAt(doc, 'attn      = Attention', 1);
    assert.match(attn.text, /9,437,184/, attn.text); // q, o 2048×2048; k, v 2048×256
  });

  it('nothing to say on a comment', async () => {
    const { hovers } = await hoverAt(doc, '# Relaxed Recursive', 3);
    assert.equal(hoverText(hovers).trim(), '');
  });
});
