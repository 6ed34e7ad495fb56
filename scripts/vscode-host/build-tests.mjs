// Compiles the integration suite (test/integration/**/*.ts) to CommonJS under
// out/test/integration/, which the VS Code extension host require()s: index.js is the
// extensionTestsPath bootstrap (our harness), *.itest.js the mocha suites (also what
// .vscode-test.mjs points @vscode/test-cli at). One file in, one file out (no bundling), so
// `vscode`, `mocha` and the tests' own helpers stay plain require()s resolved inside the host.
// Stale outputs are removed first.
import * as esbuild from 'esbuild';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const srcDir = join(root, 'test', 'integration');
const outDir = join(root, 'out', 'test', 'integration');

function collect(dir) {
  const files = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...collect(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) files.push(path);
  }
  return files;
}

const entryPoints = collect(srcDir);
rmSync(outDir, { recursive: true, force: true });
await esbuild.build({
  absWorkingDir: root,
  entryPoints,
  outdir: outDir,
  outbase: srcDir,
  bundle: false,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'inline',
  sourcesContent: false,
  logLevel: 'warning',
});
console.log(`built ${entryPoints.length} integration test files into ${relative(root, outDir)}/`);
