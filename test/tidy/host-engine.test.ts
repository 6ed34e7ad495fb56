// Issue 11's "typed process boundaries", held over the source text: the extension host runs the
// engine in a few named places, each for a stated reason, and nothing that runs on an edit or a
// settings change reaches the engine at all — the dashboard, status bar, hovers, Export Budget
// Report and the allocator are the language server's answers. "Reaches" follows every value import, static
// or dynamic (`await import('../core/index.js')`), through the extension's own modules and the
// modules they import, to a file of the core that is not one of its documented leaves
// (architecture-rules.test.ts: formatters, tables and the settings check load no engine).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CORE_LEAVES, ROOT, sources } from './source-files.js';

/**
 * The extension files that load the engine on the extension host, and why it is there. None runs
 * on an edit; a new one fails until it is listed with its reason (or served by the server).
 */
const HOST_ENGINE: ReadonlyMap<string, string> = new Map([
  [
    'src/extension/spec-compilation.ts',
    'compiles a document only where no language server runs (or it does not hold the document), to list its models for a quick pick (names and stored counts, which no setting changes)',
  ],
  ['src/extension/import-hf-config.ts', 'turns a Hugging Face config.json into spec text: no spec is compiled'],
]);

/**
 * What Export ONNX and Run GPU Probe run on the host to hand their child process its spec: the
 * files it reads and the probed model's fingerprint are the language server's answer
 * (`npas/childProgram`), so none of it may reach the engine.
 */
const CHILD_SPEC = ['src/extension/child-program.ts', 'src/extension/scratch-program.ts'];

/** What runs on an edit or a settings change: none of it may reach the engine. */
const ON_EDIT = ['src/extension/dashboard-panel.ts', 'src/extension/status-bar.ts', 'src/extension/language-client.ts', 'src/extension/settings.ts', 'src/extension/probe-measurements.ts'];

/** The value imports of a source text (static and dynamic; `import type` and `export type` left out), as written. */
function valueImports(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?'([^']+)'/gms)) if (m[1] === undefined) out.push(m[2]!);
  for (const m of text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) out.push(m[1]!);
  return out;
}

/** The repository file a relative import points at (`.js` written for `.ts`); undefined for a package or a file that is not TypeScript source. */
function target(file: string, from: string): string | undefined {
  if (!from.startsWith('.')) return undefined;
  const path = relative(ROOT, join(ROOT, file, '..', from)).replace(/\.js$/, '.ts');
  return existsSync(join(ROOT, path)) ? path : undefined;
}

const isEngine = (file: string): boolean => file.startsWith('src/core/') && !CORE_LEAVES.has(file);

/** The engine file `file` reaches through value imports (itself included), or undefined; the chain that reaches it. */
function reachesEngine(file: string, seen = new Set<string>()): string[] | undefined {
  if (isEngine(file)) return [file];
  if (seen.has(file) || file.startsWith('src/core/')) return undefined;
  seen.add(file);
  for (const from of valueImports(readFileSync(join(ROOT, file), 'utf8'))) {
    const t = target(file, from);
    const chain = t && reachesEngine(t, seen);
    if (chain) return [file, ...chain];
  }
  return undefined;
}

test('the import scanner sees static, re-exported and dynamic value imports, and skips type-only ones', () => {
  const sample = ["import { a } from './a.js';", "import type { B } from './b.js';", "export { c } from './c.js';", "export type { D } from './d.js';", "const core = () => import('../core/index.js');", "import {\n  e,\n  type F,\n} from './e.js';"].join('\n');
  assert.deepEqual(valueImports(sample), ['./a.js', './c.js', './e.js', '../core/index.js']);
});

test('the extension files that load the engine on the host are exactly the listed ones, each for its stated reason', () => {
  const loading = sources('src/extension').filter((file) =>
    valueImports(readFileSync(join(ROOT, file), 'utf8')).some((from) => {
      const t = target(file, from);
      // Another extension module that loads the engine is its own entry in the list.
      return t !== undefined && !t.startsWith('src/extension/') && reachesEngine(t) !== undefined;
    }),
  );
  assert.deepEqual(loading.sort(), [...HOST_ENGINE.keys()].sort());
});

test('what runs on an edit or a settings change (dashboard, status bar, client, settings, probe results) reaches no engine code, through any module', () => {
  const reached = ON_EDIT.flatMap((file) => {
    const chain = reachesEngine(file);
    return chain ? [chain.join(' → ')] : [];
  });
  assert.deepEqual(reached, []);
});

test('what hands Export ONNX and Run GPU Probe their spec (the files a child reads, the probed fingerprint) reaches no engine code: the server answers it', () => {
  const reached = CHILD_SPEC.flatMap((file) => {
    const chain = reachesEngine(file);
    return chain ? [chain.join(' → ')] : [];
  });
  assert.deepEqual(reached, []);
  // And the probe commands no longer import the engine themselves (their model quick pick goes
  // through allocate-command.ts → spec-compilation.ts, listed above, only where no server runs).
  const probeCommands = readFileSync(join(ROOT, 'src/extension/probe-commands.ts'), 'utf8');
  assert.deepEqual(valueImports(probeCommands).filter((from) => target('src/extension/probe-commands.ts', from)?.startsWith('src/core/') && isEngine(target('src/extension/probe-commands.ts', from)!)), []);
});
