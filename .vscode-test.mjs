// @vscode/test-cli configuration: the same integration suite (out/test/integration/*.itest.js)
// in VS Code desktop downloaded by @vscode/test-electron, for machines that can reach
// update.code.visualstudio.com. Offline (this repository's CI) the suite runs in code-server
// instead: `npm run test:integration` (scripts/vscode-host/). See docs/testing.md.
//
//   npm run build && node scripts/vscode-host/build-tests.mjs
//   npx vscode-test                    # every configuration below
//   npx vscode-test --label stable     # one of them
import { defineConfig } from '@vscode/test-cli';
import { readFileSync } from 'node:fs';

// The oldest VS Code the manifest admits (engines.vscode "^1.138.0" -> 1.138.0).
const manifest = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const minEngine = /(\d+\.\d+\.\d+)/.exec(manifest.engines?.vscode ?? '')?.[1] ?? 'stable';

const common = {
  files: 'out/test/integration/**/*.itest.js',
  workspaceFolder: 'test/fixtures/workspace',
  // Only the extension under test (plus VS Code's built-ins).
  launchArgs: ['--disable-extensions', '--disable-workspace-trust'],
  mocha: { ui: 'bdd', timeout: 20_000, slow: 2_000, color: true },
};

export default defineConfig([
  { label: 'min-engine', version: minEngine, ...common },
  { label: 'stable', version: 'stable', ...common },
]);
