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
