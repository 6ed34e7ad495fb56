// The extensionTestsPath bootstrap for scripts/vscode-host/run-tests.mjs: the VS Code extension
// host require()s the compiled out/test/integration/index.js and awaits run(). It runs every
// *.itest.js beside it with mocha (bdd, spec reporter through console.log, which is what reaches
// the harness), prints the closing line `N passed, N failed` that the harness requires before
// it trusts a green result, and rejects when anything failed or nothing ran.
// (@vscode/test-cli does not use this file: .vscode-test.mjs hands the same *.itest.js files to
// its own mocha runner.)
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';
import * as vscode from 'vscode';

export function run(): Promise<void> {
  const mocha = new Mocha({
    ui: 'bdd',
    reporter: 'spec',
    color: false,
    timeout: 20_000,
    slow: 2_000,
    ...(process.env.NPAS_TEST_GREP ? { grep: process.env.NPAS_TEST_GREP } : {}),
  });
  const files = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.itest.js'))
    .sort();
  for (const f of files) mocha.addFile(path.join(__dirname, f));
  console.log(`npas integration: ${files.length} suite files in VS Code ${vscode.version} (${vscode.env.appName}), extension host Node ${process.version}`);

  return new Promise((resolve, reject) => {
    try {
      const runner = mocha.run((failures) => {
        const passes = runner.stats?.passes ?? 0;
        const pending = runner.stats?.pending ?? 0;
        if (pending > 0) console.log(`${pending} pending`);
        console.log(`${passes} passed, ${failures} failed`);
        if (failures > 0) reject(new Error(`${failures} integration test(s) failed`));
        else if (passes === 0) reject(new Error('no integration test ran'));
        else resolve();
      });
    } catch (err) {
      console.log(`0 passed, 1 failed`);
      reject(err);
    }
  });
}
