#!/usr/bin/env node
// Runs the extension's integration tests inside a real VS Code: code-server's *Node* extension
// host, with the workbench opened in Debian's Chromium through playwright-core. Fully offline.
//
// Mechanism (the one microsoft/vscode's test/integration/browser uses): the workbench URL gets a
// `payload` parameter with extensionDevelopmentPath / extensionTestsPath as vscode-remote:// URIs.
// A *built* workbench honours the payload only when the server runs with
// `--vscode-option enable-smoke-test-driver`. The extension host's console output arrives through
// window.codeAutomationLog and the tests' exit code through window.codeAutomationExit, both
// exposed here before the page loads.
//
// Usage: node scripts/vscode-host/run-tests.mjs [options]
//   --ext DIR         extension under test (default: the repository root)
//   --tests PATH      extensionTestsPath without .js (default: out/test/integration/index)
//   --workspace DIR   folder to open; COPIED into a temp dir first, so tests never dirty it
//                     (default: test/fixtures/workspace)
//   --out DIR         artifacts (default: test-artifacts/vscode)
//   --timeout SEC     give up after SEC seconds (default 240)
//   --grep TEXT       run only the tests whose full title contains TEXT (NPAS_TEST_GREP)
//   --verbose         echo code-server's output and the workbench's own log lines
// Env: CODE_SERVER_ENTRY (required; scripts/vscode-host/setup.sh prints it), CODE_SERVER_NODE
//      (Node 24 binary; default `node`), CHROMIUM_PATH (default /usr/bin/chromium).
//
// Exit codes: 0 all tests passed, 1 a test failed (or the tests module failed to load),
//   2 timeout, 3 harness/setup error, 4 extension host crashed or no trustworthy summary.
// NEVER a false green: exit 0 requires the bootstrap's closing line `N passed, N failed` with
// N passed > 0 and 0 failed, and no abnormal `Extension Host Process exited` line (a signal or
// a non-zero code) in code-server's output: a crashed host reaches the page as
// codeAutomationExit(0).
//
// Screenshots: a test logs `@@SCREENSHOT@@ <name> [css-selector]`. The harness waits (≤ 5 s)
// for the selector to be visible if one is given, saves <out>/NN-<name>.png and
// NN-<name>.frames.json (every frame's URL and text), then creates <out>/NN-<name>.done; the
// test waits for that file (its folder is NPAS_TEST_ARTIFACTS in the extension host's
// environment). A final screenshot is taken after the run, and one on timeout.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import util from 'node:util';
import { chromium } from 'playwright-core';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

// ---------- arguments ----------
const opt = {
  ext: repoRoot,
  tests: path.join(repoRoot, 'out', 'test', 'integration', 'index'),
  workspace: path.join(repoRoot, 'test', 'fixtures', 'workspace'),
  out: path.join(repoRoot, 'test-artifacts', 'vscode'),
  timeout: 240,
  verbose: false,
  grep: undefined,
};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const value = () => {
    const v = argv[++i];
    if (v === undefined) usage(`${a} needs a value`);
    return v;
  };
  if (a === '--ext') opt.ext = path.resolve(value());
  else if (a === '--tests') opt.tests = path.resolve(value());
  else if (a === '--workspace') opt.workspace = path.resolve(value());
  else if (a === '--out') opt.out = path.resolve(value());
  else if (a === '--timeout') opt.timeout = Number(value());
  else if (a === '--grep') opt.grep = value();
  else if (a === '--verbose') opt.verbose = true;
  else usage(`unknown argument ${a}`);
}
function usage(msg) {
  console.error(`run-tests.mjs: ${msg}`);
  console.error('usage: run-tests.mjs [--ext DIR] [--tests PATH] [--workspace DIR] [--out DIR] [--timeout SEC] [--grep TEXT] [--verbose]');
  process.exit(3);
}
if (!(opt.timeout > 0)) usage('--timeout must be a positive number of seconds');

const entry = process.env.CODE_SERVER_ENTRY;
if (!entry || !fs.existsSync(entry)) {
  console.error('run-tests.mjs: CODE_SERVER_ENTRY must point at code-server/out/node/entry.js (run scripts/vscode-host/setup.sh)');
  process.exit(3);
}
const nodeBin = process.env.CODE_SERVER_NODE || 'node';
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
if (!fs.existsSync(chromiumPath)) {
  console.error(`run-tests.mjs: no Chromium at ${chromiumPath} (run scripts/vscode-host/setup.sh)`);
  process.exit(3);
}
if (!fs.existsSync(`${opt.tests}.js`)) {
  console.error(`run-tests.mjs: no tests module ${opt.tests}.js (build it first)`);
  process.exit(3);
}

