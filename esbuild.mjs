// Bundles the entry points with esbuild. `--production` minifies and drops source maps.
//   dist/cli.js        the `npas` command line (src/cli/main.ts)
//   dist/server.js     the language server, IPC or --stdio (src/server/main.ts): forwards to
//   dist/server-worker.js  its analysis worker thread, the language service (src/server/worker-main.ts)
//   dist/extension.js  the VS Code extension (src/extension/main.ts); `vscode` stays external
//   dist/webview.js    the dashboard webview (webview/main.ts): browser, IIFE (webview/build.mjs)
//   dist/probe-host.js the probe host child process (kernels/probe-host.ts), forked by the CLI and the extension
// Native modules (onnxruntime-node) are never bundled: they ship in node_modules.
import * as esbuild from 'esbuild';
import { existsSync } from 'node:fs';
import { buildWebview } from './webview/build.mjs';

const production = process.argv.includes('--production');

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: !production,
  sourcesContent: false,
  minify: production,
  logLevel: 'warning',
  external: ['vscode', 'onnxruntime-node'],
};

const entries = [
  ['src/cli/main.ts', 'dist/cli.js'],
  ['src/server/main.ts', 'dist/server.js'],
  ['src/server/worker-main.ts', 'dist/server-worker.js'],
  ['src/extension/main.ts', 'dist/extension.js'],
  ['kernels/probe-host.ts', 'dist/probe-host.js'],
];

await Promise.all(
  entries
    .filter(([entry]) => existsSync(entry))
    .map(([entry, outfile]) => esbuild.build({ ...common, entryPoints: [entry], outfile })),
);
await buildWebview();
