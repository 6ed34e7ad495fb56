// Fuzz tests of the parser: thousands of deterministic random mutations of valid specs, random
// garbage and pathological nesting. Whatever the input, `parse` must not throw, must return a
// SourceFile whose every range lies within the text and inside its parent's range, must report
// at most 100 errors with distinct start offsets, and must finish quickly.
// Mutations are drawn from a seeded PRNG, so any failure reproduces exactly (the message names
// the seed and the case).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GEMMA } from './gemma-sample.js';
import { parse, type ParseResult } from '../../../src/core/syntax/parser.js';
import { scan } from '../../../src/core/syntax/scanner.js';
import type { TextRange } from '../../../src/core/syntax/syntax-tree.js';
import { prng } from '../../fixtures/prng.js';


const GPT = `# A parameterised GPT with index-dependent windows and every statement form.
eps = 1e-5
model GPT(L = 12, d = 768, heads = 12, window = none) {
  block Decoder(window = none) {
    norm1 = LayerNorm(d, eps: eps)
    attn  = Attention(d, heads: heads, window: window, cross: false)
    norm2 = LayerNorm(d)
    mlp   = MLP(d, 4 * d, act: gelu); drop = Dropout(0.1)
  }
  embed = Embedding(50_257, d)
  body  = [Decoder(window: if i % 2 == 0 then 4096 else none) for i in 0..L]
  head  = Linear(d, 50_257) tied embed
  tie head = embed
}
variant Tiny of GPT {
  L = 4; d = 256
  share body.attn, body.mlp: all
  share heads body.attn: pairs(2, qkvo: true)
  adapt body.attn.q, body[0].attn.v: lora(rank: 8, targets: [q, v])
  hash body: roast(memory: 4Mi, scales: true)
  bank g1 = body.mlp, head: ssn(params: 1M, templates: 4)
  dict body.attn: masa(atoms: 4)
  route body: mor(recursions: 3, capacity: [1, 2/3, 1/3])
  freeze embed, body[1]
  train head
  allocate params: 3.65M, groups: shape, generate: wavg(8)
}
budget Tiny {
  params.trainable < 10M
  flops.train(seq: 2048) >= 1
  memory.inference(batch: 8, dtype: bf16) <= 24GB
  latency.decode(device: L4) <= 40ms
}
`;

const MOE = `block Expert(d, h) { up = Linear(d, h); down = Linear(h, d) }
model Mix(d = 1024, E = 8, k = 2) {
  dense = Decoder
  moe   = MoE(d, experts: E, top_k: k, expert: Expert(d, 4 * d))
  body  = dense + moe * 26
  router_note = "top-k \\"routing\\" per token"
  ok    = not (E < k) and (d // 64 >= 2 or d % 2 != 0) and -2 ** 2 == -4
}
variant Shared of Mix { share kv body: tied; share kv: all }
`;

const SMALL = `x = [[a, b,], [], (1 + 2) * 3.5e3K]
y = min(x, 2) // max(1, 2)
model M { a = f(1,
  2,
  3)
}
`;

const SAMPLES = [GEMMA, GPT, MOE, SMALL];

const ALPHABET = [
  '(', ')', '[', ']', '{', '}', ',', ':', ';', '.', '..', '=', '==', '<=', '+', '-', '*', '**', '/', '//',
  '\n', ' ', '\t', '#', '"', '\\', '_', '0', '7', '1.5', 'e', 'K', 'MiB', 'x', 'kv', 'heads',
  'model', 'block', 'variant', 'of', 'budget', 'share', 'tie', 'relax', 'tied', 'if', 'then', 'else',
  'for', 'in', 'not', 'none', '$', '!', '@', 'é', '\u{1F600}', '\uFEFF', '\u0000', '\r',
];