const t0 = Date.now();
const ts = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
const hlog = (...a) => console.log(`[harness ${ts()}]`, ...a);

// ---------- artifacts and throwaway folders (nothing is written to $HOME or the repository) ----------
fs.rmSync(opt.out, { recursive: true, force: true });
fs.mkdirSync(opt.out, { recursive: true });
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'npas-vscode-test-'));
const dirs = {
  userData: path.join(tmpRoot, 'user-data'),
  extensions: path.join(tmpRoot, 'extensions'),
  xdgConfig: path.join(tmpRoot, 'xdg-config'),
  xdgData: path.join(tmpRoot, 'xdg-data'),
  xdgCache: path.join(tmpRoot, 'xdg-cache'),
  tmp: path.join(tmpRoot, 'tmp'), // the server's TMPDIR: vscode-ipc / vscode-git sockets land here
  workspace: path.join(tmpRoot, 'workspace'),
};
for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
if (fs.existsSync(opt.workspace)) fs.cpSync(opt.workspace, dirs.workspace, { recursive: true });
fs.mkdirSync(path.join(dirs.userData, 'User'), { recursive: true });
fs.writeFileSync(
  path.join(dirs.userData, 'User', 'settings.json'),
  JSON.stringify(
    {
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'workbench.enableExperiments': false,
      'workbench.secondarySideBar.defaultVisibility': 'hidden',
      'telemetry.telemetryLevel': 'off',
      'update.mode': 'none',
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'extensions.ignoreRecommendations': true,
      'security.workspace.trust.enabled': false,
      'chat.disableAIFeatures': true,
      'git.enabled': false,
      'files.autoSave': 'off',
      'editor.formatOnSave': false,
    },
    null,
    2,
  ),
);
const configYaml = path.join(tmpRoot, 'config.yaml');
fs.writeFileSync(configYaml, 'auth: none\ncert: false\n');

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// ---------- state, cleanup ----------
let server;
let browser;
let finished = false;
let serverText = ''; // tail of code-server's output (readiness line)
let exited = false; // codeAutomationExit arrived
// Every 'Extension Host Process exited' line of code-server. When the tests' run() settles the
// host exits normally (code 0, no signal) and only then does the page get codeAutomationExit;
// a signal or a non-zero code means it died (and a crash, too, reaches the page as exit 0).
const hostExits = [];
let pendingLine = '';
const serverLog = fs.createWriteStream(path.join(opt.out, 'code-server.log'));
const automationLog = fs.createWriteStream(path.join(opt.out, 'automation.log')); // every line, unfiltered
const HOST_EXIT = /Extension Host Process exited with code: ([^,\s]+),? signal: ([^.\s]+)/;
function hostCrash() {
  return hostExits.find((e) => e.signal !== 'null' || e.code !== '0');
}
// Workbench chatter that reaches codeAutomationLog but is not test output (shown with --verbose).
const NOISE =
  /^(Resolving connection token|Resolved connection token|Creating a socket|\[reconnection-grace-time\]|\[Service Worker\]|\[AgentHost|\[AccountPolicyGate\]|Ignoring fetching additional builtin extensions|Updating additional builtin extensions cache|Timed out waiting for authentication provider|Creation of workbench contribution)/;

async function cleanup() {
  try {
    if (browser) await browser.close();
  } catch {
    /* already gone */
  }
  if (server && server.exitCode === null && server.signalCode === null) {
    // Spawned detached, i.e. in its own process group: signal that group (our child's PID only).
    try {
      process.kill(-server.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
    await new Promise((r) => {
      const t = setTimeout(r, 5000);
      server.once('exit', () => {
        clearTimeout(t);
        r();
      });
    });
    if (server.exitCode === null && server.signalCode === null) {
      try {
        process.kill(-server.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  await Promise.all([serverLog, automationLog].map((s) => new Promise((r) => s.end(r))));
  try {
    fs.rmSync(tmpRoot, { recursive: true, force: true });
  } catch {
    /* ignore */
  }
}
async function finish(code, why) {
  if (finished) return;
  finished = true;
  hlog(`${why} -> exit ${code}`);
  await cleanup();
  process.exit(code);
}
process.on('SIGINT', () => finish(130, 'interrupted (SIGINT)'));
process.on('SIGTERM', () => finish(143, 'terminated (SIGTERM)'));

async function main() {
  const port = await freePort();
  const args = [
    entry,
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--config', configYaml,
    '--user-data-dir', dirs.userData,
    '--extensions-dir', dirs.extensions,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    // A built workbench ignores the `payload` URL parameter unless this is set:
    '--vscode-option', 'enable-smoke-test-driver',
    dirs.workspace,
  ];
  const env = {
    ...process.env,
    XDG_CONFIG_HOME: dirs.xdgConfig,
    XDG_DATA_HOME: dirs.xdgData,
    XDG_CACHE_HOME: dirs.xdgCache,
    TMPDIR: dirs.tmp,
    // No marketplace: offline anyway, and '{}' stops the open-vsx.org lookups (noise + delays).
    EXTENSIONS_GALLERY: '{}',
    // Read by the tests inside the extension host (it inherits the server's environment).
    NPAS_TEST_ARTIFACTS: opt.out,
    NPAS_TEST_HARNESS: '1',
    ...(opt.grep ? { NPAS_TEST_GREP: opt.grep } : {}),
  };
  hlog(`starting code-server (${path.relative(repoRoot, entry) || entry}) on 127.0.0.1:${port}`);
  server = spawn(nodeBin, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const onServerData = (d) => {
    const text = d.toString();
    serverText = (serverText + text).slice(-200000);
    const lines = (pendingLine + text).split('\n');
    pendingLine = lines.pop() ?? '';
    for (const line of lines) {
      const m = HOST_EXIT.exec(line);
      if (m) hostExits.push({ code: m[1], signal: m[2] });
    }
  };
  server.stdout.on('data', onServerData);
  server.stderr.on('data', onServerData);
  server.stdout.pipe(serverLog, { end: false });
  server.stderr.pipe(serverLog, { end: false });
  if (opt.verbose) {
    server.stdout.pipe(process.stdout);
    server.stderr.pipe(process.stderr);
  }
  server.once('error', (e) => finish(3, `could not start code-server: ${e.message}`));
  server.once('exit', (c, s) => {
    if (!finished) finish(3, `code-server exited early (${c ?? s}); see ${path.join(opt.out, 'code-server.log')}`);
  });

  await new Promise((resolve, reject) => {
    const to = setTimeout(() => reject(new Error('code-server did not start within 60 s')), 60000);
    const check = () => {
      if (/HTTP server listening on/.test(serverText)) {
        clearTimeout(to);
        resolve();
      } else setTimeout(check, 50);
    };
    check();
  });
  const base = `http://127.0.0.1:${port}`;
  hlog(`code-server listening at ${base}`);

  // ---------- browser ----------
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // Chromium's crashpad database and caches go to the throwaway folders, not ~/.config.
    env: { ...process.env, XDG_CONFIG_HOME: dirs.xdgConfig, XDG_CACHE_HOME: dirs.xdgCache, TMPDIR: dirs.tmp },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-features=Translate,OptimizationHints,MediaRouter',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();

  let shotNo = 0;
  async function screenshot(name, selector) {
    const stem = path.join(opt.out, `${String(++shotNo).padStart(2, '0')}-${name.replace(/[^\w.-]+/g, '_')}`);
    if (selector) {
      try {
        await page.locator(selector).first().waitFor({ state: 'visible', timeout: 5000 });
      } catch {
        hlog(`screenshot ${name}: ${selector} not visible within 5 s; taking it anyway`);
      }
    }
    await page.screenshot({ path: `${stem}.png` });
    const frames = [];
    for (const f of page.frames()) {
      let text = '';
      try {
        text = await f.evaluate(() => (document.body ? document.body.innerText : ''));
      } catch {
        text = '<no access>';
      }
      frames.push({ url: f.url().slice(0, 200), text: text.replace(/\s+/g, ' ').trim().slice(0, 200000) });
    }
    fs.writeFileSync(`${stem}.frames.json`, JSON.stringify(frames, null, 2));
    fs.writeFileSync(`${stem}.done`, '');
    hlog(`screenshot ${path.relative(repoRoot, stem)}.png (${frames.length} frames)`);
  }

  let exitResolve;
  let summary = null; // from the bootstrap's closing line 'N passed, N failed'
  const exitCode = new Promise((r) => {
    exitResolve = r;
  });
  // Exposed before navigation so that the workbench finds them at start-up.
  await page.exposeFunction('codeAutomationLog', async (type, args) => {
    // args is the console call's argument list, e.g. ['  %d passing (%s)', 3, '6s'].
    const text = util.format(...(Array.isArray(args) ? args : [args]));
    automationLog.write(`[${type}] ${text}\n`);
    const sm = /^(?:\w+: )?(\d+) passed, (\d+) failed/m.exec(text);
    if (sm) summary = { passed: Number(sm[1]), failed: Number(sm[2]) };
    // After the exit code arrives the workbench logs teardown noise ("Canceled …"): hide it.
    if (opt.verbose || (!exited && !NOISE.test(text))) (type === 'error' ? console.error : console.log)(text);
    const shot = /@@SCREENSHOT@@\s*(\S+)?(?:\s+(.+))?/.exec(text);
    if (shot) await screenshot(shot[1] || 'shot', shot[2]?.trim()).catch((e) => hlog(`screenshot failed: ${e}`));
  });
  await page.exposeFunction('codeAutomationExit', async (code) => {
    exited = true;
    hlog(`extension host reported exit code ${code}`);
    exitResolve(code);
  });
  page.on('pageerror', (e) => hlog(`page error: ${e}`));
  page.on('crash', () => exitResolve('page-crash'));
  if (opt.verbose) {
    page.on('console', (msg) => console.log(`[page ${msg.type()}] ${msg.text()}`));
    page.on('requestfailed', (r) => hlog(`request failed ${r.url()} ${r.failure()?.errorText}`));
  }
  // The page normally gets codeAutomationExit right after the host exits; if it does not
  // (a host that died in a way the workbench missed), stop waiting after a grace period
  // instead of running into the timeout.
  const crashWatch = setInterval(() => {
    if (hostExits.length > 0) {
      clearInterval(crashWatch);
      setTimeout(() => exitResolve('host-exit'), 3000);
    }
  }, 250);

  const authority = `127.0.0.1:${port}`;
  const remote = (p) => `vscode-remote://${authority}${p}`;
  const payload = [
    ['extensionDevelopmentPath', remote(opt.ext)],
    ['extensionTestsPath', remote(opt.tests)],
    ['skipWelcome', 'true'],
    ['skipReleaseNotes', 'true'],
  ];
  const url = `${base}/?folder=${encodeURIComponent(dirs.workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  hlog(`opening the workbench (extension ${path.relative(repoRoot, opt.ext) || '.'}, tests ${path.relative(repoRoot, opt.tests)})`);
  const timer = setTimeout(() => exitResolve('timeout'), opt.timeout * 1000);
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 120000 });

  const code = await exitCode;
  clearTimeout(timer);
  clearInterval(crashWatch);
  if (code === 'page-crash') return finish(3, 'the browser page crashed');
  if (code === 'timeout') {
    await screenshot('timeout').catch(() => {});
    const crash = hostCrash();
    if (crash) return finish(4, `extension host died (code ${crash.code}, signal ${crash.signal}) and the run never finished`);
    return finish(2, `no result within ${opt.timeout} s`);
  }
  await screenshot('final').catch(() => {});
  // Let code-server's last log lines arrive before deciding.
  await new Promise((r) => setTimeout(r, 300));
  // A crashed extension host reaches the page as a closed socket -> codeAutomationExit(0).
  const crash = hostCrash();
  if (crash) return finish(4, `extension host died (code ${crash.code}, signal ${crash.signal})`);
  if (code === 'host-exit') return finish(4, 'extension host exited without reporting a result');
  if (Number(code) !== 0) return finish(1, `tests failed (extension host exit code ${code})`);
  if (!summary) return finish(4, 'exit code 0 but no "N passed, N failed" line from the test bootstrap');
  if (summary.failed > 0) return finish(1, `${summary.failed} test(s) failed`);
  if (summary.passed === 0) return finish(4, 'no test passed (did any run?)');
  return finish(0, `${summary.passed} passed, 0 failed`);
}

main().catch(async (e) => {
  console.error(e);
  await finish(3, 'harness error');
});
