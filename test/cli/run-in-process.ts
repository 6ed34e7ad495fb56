// `npas` run in-process through main(argv, io), reading files relative to the repository root:
// the CLI tests that need no bundle (the bundle's own behaviour is cli.test.ts's).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';

const root = join(__dirname, '..', '..');

export function runInProcess(...argv: string[]): { code: number; stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const code = main(argv, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    readFile: (p) => readFileSync(join(root, p), 'utf8'),
    writeFile: () => {},
  });
  return { code, stdout, stderr };
}
