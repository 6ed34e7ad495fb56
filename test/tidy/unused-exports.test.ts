// No dead exports (issue 11, item 7): every name a source file exports is used — named again in
// its own file (a type its exported functions take, a helper it calls) or in another: a source,
// a test, a bench or a script. TypeScript's --noUnusedLocals cannot see an
// export nobody imports; this test does, by words: a name spelt in another file counts as used,
// so it errs on the side of keeping. The exception is an entry point its host calls.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, sources } from './source-files.js';

/** Exports called by a host, never by our code: VS Code calls an extension's `deactivate`. */
const HOST_ENTRY_POINTS: ReadonlySet<string> = new Set(['src/extension/main.ts: deactivate']);

const EXPORTED = /^export\s+(?:declare\s+)?(?:async\s+)?(?:function\*?|const|let|class|interface|type|enum|abstract\s+class)\s+([A-Za-z_$][\w$]*)/gm;

test('every exported name of src/, kernels/ and webview/ is used, in its file or outside it', () => {
  const exporting = ['src', 'kernels', 'webview'].flatMap(sources);
  const readers = [...exporting, ...['test', 'bench', 'scripts'].flatMap(sources)];
  const text = new Map(readers.map((f) => [f, readFileSync(join(ROOT, f), 'utf8')]));
  const words = new Map<string, Set<string>>();
  for (const [file, t] of text) words.set(file, new Set(t.match(/[A-Za-z_$][\w$]*/g) ?? []));
  const dead: string[] = [];
  for (const file of exporting) {
    for (const m of text.get(file)!.matchAll(EXPORTED)) {
      const name = m[1]!;
      const usedInFile = (text.get(file)!.match(new RegExp(`(?<![\\w$])${name.replace(/\$/g, '\\$')}(?![\\w$])`, 'g')) ?? []).length > 1;
      const usedElsewhere = usedInFile || [...words].some(([other, w]) => other !== file && w.has(name));
      if (!usedElsewhere && !HOST_ENTRY_POINTS.has(`${file}: ${name}`)) dead.push(`${file}: ${name}`);
    }
  }
  assert.deepEqual(dead, [], 'exported and named nowhere else: dead code, remove it');
});
