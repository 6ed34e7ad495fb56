// Unit tests of the importer's building blocks: the position-reporting JSON reader, number and
// call formatting in the spec writer, identifier derivation and window-pattern simplification.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lineAndColumn, parseJsonText } from '../../../src/core/hf/json-text.js';
import { call, formatNumber } from '../../../src/core/hf/spec-writer.js';
import { chooseModelName, toIdentifier } from '../../../src/core/hf/model-name.js';
import { simplifyWindows } from '../../../src/core/hf/families/shared-parts.js';

test('the JSON reader accepts what Python json.dump writes', () => {
  const r = parseJsonText('\uFEFF{"a": [1, -2.5e-3, true, null], "b": {"c": "x\\u00e9\\n"}, "n": NaN, "i": -Infinity, "a": 7}');
  assert.ok(r.ok);
  if (!r.ok) return;
  assert.deepEqual(JSON.parse(JSON.stringify(r.value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v))), {
    a: 7, // the last of duplicate keys wins, as in Python
    b: { c: 'xé\n' },
    n: 'NaN',
    i: '-Infinity',
  });
});

test('the JSON reader keeps "__proto__" as an ordinary key', () => {
  const r = parseJsonText('{"__proto__": {"polluted": 1}, "model_type": "gpt2"}');
  assert.ok(r.ok);
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
});

test('JSON errors carry a reason, a line and a column', () => {
  const cases: readonly [string, RegExp, number, number][] = [
    ['{"a": 01}', /expected ',' or '}'/, 1, 8],
    ['{"a": tru}', /expected a value but found 'tru'/, 1, 7],
    ['{\n\n  "a": -}', /malformed number/, 3, 8],
    ['{"a": "\\q"}', /unknown escape/, 1, 8],
    ['{"a": "line\nbreak"}', /control character/, 1, 12],
    ['[1, 2', /expected ',' or '\]'/, 1, 6],
    ['   ', /empty/, 1, 4],
  ];
  for (const [text, reason, line, column] of cases) {
    const r = parseJsonText(text);
    assert.equal(r.ok, false, text);
    if (r.ok) continue;
    assert.match(r.message, reason, text);
    assert.deepEqual([r.line, r.column], [line, column], `${JSON.stringify(text)}: ${r.message}`);
  }
  assert.deepEqual(lineAndColumn('ab\ncd', 4), { line: 2, column: 2 });
});

test('deeply nested JSON is refused, not a stack overflow', () => {
  const r = parseJsonText('['.repeat(10_000));
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.message, /nested too deeply/);
});

test('numbers get thousands separators from 10 000 up', () => {
  assert.equal(formatNumber(4096), '4096');
  assert.equal(formatNumber(10_944), '10_944');
  assert.equal(formatNumber(50_257), '50_257');
  assert.equal(formatNumber(151_936), '151_936');
  assert.equal(formatNumber(46_702_792_704), '46_702_792_704');
  assert.equal(call('Attention', ['d', 'heads'], { kv_heads: undefined, bias: true, window: 4096 }), 'Attention(d, heads, bias: true, window: 4096)');
});

test('model names become valid identifiers', () => {
  assert.equal(toIdentifier('meta-llama/Llama-2-7b-hf'), 'Llama_2_7b_hf');
  assert.equal(toIdentifier('C:\\models\\phi-2\\'), 'phi_2');
  assert.equal(toIdentifier('Qwen/Qwen2-0.5B'), 'Qwen2_0_5B');
  assert.equal(toIdentifier('2b'), 'M_2b');
  assert.equal(toIdentifier('for'), 'for_model');
  assert.equal(toIdentifier('Mëtal'), 'Metal');
  assert.equal(toIdentifier('///'), undefined);
  assert.equal(chooseModelName('!!!', undefined, 'gpt_neox'), 'Gpt_neox');
  assert.equal(chooseModelName(undefined, '', 'deepseek_v2'), 'Deepseek_v2');
});

test('per-layer windows simplify to the natural pattern', () => {
  assert.deepEqual(simplifyWindows([undefined, undefined]), { kind: 'none' });
  assert.deepEqual(simplifyWindows([64, 64, 64]), { kind: 'all', window: 64 });
  assert.deepEqual(simplifyWindows([undefined, 64, 64]), { kind: 'from', from: 1, window: 64 });
  assert.deepEqual(simplifyWindows([64, undefined]), { kind: 'list', windows: [64, undefined] });
  assert.deepEqual(simplifyWindows([undefined, 64, 128]), { kind: 'list', windows: [undefined, 64, 128] });
});
