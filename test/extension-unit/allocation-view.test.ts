// The host-free half of `npas.allocate` (src/extension/allocation-view.ts): budget text as the
// input box reads it, and the plan as Markdown.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { allocateSource, emitVariant } from '../../src/core/index.js';
import { MATRIX_COLUMNS, budgetArgument, parseBudgetText, planMarkdown } from '../../src/extension/allocation-view.js';

const WRN_TOTAL = 36_536_884;
const WRN_MIN = 18_053;

test('budget text: counts, separators, suffixes and percentages, as the CLI reads --params', () => {
  const ok = (t: string) => {
    const p = parseBudgetText(t, WRN_TOTAL, WRN_MIN);
    assert.ok(p.ok, `${t}: ${p.ok ? '' : p.message}`);
    return p.value;
  };
  assert.equal(ok('3651883'), 3_651_883);
  assert.equal(ok('3_651_883'), 3_651_883);
  assert.equal(ok('3,651,883'), 3_651_883);
  assert.equal(ok(' 3.65M '), 3_650_000);
  assert.equal(ok('4Mi'), 4 * 2 ** 20);
  assert.equal(ok('10%'), 3_653_688, '10% of 36,536,884 rounded down');
  assert.equal(ok('400%'), 4 * WRN_TOTAL);
  assert.equal(ok('18053'), WRN_MIN);
});

test('budget text: refusals say why, and a too-small budget states the minimum', () => {
  const refused = (t: string) => {
    const p = parseBudgetText(t, WRN_TOTAL, WRN_MIN);
    assert.ok(!p.ok, `${t} refused`);
    return p.message;
  };
  assert.match(refused('1000'), /below the minimum of 18,053/);
  assert.match(refused('18052'), /minimum of 18,053.*18,052/);
  assert.match(refused('0.01%'), /minimum of 18,053/);
  assert.match(refused('3.6500001M'), /not a whole number/);
  assert.match(refused('abc'), /not a parameter count/);
  assert.match(refused(''), /Type a parameter budget/);
  assert.match(refused('1e9'), /not a parameter count/);
  assert.match(refused('99999999999999999999'), /too large/);
});

test('budget arguments: numbers and text; absent means "ask"', () => {
  assert.equal(budgetArgument(undefined, WRN_TOTAL, WRN_MIN), undefined);
  assert.deepEqual(budgetArgument(3_650_000, WRN_TOTAL, WRN_MIN), { ok: true, value: 3_650_000 });
  assert.deepEqual(budgetArgument('10%', WRN_TOTAL, WRN_MIN), { ok: true, value: 3_653_688 });
  assert.equal(budgetArgument({}, WRN_TOTAL, WRN_MIN)?.ok, false);
});

test('plan Markdown: summary, groups, the layers × groups matrix and the variant', () => {
  const text = readFileSync(join(__dirname, '..', '..', 'examples', 'ssn-wrn-28-10.npas'), 'utf8');
  const r = allocateSource(text, 'WRN28_10', { target: 3_650_000, grouping: { kind: 'shape' }, method: 'wavg', maxTemplates: 8 });
  assert.ok(r.ok);
  const variant = emitVariant(r.plan, 'Small');
  const md = planMarkdown(r.plan, 'wrn.npas', variant);
  assert.match(md, /^# NPAS plan for WRN28_10 at 3,650,000 stored parameters$/m);
  assert.match(md, /\| stored \| 3,650,000 = stores 3,631,948 \+ coefficients 0 \+ fixed 18,052/);
  assert.match(md, /\| unused \| 0 store entries/);
  assert.match(md, /\| `stem\.weight` \| 16×3×3×3 \| direct \|/);
  // One matrix row per weight, one column per group.
  const header = md.split('\n').find((l) => l.startsWith('| layer | shape |'))!;
  assert.equal(header.split('|').length - 2, 2 + Math.min(r.plan.groups.length, MATRIX_COLUMNS));
  assert.equal(md.split('\n').filter((l) => l.startsWith('| `')).length, r.plan.layers.length);
  assert.ok(md.includes(variant.trimEnd()), 'the variant Apply would append');
});

test('plan Markdown: many groups are folded into a last column', () => {
  const text = readFileSync(join(__dirname, '..', '..', 'examples', 'ssn-wrn-28-10.npas'), 'utf8');
  const r = allocateSource(text, 'WRN28_10', { target: 36_536_884, grouping: { kind: 'cluster', k: 20 }, method: 'wavg', maxTemplates: 8 });
  assert.ok(r.ok, r.ok ? '' : r.message);
  const md = planMarkdown(r.plan, 'wrn.npas');
  assert.ok(r.plan.groups.length > MATRIX_COLUMNS, `${r.plan.groups.length} groups`);
  assert.match(md, new RegExp(`\\| ${r.plan.groups.length - MATRIX_COLUMNS} more \\|`));
});
