// ARCHITECTURE.md's rules, checked over the source text (rust-analyzer's "tidy" tests): who may
// import what, and no module-level state in the engine. A failure names the file and the rule.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CORE_LEAVES, ROOT, sources } from './source-files.js';



interface Import {
  readonly typeOnly: boolean;
  readonly from: string;
}

/** Every import and re-export of a file (multi-line ones included), with whether it is type-only. */
function imports(file: string): Import[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const out: Import[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?'([^']+)'/gms)) out.push({ typeOnly: m[1] !== undefined, from: m[2]! });
  return out;
}

/** The repository path an import points at (relative specifiers only). */
const target = (file: string, from: string): string | undefined => (from.startsWith('.') ? relative(ROOT, join(ROOT, file, '..', from)).replace(/\.js$/, '.ts') : undefined);

/** Engine files that outside code may import by value: the surface, and pure leaves that load no engine. */
const CORE_ENTRIES: ReadonlySet<string> = new Set(['src/core/index.ts', ...CORE_LEAVES]);

test('outside the core, code imports src/core/index.ts, or a documented leaf, or types only', () => {
  const outside = ['src/cli', 'src/server', 'src/extension', 'src/protocol', 'webview', 'kernels'].flatMap(sources);
  const bad: string[] = [];
  for (const file of outside) {
    for (const i of imports(file)) {
      const t = target(file, i.from);
      if (t?.startsWith('src/core/') && !i.typeOnly && !CORE_ENTRIES.has(t)) bad.push(`${file} → ${t}`);
    }
  }
  assert.deepEqual(bad, []);
});

test('the leaves outside code may import are leaves: they import types only, or other leaves', () => {
  for (const leaf of [...CORE_ENTRIES].filter((f) => f !== 'src/core/index.ts')) {
    const values = imports(leaf).filter((i) => !i.typeOnly);
    assert.deepEqual(values.filter((i) => !CORE_ENTRIES.has(target(leaf, i.from) ?? '') || target(leaf, i.from) === 'src/core/index.ts').map((i) => i.from), [], leaf);
  }
});

test('only src/extension imports vscode; only kernels/ onnxruntime-node; only src/server LSP server types', () => {
  const owners: readonly [string, string][] = [['vscode', 'src/extension/'], ['onnxruntime-node', 'kernels/'], ['vscode-languageserver', 'src/server/']];
  const all = ['src', 'webview', 'kernels'].flatMap(sources);
  const bad: string[] = [];
  for (const file of all) {
    for (const i of imports(file)) {
      for (const [pkg, owner] of owners) if ((i.from === pkg || i.from.startsWith(`${pkg}/`)) && !file.startsWith(owner)) bad.push(`${file} imports ${i.from}`);
    }
  }
  assert.deepEqual(bad, []);
});

/**
 * Module-level caches that predate this rule, each bounded: a lazily built constant table, a
 * one-entry token cache keyed by text, a 16-entry LRU. New state belongs on a `Compilation`.
 */
const KNOWN_MODULE_STATE = new Set(['src/core/semantics/symbols.ts:cache', 'src/core/service/source-tokens.ts:last', 'src/core/service/refactor-text.ts:outcomes']);

/** The module-level state one source file declares (KNOWN_MODULE_STATE aside), each as `name: why`. */
function moduleState(file: string, text: string): string[] {
  const bad: string[] = [];
  for (const m of text.matchAll(/^(?:export\s+)?let\s+([A-Za-z_$][\w$]*)/gm)) if (!KNOWN_MODULE_STATE.has(`${file}:${m[1]}`)) bad.push(`${file}: let ${m[1]}`);
  for (const m of text.matchAll(/^(?:export\s+)?const\s+([A-Za-z_$][\w$]*)\s*(:\s*[^=]+)?=\s*new\s+(Map|Set)\b/gm)) {
    if (!(m[2] ?? '').includes('Readonly') && !KNOWN_MODULE_STATE.has(`${file}:${m[1]}`)) bad.push(`${file}: ${m[1]} = new ${m[3]} (type it Readonly${m[3]}, or keep it on a compilation)`);
  }
  // `const seen = []` or `= {}` at the top level is a growable cache by another name.
  for (const m of text.matchAll(/^(?:export\s+)?const\s+([A-Za-z_$][\w$]*)\s*(:\s*[^=]+)?=\s*(?:\[\s*\]|\{\s*\})\s*;/gm)) {
    if (!/readonly|Readonly/.test(m[2] ?? '')) bad.push(`${file}: ${m[1]} = an empty array or object at the top level (keep it on a compilation)`);
  }
  // A class's static field lives as long as the module: state shared by every compilation. Only
  // a read-only constant that is not a collection may be static.
  for (const m of text.matchAll(/^[ \t]+(?:(?:private|public|protected)\s+)?static\s+(readonly\s+)?([A-Za-z_$][\w$]*)\s*(:\s*[^=;]+)?(?:=\s*([^;\n]*))?;/gm)) {
    const collection = /^new\s+(Map|Set|WeakMap|Array)\b|^\[|^\{/.test(m[4] ?? '') && !/Readonly|readonly/.test(m[3] ?? '');
    if (!m[1] || collection) bad.push(`${file}: static ${m[2]} (keep it on a compilation)`);
  }
  return bad;
}

test('the module-state rule finds each kind of module state it names (so its pass over the core means something)', () => {
  const sample = ['let hits = 0;', 'const memo = new Map<string, number>();', 'const seen: string[] = [];', 'const byName = {};', 'class Walker {', '  private static cache = new Map<string, number>();', '  static readonly table = new Set<string>();', '  static count: number;', '}'].join('\n');
  assert.deepEqual(moduleState('x.ts', sample), [
    'x.ts: let hits',
    'x.ts: memo = new Map (type it ReadonlyMap, or keep it on a compilation)',
    'x.ts: seen = an empty array or object at the top level (keep it on a compilation)',
    'x.ts: byName = an empty array or object at the top level (keep it on a compilation)',
    'x.ts: static cache (keep it on a compilation)',
    'x.ts: static table (keep it on a compilation)',
    'x.ts: static count (keep it on a compilation)',
  ]);
  const allowed = ['const TABLE: ReadonlyMap<string, number> = new Map([["a", 1]]);', 'const NONE: readonly string[] = [];', 'class K {', '  static readonly limit = 8;', '  static of(x: number): K {', '    return new K();', '  }', '}'].join('\n');
  assert.deepEqual(moduleState('y.ts', allowed), []);
});

test('no module-level state in the core: no top-level let, top-level maps and sets are read-only tables (WeakMaps die with their keys), no empty top-level arrays or objects to fill, no static class fields', () => {
  const bad: string[] = [];
  for (const file of sources('src/core')) bad.push(...moduleState(file, readFileSync(join(ROOT, file), 'utf8')));
  assert.deepEqual(bad, []);
});

test('the sharing machinery names no scheme: sharing/ imports neither the schemes nor the allocator (they register in schemes/registry.ts)', () => {
  const bad: string[] = [];
  for (const file of sources('src/core/sharing')) {
    for (const i of imports(file)) {
      const t = target(file, i.from);
      if (t && (t.startsWith('src/core/schemes/') || t.startsWith('src/core/allocation/'))) bad.push(`${file} → ${t}`);
    }
  }
  assert.deepEqual(bad, []);
});
