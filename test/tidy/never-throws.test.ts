// ARCHITECTURE.md's invariant 2 ("parsing and analysis never throw"), checked over the source
// text as rust-analyzer's tidy tests do: every exported engine function whose doc says it never
// throws is listed here with how that holds — wrapped (it runs through code that catches any
// exception and turns it into an internal-error diagnostic; the guard's body is checked for its
// try/catch), or total by construction (every loop consumes input; a named test feeds it
// generated hostile input). A new claim fails until it is listed with its guard or its test.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, sources } from './source-files.js';



/** A guard: the function (or constructor, or method) that begins at `start` in `file`; its body must catch. */
interface Guard {
  readonly file: string;
  readonly start: string;
}

type Claim =
  /** Calls each of `calls`, whose guards catch. */
  | { readonly kind: 'wrapped'; readonly calls: readonly string[]; readonly guards: readonly Guard[] }
  /** Total by construction, fed generated input by `test` (directly, or through `through`, which reaches it on every spec). */
  | { readonly kind: 'fuzzed'; readonly test: string; readonly through?: string };

const COMPILATION = 'src/core/analysis/compilation.ts';
const CONSTRUCTOR: Guard = { file: COMPILATION, start: '  constructor(' };
const ANALYSIS: Guard = { file: COMPILATION, start: '  analysis(options' };

/** Every "never throws" entry point, by file and name. */
const NEVER_THROWS: Readonly<Record<string, Claim>> = {
  'src/core/analysis/compilation.ts compile': { kind: 'wrapped', calls: ['new Compilation('], guards: [CONSTRUCTOR] },
  'src/core/analysis/analyze.ts analyze': { kind: 'wrapped', calls: ['compile(', '.analysis('], guards: [CONSTRUCTOR, ANALYSIS] },
  'src/core/analysis/architecture.ts evaluateArchitecture': { kind: 'wrapped', calls: ['compile('], guards: [CONSTRUCTOR] },
  'src/core/hf/import-hf.ts importHfConfig': { kind: 'wrapped', calls: [], guards: [{ file: 'src/core/hf/import-hf.ts', start: 'export function importHfConfig(' }] },
  'src/core/syntax/scanner.ts scan': { kind: 'fuzzed', test: 'test/core/syntax/parser-fuzz.test.ts' },
  'src/core/syntax/parser.ts parse': { kind: 'fuzzed', test: 'test/core/syntax/parser-fuzz.test.ts' },
  // Every expression of a spec is evaluated through analyze; the engine fuzz feeds it mutated specs.
  'src/core/semantics/evaluator.ts evaluate': { kind: 'fuzzed', test: 'test/core/engine/robustness.test.ts', through: 'analyze' },
};

/** The text from `start` to the brace that closes the first block after it. */
function bodyAt(text: string, start: number): string {
  const open = text.indexOf('{', text.indexOf(')', start));
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return text.slice(open, i + 1);
  }
  return text.slice(open);
}

/** Exported functions whose doc comment says they never throw: "file name" → body. */
function claims(): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of sources('src/core')) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const m of text.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*export (?:async )?function (\w+)/g)) {
      if (/never throws/i.test(m[1]!)) out.set(`${file} ${m[2]}`, bodyAt(text, m.index! + m[0].length));
    }
  }
  return out;
}

test('every exported engine function documented "never throws" is listed with its guard or its fuzz test', () => {
  const found = claims();
  assert.deepEqual([...found.keys()].sort(), Object.keys(NEVER_THROWS).sort(), 'a new "never throws" claim needs an entry in NEVER_THROWS (its guard or its fuzz test); a dropped one, its entry removed');
  for (const [where, claim] of Object.entries(NEVER_THROWS)) {
    const name = where.split(' ')[1]!;
    if (claim.kind === 'fuzzed') {
      const called = claim.through ?? name;
      assert.ok(readFileSync(join(ROOT, claim.test), 'utf8').includes(`${called}(`), `${where}: ${claim.test} does not call ${called}`);
      continue;
    }
    const body = found.get(where)!;
    for (const call of claim.calls) assert.ok(body.includes(call), `${where} no longer calls ${call}, through which it was guarded`);
    for (const guard of claim.guards) {
      const text = readFileSync(join(ROOT, guard.file), 'utf8');
      const at = text.indexOf(guard.start);
      assert.ok(at >= 0, `${where}: no ${guard.start.trim()} in ${guard.file}`);
      const guarded = bodyAt(text, at);
      assert.ok(guarded.includes('try {') && guarded.includes('} catch'), `${where}: ${guard.file}'s ${guard.start.trim()} no longer catches`);
    }
  }
});
