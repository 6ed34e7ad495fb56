// The host ↔ webview protocol: validation of both directions (a malformed message is rejected
// with a reason, never half-accepted), persisted state restoration and the reducer.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { checkDashboardData, checkHostMessage, checkWebviewMessage, decodeHostMessage, initialState, reduce, restoreState } from '../../webview/protocol.js';
import { exampleData } from './dom.js';

const data = exampleData('relaxed-recursive-gemma');
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

describe('host → webview messages', () => {
  it('accepts real dashboard data after a JSON round trip', () => {
    const r = checkHostMessage({ type: 'update', data: clone(data) });
    assert.equal(r.ok, true);
    // lbdn-sandwich: a training cost per token whose decimal does not terminate ('787124.493…');
    // tt-vgg16: factorised weights (notes and per-step generation).
    for (const name of ['moeut', 'widenet', 'cla-mlkv', 'deepseek-v2', 'ssn-wrn-28-10', 'lbdn-sandwich', 'tt-vgg16', 'conformer-shared-experts']) assert.equal(checkDashboardData(clone(exampleData(name))).ok, true, name);
  });

  it('decodes an encoded update (the language server’s answer, forwarded by the host undecoded) into the same data', async () => {
    // The wire form (DashboardDataAnswer.encoded): base64 of the gzipped UTF-8 JSON of the data;
    // its labels hold non-ASCII characters (×, …), so a Latin-1 reading would not round-trip.
    const json = JSON.stringify(data);
    assert.ok(/[^\x00-\x7f]/.test(json));
    const encode = (text: string | Buffer): string => gzipSync(text).toString('base64');
    const r = checkHostMessage(await decodeHostMessage({ type: 'update', encoded: encode(json) }));
    assert.ok(r.ok && r.value.type === 'update');
    assert.deepEqual(r.value.data, clone(data));
    // Any other message passes as it came.
    const show = { type: 'show', view: 'budget' };
    assert.equal(await decodeHostMessage(show), show);
    // Not base64, not gzip, not JSON, not dashboard data: dropped, with the reason.
    const bad: [string, RegExp][] = [
      ['%%%', /does not decode/],
      [Buffer.from(json).toString('base64'), /does not decode/],
      [encode('{'), /does not decode/],
      [encode(JSON.stringify({ ...data, version: 2 })), /version 1/],
    ];
    for (const [encoded, why] of bad) {
      const checked = checkHostMessage(await decodeHostMessage({ type: 'update', encoded }));
      assert.equal(checked.ok, false, encoded.slice(0, 20));
      if (!checked.ok) assert.match(checked.error, why);
    }
  });

  it('rejects malformed messages with a reason', () => {
    const bad: [unknown, RegExp][] = [
      [null, /not an object/],
      ['update', /not an object/],
      [[], /not an object/],
      [{}, /unknown message type/],
      [{ type: 'eval', code: 'alert(1)' }, /unknown message type/],
      [{ type: 'update' }, /data is not an object/],
      [{ type: 'update', data: { ...clone(data), version: 2 } }, /version 1/],
      [{ type: 'show', view: 'nope' }, /unknown view/],
      [{ type: 'show', view: 'budget', model: 3 }, /model is not a string/],
      [{ type: 'error', message: 42 }, /message is not a string/],
      [{ type: 'allocation', result: { model: 'x' } }, /allocation: plan\.source/],
      [{ type: 'probe', result: { model: 'x' } }, /probe: /],
    ];
    for (const [msg, why] of bad) {
      const r = checkHostMessage(msg);
      assert.equal(r.ok, false, JSON.stringify(msg)?.slice(0, 60));
      if (!r.ok) assert.match(r.error, why);
    }
  });

  it('accepts a per-token FLOP count cut where its decimal does not terminate (the engine writes `…`)', () => {
    const d = clone(data) as any;
    d.models[0].flops.trainPerToken = '787124.493…';
    assert.equal(checkDashboardData(d).ok, true);
    d.models[0].flops.trainPerToken = '787124…';
    assert.equal(checkDashboardData(d).ok, false);
  });

  it('rejects data whose counts are not exact decimal strings, or whose tree or structure is malformed', () => {
    const mutate = (f: (d: any) => void): string => {
      const d = clone(data) as any;
      f(d);
      const r = checkDashboardData(d);
      assert.equal(r.ok, false);
      return r.ok ? '' : r.error;
    };
    assert.match(mutate((d) => (d.models[0].params.stored = 2506172416)), /exact count/);
    assert.match(mutate((d) => (d.models[0].params.stored = '1e9')), /exact count/);
    assert.match(mutate((d) => (d.models[0].tree.children[0].params.active = '-1')), /exact count/);
    assert.match(mutate((d) => (d.models[0].tree.children[1].kind = 'script')), /kind is unknown/);
    assert.match(mutate((d) => (d.models[1].structure.reads[0].store = 'nowhere')), /malformed read/);
    assert.match(mutate((d) => (d.models[0].range = { start: 5, end: 1 })), /range/);
    assert.match(mutate((d) => (d.models[0].budgets = [{ constraint: 'x' }])), /budgets/);
    assert.match(mutate((d) => (d.models = {})), /models/);
    // A deeply nested tree is refused rather than recursed into without bound.
    assert.match(
      mutate((d) => {
        let n = d.models[0].tree;
        for (let i = 0; i < 100; i++) {
          const c = { ...n, children: [] };
          n.children = [c];
          n = c;
        }
      }),
      /nested too deeply/,
    );
  });

  it('checks the parameterisation of a model (factorised weights, param multipliers) field by field', () => {
    const good = exampleData('mutransfer-gpt3');
    assert.equal(checkDashboardData(clone(good)).ok, true);
    const tt = exampleData('tt-vgg16');
    const withRows = tt.models.findIndex((m) => (m.parameterisation?.factorized.length ?? 0) > 0);
    assert.ok(withRows >= 0);
    const mutate = (source: unknown, f: (d: any) => void): string => {
      const d = clone(source) as any;
      f(d);
      const r = checkDashboardData(d);
      assert.equal(r.ok, false);
      return r.ok ? '' : r.error;
    };
    assert.match(mutate(tt, (d) => (d.models[withRows].parameterisation.factorized[0].execution = 'magic')), /unknown execution/);
    assert.match(mutate(tt, (d) => (d.models[withRows].parameterisation.factorized[0].factorElements = 12)), /malformed count/);
    assert.match(mutate(good, (d) => (d.models[0].parameterisation.multipliers.rows[0].lr = { formula: 'x', value: 'NaN', target: null })), /malformed row/);
    assert.match(mutate(good, (d) => (d.models[0].parameterisation = [])), /not an object/);
  });
});

