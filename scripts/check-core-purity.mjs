// Enforces the core's purity invariant (ARCHITECTURE.md): files under src/core import only
// other files under src/core — no node:, vscode, DOM or npm packages. The type-check of
// src/core/tsconfig.json (lib ES2022, no @types) catches uses of Node or DOM globals; this
// catches imports, including type-only ones, that a type-check with skipLibCheck could miss.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const core = join(root, 'src', 'core');
const importRe = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g;

function files(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const problems = [];
for (const file of files(core)) {
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(importRe)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (!spec.startsWith('.')) {
      problems.push(`${relative(root, file)}: imports '${spec}' (the core may import only relative paths inside src/core)`);
      continue;
    }
    const target = resolve(dirname(file), spec);
    if (!target.startsWith(core)) problems.push(`${relative(root, file)}: imports '${spec}', outside src/core`);
  }
}
if (problems.length) {
  console.error(`core purity check failed:\n${problems.join('\n')}`);
  process.exit(1);
}
console.log(`core purity: ${files(core).length} files import only src/core`);
