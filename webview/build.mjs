// esbuild options of the dashboard's webview bundle (dist/webview.js): browser, IIFE, no
// source map inside the bundle (the standalone report inlines it). Shared by esbuild.mjs and
// the tests that need the bundle.
import * as esbuild from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export const webviewOptions = {
  entryPoints: [join(root, 'webview/main.ts')],
  outfile: join(root, 'dist/webview.js'),
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
};

export function buildWebview(overrides = {}) {
  return esbuild.build({ ...webviewOptions, ...overrides });
}