describe('webview → host messages', () => {
  it('accepts ready, reveal, export and log', () => {
    assert.deepEqual(checkWebviewMessage({ type: 'ready', protocol: 1 }), { ok: true, value: { type: 'ready', protocol: 1 } });
    assert.deepEqual(checkWebviewMessage({ type: 'reveal', range: { start: 3, end: 9 }, extra: 1 }), { ok: true, value: { type: 'reveal', range: { start: 3, end: 9 } } });
    assert.equal(checkWebviewMessage({ type: 'export', format: 'svg', fileName: 'Gemma-architecture.svg', data: '<svg/>' }).ok, true);
    assert.equal(checkWebviewMessage({ type: 'export', format: 'png', fileName: 'a.png', data: 'data:image/png;base64,AAAA' }).ok, true);
    assert.equal(checkWebviewMessage({ type: 'log', level: 'warn', message: 'x' }).ok, true);
  });

  it('rejects a wrong protocol, bad ranges, path traversal in export names and non-PNG data', () => {
    for (const m of [
      { type: 'ready', protocol: 2 },
      { type: 'reveal', range: { start: -1, end: 2 } },
      { type: 'reveal', range: { start: 4, end: 2 } },
      { type: 'reveal' },
      { type: 'export', format: 'svg', fileName: '../../etc/passwd.svg', data: '' },
      { type: 'export', format: 'svg', fileName: 'x.exe', data: '' },
      { type: 'export', format: 'png', fileName: 'x.png', data: '<svg/>' },
      { type: 'export', format: 'pdf', fileName: 'x.pdf', data: '' },
      { type: 'log', level: 'fatal', message: 'x' },
      { type: 'runCommand', command: 'workbench.action.terminal.new' },
    ]) assert.equal(checkWebviewMessage(m).ok, false, JSON.stringify(m));
  });
});

describe('state and reducer', () => {
  it('restores persisted state field by field, replacing what is malformed', () => {
    assert.deepEqual(restoreState(undefined), initialState());
    assert.deepEqual(restoreState({ version: 99, view: 'budget' }), initialState());
    const s = restoreState({ version: 1, view: 'budget', model: 'RecursiveGemma', collapsed: { A: ['body'], B: [3] }, variantsAxis: 'flops', sort: { key: 'stored', descending: true }, theme: 'light', data: clone(data) });
    assert.equal(s.view, 'budget');
    assert.equal(s.model, 'RecursiveGemma');
    assert.deepEqual(s.collapsed, { A: ['body'] });
    assert.equal(s.variantsAxis, 'flops');
    assert.deepEqual(s.sort, { key: 'stored', descending: true });
    assert.equal(s.theme, 'light');
    assert.equal(s.data?.models.length, data.models.length);
    assert.equal(restoreState({ version: 1, view: 'hack', data: { format: 'x' } }).view, 'architecture');
    assert.equal(restoreState({ version: 1, data: { format: 'x' } }).data, null);
  });

  it('keeps the selected model across updates while it exists, and shows views on request', () => {
    let s = reduce(initialState(), { type: 'update', data });
    assert.equal(s.model, data.models[0]!.name);
    s = { ...s, model: 'RecursiveGemma' };
    s = reduce(s, { type: 'update', data });
    assert.equal(s.model, 'RecursiveGemma');
    s = reduce(s, { type: 'update', data: { ...data, models: data.models.filter((m) => m.name !== 'RecursiveGemma') } });
    assert.equal(s.model, data.models[0]!.name);
    s = reduce(s, { type: 'show', view: 'variants', model: 'RelaxedRecursiveGemma' });
    assert.equal(s.view, 'variants');
    assert.equal(s.model, 'RelaxedRecursiveGemma');
    assert.equal(reduce(s, { type: 'show', view: 'budget', model: 'Nope' }).model, 'RelaxedRecursiveGemma');
    assert.equal(reduce(s, { type: 'error', message: 'x' }), s);
  });
});
