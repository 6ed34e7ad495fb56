#!/usr/bin/env node
// The `npas` executable: runs the bundled CLI (built by `npm run build`, which `npm ci` runs
// through the `prepare` script).
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const bundle = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(bundle)) {
  process.stderr.write('npas: dist/cli.js is missing; run `npm run build` in the npas-studio folder\n');
  process.exit(2);
}
const { main, mainAsync, nodeIO } = require(bundle);
// mainAsync runs every command, including those that wait on a child process (probe).
if (mainAsync) mainAsync(process.argv.slice(2), nodeIO).then((code) => (process.exitCode = code));
else process.exitCode = main(process.argv.slice(2), nodeIO);
