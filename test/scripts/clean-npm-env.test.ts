// The VS Code host's nested npm installs must not inherit what an outer npm exports to its scripts:
// under `npm test`, npm_config_user_agent named Node 20 and code-server's postinstall refused to
// install on a fresh machine (issue 10). These tests hold setup.sh to running every npm install
// through without_outer_npm, and without_outer_npm to dropping exactly npm's injected variables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const hostScripts = join(__dirname, '..', '..', 'scripts', 'vscode-host');

function envSeenBy(command: string, env: Record<string, string>): Map<string, string> {
  const run = spawnSync('bash', ['-c', `. "${join(hostScripts, 'clean-npm-env.sh')}" && ${command}`], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent', ...env },
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  const seen = new Map<string, string>();
  for (const line of run.stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) seen.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return seen;
}

test('without_outer_npm drops what npm exports to scripts and keeps the user\'s own settings', () => {
  const outer = {
    npm_config_user_agent: 'npm/11.19.1 node/v20.20.2 linux x64 workspaces/false',
    npm_config_node_gyp: '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    npm_config_nodedir: '/usr',
    npm_config_prefix: '/usr',
    npm_config_local_prefix: '/work/project',
    npm_config_allow_scripts: '',
    npm_package_json: '/work/project/package.json',
    npm_lifecycle_event: 'test',
    npm_execpath: '/usr/lib/node_modules/npm/bin/npm-cli.js',
    npm_node_execpath: '/usr/bin/node',
    NODE: '/usr/bin/node',
    INIT_CWD: '/work/project',
  };
  const user = { NPM_CONFIG_REGISTRY: 'https://registry.example/', NODE_EXTRA_CA_CERTS: '/etc/ca.pem', LANG: 'C.UTF-8' };
  const seen = envSeenBy('without_outer_npm env', { ...outer, ...user });
  for (const name of Object.keys(outer)) assert.ok(!seen.has(name), `${name} leaked into the nested install`);
  for (const [name, value] of Object.entries(user)) assert.equal(seen.get(name), value, `${name} was dropped`);
  assert.ok(seen.has('PATH'));
});

test('a variable set for the nested install itself survives (setup.sh pins nodedir to Node 24)', () => {
  const seen = envSeenBy('without_outer_npm env npm_config_nodedir=/opt/node24 env', { npm_config_nodedir: '/usr' });
  assert.equal(seen.get('npm_config_nodedir'), '/opt/node24');
});

test('setup.sh runs every npm install through without_outer_npm', () => {
  const lines = readFileSync(join(hostScripts, 'setup.sh'), 'utf8').split('\n');
  const installs = lines.filter((line) => /\bnpm install\b/.test(line) && !line.trimStart().startsWith('#'));
  assert.ok(installs.length >= 2, 'setup.sh installs Node 24 and code-server with npm');
  for (const [index, line] of lines.entries()) {
    if (!/\bnpm install\b/.test(line) || line.trimStart().startsWith('#')) continue;
    let start = index; // the first line of a command continued with trailing backslashes
    while (start > 0 && (lines[start - 1] ?? '').trimEnd().endsWith('\\')) start -= 1;
    const statement = lines.slice(start, index + 1).join('\n');
    assert.match(statement, /without_outer_npm/, `not cleaned: ${line.trim()}`);
  }
});