/** Applies one random mutation at character or token level. */
function mutate(text: string, random: () => number): string {
  const int = (n: number) => Math.floor(random() * n);
  const pos = int(text.length + 1);
  switch (int(9)) {
    case 0: // Delete a few characters.
      return text.slice(0, pos) + text.slice(pos + 1 + int(6));
    case 1: // Insert a character or snippet from the alphabet.
      return text.slice(0, pos) + (ALPHABET[int(ALPHABET.length)] ?? '') + text.slice(pos);
    case 2: {
      // Duplicate a slice.
      const end = Math.min(text.length, pos + int(40));
      return text.slice(0, end) + text.slice(pos, end) + text.slice(end);
    }
    case 3: // Truncate.
      return text.slice(0, pos);
    case 4: {
      // Insert random UTF-16 code units, lone surrogates included.
      let junk = '';
      for (let i = 1 + int(4); i > 0; i--) junk += String.fromCharCode(int(0x10000));
      return text.slice(0, pos) + junk + text.slice(pos);
    }
    default: {
      // Token-level edits: delete, duplicate, move or swap whole tokens.
      const tokens = scan(text).tokens.filter((t) => t.kind !== 'EOF');
      if (tokens.length < 2) return text.slice(0, pos);
      const a = tokens[int(tokens.length)];
      const b = tokens[int(tokens.length)];
      if (a === undefined || b === undefined) return text;
      const [first, second] = a.start <= b.start ? [a, b] : [b, a];
      const textA = text.slice(first.start, first.end);
      const textB = text.slice(second.start, second.end);
      switch (int(4)) {
        case 0:
          return text.slice(0, a.start) + text.slice(a.end);
        case 1:
          return text.slice(0, a.end) + ' ' + text.slice(a.start, a.end) + text.slice(a.end);
        case 2:
          return text.slice(0, b.start) + text.slice(a.start, a.end) + ' ' + text.slice(b.start);
        default:
          if (first === second || first.end > second.start) return text;
          return text.slice(0, first.start) + textB + text.slice(first.end, second.start) + textA + text.slice(second.end);
      }
    }
  }
}

function isRange(value: unknown): value is TextRange {
  return (
    typeof value === 'object' && value !== null &&
    typeof (value as { start?: unknown }).start === 'number' && typeof (value as { end?: unknown }).end === 'number'
  );
}

/**
 * Checks every range in the tree without recursion (the tree may be deep): within the text,
 * start <= end, and every node inside its parent node's range.
 */
function checkTree(result: ParseResult, text: string, label: string): void {
  const { file, diagnostics } = result;
  assert.equal(file.kind, 'SourceFile', label);
  assert.deepEqual(file.range, { start: 0, end: text.length }, label);
  const stack: { value: unknown; parent: TextRange }[] = [{ value: file, parent: file.range }];
  let count = 0;
  while (stack.length > 0) {
    const entry = stack.pop();
    if (entry === undefined) break;
    const { value, parent } = entry;
    if (typeof value !== 'object' || value === null) continue;
    if (++count > 2_000_000) assert.fail(`${label}: tree too large`);
    let own = parent;
    if (Array.isArray(value)) {
      for (const item of value) stack.push({ value: item, parent });
      continue;
    }
    for (const [key, child] of Object.entries(value)) {
      if (isRange(child)) {
        assert.ok(child.start >= 0 && child.start <= child.end && child.end <= text.length, `${label}: ${key} ${JSON.stringify(child)}`);
        assert.ok(
          child.start >= parent.start && child.end <= parent.end,
          `${label}: ${key} ${JSON.stringify(child)} outside its parent ${JSON.stringify(parent)}`,
        );
        if (key === 'range') own = child;
      }
    }
    for (const [key, child] of Object.entries(value)) {
      if (!isRange(child) && typeof child === 'object' && child !== null) stack.push({ value: child, parent: key === 'range' ? parent : own });
    }
  }
  assert.ok(diagnostics.length <= 100, `${label}: ${diagnostics.length} errors`);
  const starts = new Set<number>();
  for (const d of diagnostics) {
    assert.ok(d.range.start >= 0 && d.range.start <= d.range.end && d.range.end <= text.length, `${label}: diagnostic range`);
    assert.ok(!starts.has(d.range.start), `${label}: two errors at offset ${d.range.start}`);
    starts.add(d.range.start);
    assert.ok(d.code.startsWith('npas-syntax-'), `${label}: ${d.code}`);
    assert.doesNotMatch(d.message, /Internal parser error/, label);
  }
}

