// The dashboard application in jsdom: the message loop (malformed messages logged and dropped,
// never acted on), the state it persists, tabs and keyboard, and the summary's numbers, which
// must read exactly as `npas budget --json` gives them.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyze } from '../../src/core/index.js';
import type { DashboardState, WebviewToHost } from '../../src/protocol/webview-messages.js';
import { startDashboard } from '../../webview/app.js';
import { exampleData, exampleText, page } from './dom.js';

function harness(saved?: unknown, standalone = false) {
  const { root, document, window } = page();
  const posted: WebviewToHost[] = [];
  const logs: string[] = [];
  let state: DashboardState | undefined;
  const app = startDashboard(root, { post: (m) => posted.push(m), getState: () => saved, setState: (s) => (state = s), standalone, log: (m) => logs.push(m) });
  return { app, root, document, window, posted, logs, saved: () => state };
}

describe('dashboard app', () => {
  it('waits for data, then draws the first model with the CLI numbers', () => {
    const h = harness();
    assert.match(h.root.textContent!, /Waiting for the analysis/);
    const data = exampleData('relaxed-recursive-gemma');
    assert.equal(h.app.receive({ type: 'update', data }), true);
    const r = analyze(exampleText('relaxed-recursive-gemma')).models[0]!;
    const field = (f: string): string => h.root.querySelector(`[data-field="${f}"]`)!.textContent!;
    assert.equal(field('stored'), r.params.stored.toLocaleString('en-US'));
    assert.equal(field('active'), r.params.active.toLocaleString('en-US'));
    assert.equal(field('kv'), '72.00 MiB');
    assert.ok(h.root.querySelector('svg.npas-architecture'));
    assert.equal(h.saved()?.model, 'Gemma2B');
    assert.equal(h.saved()?.data?.models.length, data.models.length);
  });

  it('logs and drops malformed messages without changing anything', () => {
    const h = harness();
    const data = exampleData('moeut');
    h.app.receive({ type: 'update', data });
    const before = h.root.innerHTML;
    for (const bad of [null, 42, 'update', { type: 'update', data: { ...data, models: 'x' } }, { type: 'show', view: '<img src=x onerror=alert(1)>' }, { type: '__proto__' }]) {
      assert.equal(h.app.receive(bad), false);
    }
    assert.equal(h.logs.length, 6);
    assert.ok(h.posted.filter((m) => m.type === 'log').length === 6);
    assert.equal(h.root.innerHTML, before);
    assert.equal(h.root.querySelectorAll('img').length, 0);
  });

  it('switches views by tab (arrow keys too), model by the picker, and persists both', () => {
    const h = harness();
    h.app.receive({ type: 'update', data: exampleData('relaxed-recursive-gemma') });
    const win = h.window;
    h.root.querySelector<HTMLButtonElement>('#npas-tab-budget')!.click();
    assert.equal(h.saved()?.view, 'budget');
    assert.ok(h.root.querySelector('svg.npas-treemap'));
    h.root.querySelector<HTMLButtonElement>('#npas-tab-budget')!.dispatchEvent(new win.KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
    assert.equal(h.saved()?.view, 'variants');
    assert.equal(h.root.querySelector('#npas-tab-variants')!.getAttribute('aria-selected'), 'true');
    assert.equal(h.root.querySelector<HTMLButtonElement>('#npas-tab-variants')!.tabIndex, 0);
    const select = h.root.querySelector<HTMLSelectElement>('#npas-model')!;
    select.value = 'RecursiveGemma';
    select.dispatchEvent(new win.Event('change'));
    assert.equal(h.saved()?.model, 'RecursiveGemma');
    assert.equal(h.root.querySelector('[data-field="stored"]')!.textContent, '1,515,231,232');
    h.app.receive({ type: 'show', view: 'probe' });
    assert.match(h.root.textContent!, /No probe results yet/);
  });

  it('restores a saved state (panel serializer) and draws before the host answers', () => {
    const first = harness();
    first.app.receive({ type: 'update', data: exampleData('widenet') });
    first.root.querySelector<HTMLButtonElement>('#npas-tab-budget')!.click();
    const saved = JSON.parse(JSON.stringify(first.saved()));
    const second = harness(saved);
    assert.ok(second.root.querySelector('svg.npas-treemap'));
    assert.equal(second.app.state().view, 'budget');
  });

  it('reveals a clicked node through a reveal message', () => {
    const h = harness();
    h.app.receive({ type: 'update', data: exampleData('moeut') });
    h.root.querySelector('g.npas-node[data-id="m:embed"]')!.dispatchEvent(new h.window.MouseEvent('click', { bubbles: true }));
    const reveal = h.posted.find((m) => m.type === 'reveal');
    assert.ok(reveal && reveal.type === 'reveal' && reveal.range.end > reveal.range.start);
  });

  it('the standalone report has a theme toggle that switches the body theme class', () => {
    const h = harness(undefined, true);
    h.app.receive({ type: 'update', data: exampleData('moeut') });
    const b = h.root.querySelector<HTMLButtonElement>('#npas-theme')!;
    assert.ok(h.document.body.classList.contains('vscode-dark'));
    b.click();
    assert.ok(h.document.body.classList.contains('vscode-light'));
    assert.equal(h.saved()?.theme, 'light');
  });

  it('shows an error message from the host and clears it on the next update', () => {
    const h = harness();
    h.app.receive({ type: 'error', message: 'the spec was closed' });
    assert.match(h.root.querySelector('[role="alert"]')!.textContent!, /closed/);
    h.app.receive({ type: 'update', data: exampleData('moeut') });
    assert.equal(h.root.querySelector('[role="alert"]'), null);
  });
});
