// Bundles the entry points with esbuild. `--production` minifies and drops source maps.
// Entry points: the CLI (dist/cli.js). Later bundles (extension, server, kernels, webview)
// are added here as they land.
import * as esbuild from 'esbuild';

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
};

await esbuild.build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js' });
