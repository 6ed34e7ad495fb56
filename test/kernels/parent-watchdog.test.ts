// Issue 12, item 9: a probe host whose parent is killed dies with it, even while its main
// thread is busy in a long synchronous step, and removes its temporary folder. Before the
// watchdog a busy host kept running (up to 40 s holding gigabytes): 'disconnect' needs the
// event loop it was blocking.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('a busy child whose parent is SIGKILLed removes its temp folder and exits within seconds, not after its 30 s step', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'npas-watchdog-'));
  try {
    const esbuild = require('esbuild') as typeof import('esbuild');
    const bundle = join(dir, 'watchdog.js');
    esbuild.buildSync({ entryPoints: [join(__dirname, '..', '..', 'kernels', 'parent-watchdog.ts')], outfile: bundle, bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'silent' });
    const scratch = join(dir, 'scratch');
    const child = join(dir, 'child.js');
    // The child: start the watchdog, track a folder, then block its event loop for 30 s.
    writeFileSync(
      child,
      `const { mkdirSync } = require('node:fs');
const w = require(${JSON.stringify(bundle)}).watchParent(100);
mkdirSync(${JSON.stringify(scratch)});
w.track(${JSON.stringify(scratch)});
const end = Date.now() + 30000;
while (Date.now() < end) {}
`,
    );
    // A parent shell that starts the child, reports its pid, and is then killed.
    const parent = spawnSync('bash', ['-c', `"${process.execPath}" "${child}" >/dev/null 2>&1 & echo $! ; sleep 1.5 ; kill -9 $$`], { encoding: 'utf8', timeout: 20_000 });
    const pid = Number(parent.stdout.trim());
    assert.ok(pid > 0, parent.stdout + parent.stderr);
    const t0 = Date.now();
    // The watchdog polls every 100 ms and exits at once; the bound leaves room for a loaded
    // machine (the suite runs files in parallel on 2 cores) while still telling dying with the
    // parent from running out the child's 30 s step.
    while (alive(pid) && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
    const stillAlive = alive(pid);
    if (stillAlive) process.kill(pid, 'SIGKILL');
    assert.ok(!stillAlive, 'the child outlived its parent');
    assert.ok(Date.now() - t0 < 5_000, `took ${Date.now() - t0} ms`);
    assert.equal(existsSync(scratch), false, 'its temporary folder is removed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
