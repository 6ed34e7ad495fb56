// `npas report`: one self-contained HTML file whose embedded numbers are those of
// `npas budget --json`, with the bundle and styles inlined and a fresh nonce each time.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import type { CliIO } from '../../src/cli/io.js';
import { ROOT } from './dom.js';

function io(files: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const written = new Map<string, string>();
  const { readFileSync } = require('node:fs') as typeof import('node:fs');
  const cli: CliIO = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    readFile: (p) => files[p] ?? readFileSync(p, 'utf8'),
    writeFile: (p, t) => written.set(p, t),
  };
  return { cli, out, err, written };
}

describe('npas report', () => {
  before(async () => {
    // The report inlines dist/webview.js: build it (only it) so this test stands alone.
    const { buildWebview } = (await import('../../webview/build.mjs' as string)) as { buildWebview: () => Promise<unknown> };
    await buildWebview();
  });

  it('writes one HTML file with the data of npas budget --json', () => {
    const spec = `${ROOT}/examples/relaxed-recursive-gemma.npas`;
    const a = io();
    const code = main(['report', spec, '-o', 'out.html'], a.cli);
    const html = a.written.get('out.html')!;
    assert.ok(html, a.err.join(''));
    assert.match(a.err.join(''), /wrote out\.html \(3 models\)/);
    const b = io();
    const budgetCode = main(['budget', spec, '--json'], b.cli);
    assert.equal(code, budgetCode);
    const json = JSON.parse(b.out.join(''), (_k, v) => v) as { models: { name: string; params: Record<string, number>; kvCacheBytes: number }[] };
    const rawJson = b.out.join('');
    const embedded = JSON.parse(/<script type="application\/json" id="npas-data">([\s\S]*?)<\/script>/.exec(html)![1]!) as { models: { name: string; params: Record<string, string>; kvCacheBytes: string }[] };
    assert.deepEqual(embedded.models.map((m) => m.name), json.models.map((m) => m.name));
    for (const m of embedded.models) {
      // Compare as exact decimal text (the CLI writes bare integers).
      for (const k of ['stored', 'effective', 'active', 'trainable']) assert.ok(rawJson.includes(`"${k}": ${m.params[k]}`), `${m.name} ${k}`);
      assert.ok(rawJson.includes(`"kvCacheBytes": ${m.kvCacheBytes}`));
    }
    // Self-contained: the page outside the inlined bundle references nothing external (the
    // bundle's own templates, e.g. vscode-icon's codicon <link>, are never rendered; the browser
    // test checks that no request leaves the file at run time).
    const page = html.replace(/<script nonce="[^"]+">[\s\S]*?<\/script>/, '<script></script>');
    assert.doesNotMatch(page, /<script[^>]+src=|<link[^>]+href=|@import|url\(\s*['"]?(https?:|\/\/)/i);
    assert.doesNotMatch(html, /unsafe-inline/);
    const nonce = /'nonce-([^']+)'/.exec(html)![1]!;
    assert.equal((html.match(new RegExp(`nonce="${nonce.replace(/[+/=]/g, '\\$&')}"`, 'g')) ?? []).length, 2);
    const again = io();
    main(['report', spec, '-o', 'out.html'], again.cli);
    assert.notEqual(/'nonce-([^']+)'/.exec(again.written.get('out.html')!)![1], nonce, 'a fresh nonce per report');
  });

  it('--model keeps one model; --theme light opens light; spec errors exit 2 without a file', () => {
    const spec = `${ROOT}/examples/moeut.npas`;
    const a = io();
    assert.equal(main(['report', spec, '--model', 'MoEUT244M', '--theme', 'light', '--seq', '8Ki'], a.cli), main(['budget', spec, '--model', 'MoEUT244M', '--seq', '8Ki'], io().cli));
    // Without -o the report is written beside the spec, nothing to the terminal.
    assert.deepEqual([...a.written.keys()], [`${ROOT}/examples/moeut.html`]);
    assert.equal(a.out.join(''), '');
    const html = a.written.get(`${ROOT}/examples/moeut.html`)!;
    // `-o -` writes it to stdout for a pipe.
    const piped = io();
    main(['report', spec, '--model', 'MoEUT244M', '-o', '-'], piped.cli);
    assert.match(piped.out.join(''), /^<!DOCTYPE html>/i);
    assert.equal(piped.written.size, 0);
    assert.match(html, /<body class="vscode-light/);
    assert.match(html, /"seq":8192/);
    const bad = io({ 'bad.npas': 'model M {\n  x = Linear(4, )\n}\n' });
    assert.equal(main(['report', 'bad.npas', '-o', 'bad.html'], bad.cli), 2);
    assert.equal(bad.written.size, 0);
    assert.match(bad.err.join(''), /^bad\.npas:2:\d+: error npas-/);
    const none = io();
    assert.equal(main(['report', spec, '--model', 'Nope'], none.cli), 2);
    assert.equal(main(['report', spec, '--theme', 'blue'], io().cli), 2);
    assert.equal(main(['report'], io().cli), 2);
  });
});
