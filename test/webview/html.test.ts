// The dashboard's HTML: strict CSP (nonce only, no unsafe-inline, no remote sources) for the
// panel and the standalone report, and escaping of everything embedded.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dashboardHtml, escapeScript, panelCsp, reportCsp, reportHtml } from '../../webview/html.js';

const nonce = 'abcdefghijklmnopqrstuv==';

describe('dashboard HTML', () => {
  it('the panel page loads the bundle and stylesheet by nonce from the webview origin only', () => {
    const html = dashboardHtml({ cspSource: 'https://file+.vscode-resource.vscode-cdn.net', scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview.js', styleUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/media/dashboard.css', nonce });
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)![1]!;
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, new RegExp(`script-src 'nonce-${nonce}'`));
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
    assert.match(html, new RegExp(`<script nonce="${nonce}" src="https://file\\+\\.vscode-resource`));
    assert.match(html, /id="npas-dashboard"/);
    assert.equal((html.match(/<script/g) ?? []).length, 1);
    assert.doesNotMatch(html, / style="/);
  });

  it('refuses a weak nonce', () => {
    assert.throws(() => dashboardHtml({ cspSource: 'x', scriptUri: 'a', styleUri: 'b', nonce: 'short' }));
    assert.throws(() => reportHtml({ script: '', style: '', dataJson: '{}', nonce: '"><script>', title: 't' }));
  });

  it('the report inlines script and style by nonce, embeds data that cannot close its script element', () => {
    const data = JSON.stringify({ name: '</script><script>alert(1)</script>', x: '<!--' });
    const html = reportHtml({ script: 'console.log("</script>")', style: 'body{}</style><script>', dataJson: data, nonce, title: 'R <x>' });
    const csp = /content="([^"]+)"/.exec(html)![1]!;
    assert.equal(csp, reportCsp(nonce));
    assert.doesNotMatch(csp, /unsafe|https?:|\*/);
    // Only the nonce'd script and the JSON data block; the data holds no '<' at all.
    assert.equal((html.match(/<script nonce=/g) ?? []).length, 1);
    assert.equal((html.match(/<script type="application\/json"/g) ?? []).length, 1);
    assert.equal((html.match(/<\/script>/g) ?? []).length, 2);
    assert.equal((html.match(/<\/style>/g) ?? []).length, 1);
    assert.match(html, /<title>R &lt;x&gt;<\/title>/);
    const embedded = /<script type="application\/json" id="npas-data">([\s\S]*?)<\/script>/.exec(html)![1]!;
    assert.doesNotMatch(embedded, /</);
    assert.deepEqual(JSON.parse(embedded), JSON.parse(data));
    assert.equal(escapeScript('a</SCRIPT>b'), 'a<\\/SCRIPT>b');
    assert.match(panelCsp('vscode-src', nonce), /img-src vscode-src data: blob:/);
  });
});
