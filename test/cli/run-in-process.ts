// `npas` run in-process through main(argv, io), reading relative paths from the repository root
// and absolute ones (a test's temporary folder) as they are: the CLI tests that need no bundle
// (the bundle's own behaviour is cli.test.ts's).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { main } from '../../src/cli/main.js';

const root = join(__dirname, '..', '..');

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function runInProcess(...argv: string[]): CliRun {
  let stdout = '';
  let stderr = '';
  const code = main(argv, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    readFile: (p) => readFileSync(resolve(root, p), 'utf8'),
    writeFile: () => {},
  });
  return { code, stdout, stderr };
}
