// Issue 12: the language server survives every hostile spec class and keeps answering. Over
// real JSON-RPC: each spec that used to kill the server process (heap limit), overflow its
// stack or block it for minutes now yields a located npas-eval-too-large (or its exact
// numbers) within seconds, and a hover in the same document is answered after it.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DocumentDiagnosticReport, FullDocumentDiagnosticReport, Hover } from 'vscode-languageserver/node';
import { startSession, type TestSession } from './harness.js';

let s: TestSession;
before(async () => {
  s = await startSession();
});
after(async () => {
  await s.close();
});

const forwardChain = (): string => {
  let t = '';
  for (let i = 0; i < 20_000; i++) t += `c${i} = c${i + 1} + 1\n`;
  return `${t}c20000 = 1\nmodel Probe { l = Linear(4, 4) }\n`;
};

const HOSTILE: readonly [string, string, string | undefined][] = [
  ['nested comprehension 20,000 × 20,000', 'xs = [[i * j for j in 20000] for i in 20000]\nmodel Probe { l = Linear(4, 4) }\n', 'npas-eval-too-large'],
  ['10^8 Mixture-of-Recursions recursions', 'model Probe { block B { l = Linear(64, 64) }\n  body = B * 1000000000\n}\nvariant R of Probe { route body: mor(recursions: 100000000) }\n', 'npas-eval-too-large'],
  ['35 levels of billion-fold nesting', `model Big {\n  block B0 { l = Linear(4, 4) }\n${Array.from({ length: 35 }, (_, i) => `  block B${i + 1} { inner = B${i} * 1000000000 }`).join('\n')}\n  top = B35\n}\nmodel Probe { l = Linear(4, 4) }\n`, 'npas-eval-too-large'],
  ['a 20,000-constant forward chain', forwardChain(), undefined],
  // Instance counts are bigints: counted exactly, not refused (exact-instance-counts.test.ts has the numbers).
  ['999,999,999² instances', 'model Probe { body = (RMSNorm(1) * 999999999) * 999999999 }\n', undefined],
  ['nested 2**40 stacks of attention blocks', 'model Probe {\n  block B {\n    attn = Attention(64, heads: 4)\n    mlp = MLP(64, 256)\n  }\n  body = (B * 2**40) * 2**40\n}\n', undefined],
  ['a stack strategy over 2**60 instances', 'model Big { body = Linear(4, 4) * 2**60 }\nvariant Cycled of Big { share body: cycle(2) }\nmodel Probe { l = Linear(4, 4) }\n', 'npas-eval-too-large'],
  ['an instance index past 2**53', 'model Big { body = Linear(4, 4) * 2**60 }\nvariant Far of Big { freeze body[2**60] }\nmodel Probe { l = Linear(4, 4) }\n', 'npas-eval-too-large'],
];

let version = 0;
for (const [label, text, code] of HOSTILE) {
  test(`server: ${label} → ${code ?? 'no error'}, then a hover is answered`, async () => {
    const uri = `file:///hostile-${++version}.npas`;
    await s.open(uri, text);
    const t0 = performance.now();
    const report = (await s.client.sendRequest<DocumentDiagnosticReport>('textDocument/diagnostic', { textDocument: { uri } })) as FullDocumentDiagnosticReport;
    assert.ok(performance.now() - t0 < 15_000, `diagnostics took ${(performance.now() - t0).toFixed(0)} ms`);
    const codes = report.items.filter((d) => d.severity === 1).map((d) => d.code);
    assert.ok(!codes.includes('npas-internal-error'), codes.join(', '));
    if (code) assert.ok(codes.includes(code), `${code} expected, got ${codes.join(', ')}`);
    else assert.deepEqual(codes, []);
    // The model `Probe` of the same document still has its hover.
    const offset = text.lastIndexOf('model Probe') + 'model '.length + 1;
    const before = text.slice(0, offset);
    const position = { line: before.split('\n').length - 1, character: offset - before.lastIndexOf('\n') - 1 };
    const hover = await s.client.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri }, position });
    assert.ok(hover, 'a hover');
    assert.match(JSON.stringify(hover.contents), /Probe/);
  });
}

test('server: the hover of a 999,999,999²-instance stack says its exact count and params', async () => {
  const uri = `file:///hostile-${++version}.npas`;
  const text = 'model M { body = (RMSNorm(1) * 999999999) * 999999999 }\n';
  await s.open(uri, text);
  const hover = await s.client.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: text.indexOf('body') + 1 } });
  assert.ok(hover, 'a hover');
  // 999,999,999² = 999,999,998,000,000,001 instances of one parameter each (a float said …000).
  const exact = (999_999_999n * 999_999_999n).toLocaleString('en-US');
  assert.match(JSON.stringify(hover.contents), new RegExp(`\\| M \\(×${exact}\\) \\| ${exact} \\|`));
});
