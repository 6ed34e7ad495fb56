// Test helpers: a jsdom page for the views, dashboard data of the examples, and normalised SVG
// snapshots (test/webview/__snapshots__, written on the first run or with UPDATE_SNAPSHOTS=1,
// compared after).

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JSDOM } from 'jsdom';
import { dashboardData, type DashboardData } from '../../src/core/index.js';

export const ROOT = join(__dirname, '..', '..');

export function exampleText(name: string): string {
  return readFileSync(join(ROOT, 'examples', `${name}.npas`), 'utf8');
}

const cache = new Map<string, DashboardData>();
export function exampleData(name: string): DashboardData {
  let d = cache.get(name);
  if (!d) {
    d = dashboardData(exampleText(name), {}, { source: `${name}.npas` });
    cache.set(name, d);
  }
  return d;
}

export function page(): { window: JSDOM['window']; document: Document; root: HTMLElement } {
  const dom = new JSDOM('<!DOCTYPE html><html><body class="vscode-dark"><div id="npas-dashboard"></div></body></html>', { pretendToBeVisual: true });
  const document = dom.window.document;
  return { window: dom.window, document, root: document.getElementById('npas-dashboard') as HTMLElement };
}

/** One element per line, numbers rounded to 2 decimals: stable across platforms, readable in diffs. */
export function normaliseSvg(svg: string): string {
  return svg
    .replace(/-?\d+\.\d+/g, (n) => String(Math.round(Number(n) * 100) / 100))
    .replace(/>\s*</g, '>\n<')
    .trim();
}

export function matchSnapshot(name: string, actual: string): void {
  const dir = join(__dirname, '__snapshots__');
  const file = join(dir, `${name}.svg.txt`);
  const text = `${actual}\n`;
  if (!existsSync(file) || process.env.UPDATE_SNAPSHOTS === '1') {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, text);
    return;
  }
  const expected = readFileSync(file, 'utf8');
  if (expected !== text) {
    const a = expected.split('\n');
    const b = text.split('\n');
    const i = a.findIndex((line, k) => line !== b[k]);
    assert.fail(`snapshot ${name} differs at line ${i + 1}:\n  expected: ${a[i]}\n  actual:   ${b[i]}\n(rerun with UPDATE_SNAPSHOTS=1 if the change is intended)`);
  }
}
