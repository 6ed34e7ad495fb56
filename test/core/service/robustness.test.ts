// No service throws, on any input: seeded mutations of the examples and pathological texts,
// with every service asked at many offsets (the server guards its handlers too, but a throw
// here would be an empty answer where the user deserved one).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  analyze,
  codeLenses,
  completionsAt,
  definitionAt,
  documentSymbols,
  foldingRegions,
  formatEdits,
  hoverAt,
  inlayHints,
  occurrencesAt,
  prepareRename,
  quickFixes,
  refactorings,
  renameEdits,
  selectionRanges,
  semanticTokens,
  signatureHelpAt,
  summarizeModels,
} from '../../../src/core/index.js';
import { prng } from '../../fixtures/prng.js';

const EXAMPLES_DIR = join(__dirname, '..', '..', '..', 'examples');
const EXAMPLES = readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.npas')).sort().map((f) => readFileSync(join(EXAMPLES_DIR, f), 'utf8'));

function exercise(text: string, offsets: readonly number[], where: string): void {
  try {
    const analysis = analyze(text);
    for (const offset of offsets) {
      hoverAt(text, analysis, offset);
      completionsAt(text, analysis, offset);
      definitionAt(text, analysis, offset);
      occurrencesAt(analysis.file, offset);
      prepareRename(text, analysis, offset);
      renameEdits(text, analysis, offset, 'renamed_x');
      signatureHelpAt(text, analysis, offset);
      selectionRanges(analysis.file, offset);
    }
    // Refactorings at a few cursors and one selection (a sharing preview analyses a rewritten text).
    for (const offset of offsets.slice(0, 3)) refactorings(text, analysis, { start: offset, end: offset });
    if (offsets.length >= 2) refactorings(text, analysis, { start: Math.min(offsets[0]!, offsets[1]!), end: Math.max(offsets[0]!, offsets[1]!) });
    semanticTokens(text, analysis);
    foldingRegions(text, analysis.file);
    documentSymbols(text, analysis);
    codeLenses(text, analysis);
    inlayHints(text, analysis);
    formatEdits(text);
    for (const d of analysis.diagnostics.slice(0, 50)) quickFixes(text, analysis, d);
    JSON.stringify(summarizeModels(analysis, { includeTree: true }));
  } catch (e) {
    assert.fail(`${where}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  }
}

test('services survive seeded mutations of every example, asked at random offsets', () => {
  const pieces = ['(', ')', '{', '}', '[', ']', ',', ':', '=', '.', '..', '#', '\n', 'share ', 'kv ', 'tied ', 'relax ', 'block ', 'model X ', 'variant V of ', 'budget ', 'x', '0', '8Ki', '"', '\u00e9', '\ud83d\ude00', '$', 'for i in ', 'if '];
  for (let e = 0; e < EXAMPLES.length; e++) {
    for (let seed = 1; seed <= 25; seed++) {
      const random = prng(seed * 7 + e * 1000);
      let text = EXAMPLES[e]!;
      for (let k = 0; k < 1 + Math.floor(random() * 4); k++) {
        const at = Math.floor(random() * (text.length + 1));
        text = text.slice(0, at) + pieces[Math.floor(random() * pieces.length)]! + text.slice(at + (random() < 0.5 ? Math.floor(random() * 6) : 0));
      }
      const offsets = Array.from({ length: 12 }, () => Math.floor(random() * (text.length + 1)));
      exercise(text, offsets, `example ${e}, seed ${seed}`);
    }
  }
});

test('services survive every offset of half-written specs and pathological texts', () => {
  const texts = [
    '',
    '\n',
    'model',
    'model M {',
    'model M { x = ',
    'model M { x = Attention(',
    'model M { x = Attention(d, heads:',
    'model M {\n  share ',
    'model M {\n  share kv body:',
    'model M {\n  body = B * 4\n  adapt body.',
    'variant V of',
    'variant V of V { x = 1 }',
    'budget M { kv(',
    'budget {',
    'block B(a = a) { x = B() }\nmodel M { y = B }',
    'model M { x = [Linear(2, 2) for i in 0..', 
    '((((((((((((((((((((',
    '# only a comment',
    '"unterminated',
    'model M { x = Linear(2, 2) tied x.y.z[0].w }',
    'model M(L = L) { x = Linear(L, L) * L }',
    '\ufeffmodel M { x = Linear(2, 2) }\r\n',
  ];
  for (const text of texts) exercise(text, Array.from({ length: text.length + 1 }, (_, i) => i), JSON.stringify(text));
});
