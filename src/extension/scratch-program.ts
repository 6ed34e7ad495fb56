// A spec and the files its imports reach, copied to a scratch folder at the same places relative
// to one another, so a child process (`npas export-onnx`, `npas probe`) that reads the copy
// follows the imports as the editor did: the texts are the editor's (unsaved edits of the spec
// and of an open library included), and each import's relative path leads to the copy of the
// file it led to. Free of `vscode`, so Node tests run it.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';

export interface ProgramText {
  /** The file's absolute path, as the editor's compilation read it. */
  readonly path: string;
  readonly text: string;
}

/**
 * Writes `main` and `imported` under `scratch`, each at its path relative to the deepest folder
 * holding them all, and answers where the copy of `main` is. A file on another root than
 * `main`'s (another drive) is not copied: the child then reports it missing at its import.
 */
export function writeScratchProgram(scratch: string, main: ProgramText, imported: readonly ProgramText[]): string {
  const within = (root: string, path: string): boolean => {
    const r = relative(root, path);
    return !isAbsolute(r) && r !== '..' && !r.startsWith(`..${sep}`);
  };
  let root = dirname(main.path);
  for (const f of imported) {
    while (!within(root, f.path) && dirname(root) !== root) root = dirname(root);
  }
  let mainCopy = '';
  for (const f of [main, ...imported]) {
    if (!within(root, f.path)) continue;
    const copy = join(scratch, relative(root, f.path));
    mkdirSync(dirname(copy), { recursive: true });
    writeFileSync(copy, f.text);
    if (f === main) mainCopy = copy;
  }
  return mainCopy;
}
