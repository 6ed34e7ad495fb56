// What the tidy tests share: the repository root and the TypeScript sources under a folder
// (repository-relative paths with '/', declaration files left out).

import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');

/** Every .ts file under `dir` (relative to the repository), in directory order. */
export function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const path = `${dir}/${name}`;
    if (statSync(join(ROOT, path)).isDirectory()) out.push(...sources(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/**
 * The core files that load no engine (ARCHITECTURE.md, "Decisions worth knowing"): outside code
 * may import them by value, and the extension host may load them without running engine work.
 */
export const CORE_LEAVES: ReadonlySet<string> = new Set([
  'src/core/text/number-format.ts',
  'src/core/layout/layout.ts',
  'src/core/layout/layer-classes.ts',
  'src/core/numbers/count-text.ts',
  'src/core/analysis/dtype-bits.ts',
  'src/core/analysis/devices.ts',
  'src/core/analysis/analysis-settings.ts',
]);