/** Parses once, timing the parse alone; a throw fails the test with the input. */
function timedParse(text: string, label: string): { result: ParseResult; elapsed: number } {
  const t0 = performance.now();
  try {
    const result = parse(text);
    return { result, elapsed: performance.now() - t0 };
  } catch (e: unknown) {
    assert.fail(`${label}: parse threw ${String(e)}\ninput: ${JSON.stringify(text)}`);
  }
}

/**
 * Parses, checks the result, and checks the time. A slow parse is timed twice more before it
 * fails, so that a collector pause or a busy machine is not taken for a slow parser.
 */
function parseAndCheck(text: string, label: string, limitMs = 50): void {
  const { result, elapsed } = timedParse(text, label);
  checkTree(result, text, `${label} ${JSON.stringify(text.slice(0, 200))}`);
  let best = elapsed;
  for (let retry = 0; retry < 2 && best >= limitMs; retry++) best = Math.min(best, timedParse(text, label).elapsed);
  assert.ok(best < limitMs, `${label}: parse took ${best.toFixed(1)} ms`);
}

test('the fuzz samples themselves parse without errors', () => {
  for (const sample of SAMPLES) {
    const { diagnostics } = parse(sample);
    assert.deepEqual(diagnostics.map((d) => `${d.range.start}: ${d.message}`), []);
    parseAndCheck(sample, 'sample');
  }
});

test('thousands of random mutations of valid specs never break the parser', () => {
  const seed = 20_261_127;
  const random = prng(seed);
  let cases = 0;
  for (let round = 0; round < 1000; round++) {
    for (const [index, sample] of SAMPLES.entries()) {
      let text = sample;
      const edits = 1 + Math.floor(random() * 4);
      for (let i = 0; i < edits; i++) text = mutate(text, random);
      parseAndCheck(text, `seed ${seed} round ${round} sample ${index}`);
      cases++;
    }
  }
  assert.equal(cases, 4000);
});

test('random garbage never breaks the parser', () => {
  const seed = 7;
  const random = prng(seed);
  for (let round = 0; round < 500; round++) {
    let text = '';
    const length = Math.floor(random() * 300);
    const fromAlphabet = random() < 0.5;
    for (let i = 0; i < length; i++) {
      text += fromAlphabet
        ? (ALPHABET[Math.floor(random() * ALPHABET.length)] ?? '')
        : String.fromCharCode(Math.floor(random() * (random() < 0.8 ? 128 : 0x10000)));
    }
    parseAndCheck(text, `seed ${seed} garbage ${round}`);
  }
});

test('pathological inputs stay fast and shallow', () => {
  const inputs: [string, string][] = [
    ['('.repeat(10_000), '10,000 ('],
    ['x = ' + '('.repeat(10_000), 'x = 10,000 ('],
    [')'.repeat(10_000), '10,000 )'],
    ['{'.repeat(10_000), '10,000 {'],
    ['model M ' + '{'.repeat(10_000), 'model with 10,000 {'],
    ['}'.repeat(10_000), '10,000 }'],
    ['x = ' + '[('.repeat(5_000), 'alternating brackets'],
    ['x = ' + 'if '.repeat(5_000), '5,000 if'],
    ['model M {\n' + '  x = f(\n'.repeat(5_000), 'unclosed calls on every line'],
    ['"'.repeat(10_000), 'quotes'],
    ['x = 1\n'.repeat(20_000), 'many small bindings'],
    ['share a b c d e f g h i j k l m n o p q r s t u v w x y z '.repeat(400), 'one long line of names'],
    ['variant V of M {\n  share ' + 'a '.repeat(20_000) + '\n}', 'a long path list without commas'],
    ['$'.repeat(100_000), 'a long unknown run'],
  ];
  for (const [text, what] of inputs) parseAndCheck(text, what, 500);
});
