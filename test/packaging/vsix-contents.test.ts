// The VSIX: what `vsce ls` lists and what `vsce package` writes. Both run on a staged copy of the
// working tree (the files a clone has, plus uncommitted ones git does not ignore, with
// node_modules linked in), so the production build and vsce's prepublish step never rewrite
// dist/ under tests that run the repository's own bundles in parallel.
// The list must hold the bundles, the language assets, the listing files and the linux-x64
// runtime of onnxruntime-node with its runtime dependency onnxruntime-common — and nothing else:
// no sources, tests, source maps, type declarations, examples or other platforms' binaries.
// The packaged onnxruntime-node is then loaded from the extracted VSIX alone and runs a real
// inference, which proves its runtime closure complete.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { inflateRawSync } from 'node:zlib';

const root = join(__dirname, '..', '..');
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
let stage = '';

/** Runs `npx --no-install vsce …` in the stage; vsce's notes go to stderr, the answer to stdout. */
function vsce(...args: string[]): string {
  const r = spawnSync(npx, ['--no-install', 'vsce', ...args], { cwd: stage, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `vsce ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

before(() => {
  stage = mkdtempSync(join(tmpdir(), 'npas-vsix-'));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' }).split('\0').filter((f) => f !== '' && existsSync(join(root, f)));
  for (const f of files) {
    mkdirSync(dirname(join(stage, f)), { recursive: true });
    cpSync(join(root, f), join(stage, f));
  }
  symlinkSync(join(root, 'node_modules'), join(stage, 'node_modules'), 'junction');
  execFileSync(process.execPath, ['esbuild.mjs', '--production'], { cwd: stage, stdio: 'pipe' });
});

after(() => {
  if (stage) rmSync(stage, { recursive: true, force: true });
});

/** Every file under `dir` of `base` that `keep` accepts, as a VSIX path. */
function filesUnder(base: string, dir: string, keep: (name: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(base, rel))) {
      const path = `${rel}/${name}`;
      if (statSync(join(base, path)).isDirectory()) walk(path);
      else if (keep(name)) out.push(path);
    }
  };
  walk(dir);
  return out;
}

function expectedFiles(): string[] {
  const ort = 'node_modules/onnxruntime-node';
  return [
    'package.json',
    'README.md',
    'CHANGELOG.md',
    'LICENSE',
    'language-configuration.json',
    // Every bundle the production build wrote (extension, server, CLI, webview), no maps.
    ...readdirSync(join(stage, 'dist')).filter((f) => f.endsWith('.js')).map((f) => `dist/${f}`),
    // The icon and whatever the webview loads at run time.
    ...filesUnder(stage, 'media', () => true),
    'snippets/npas.json',
    'syntaxes/npas.tmLanguage.json',
    `${ort}/package.json`,
    ...['backend', 'binding', 'index', 'version'].map((f) => `${ort}/dist/${f}.js`),
    `${ort}/bin/napi-v6/linux/x64/libonnxruntime.so.1`,
    `${ort}/bin/napi-v6/linux/x64/onnxruntime_binding.node`,
    'node_modules/onnxruntime-common/package.json',
    ...filesUnder(root, 'node_modules/onnxruntime-common/dist/cjs', (n) => n.endsWith('.js') || n === 'package.json'),
  ].sort();
}

test('vsce ls: the bundles, language assets, listing files and the linux-x64 onnxruntime-node runtime — nothing else', () => {
  const listed = vsce('ls').split('\n').map((l) => l.trim()).filter((l) => l !== '').sort();
  assert.deepEqual(listed, expectedFiles());
  for (const f of ['dist/extension.js', 'media/icon.png']) assert.ok(listed.includes(f), f);
  // The language server ships from the moment its source exists.
  if (existsSync(join(stage, 'src/server/main.ts'))) assert.ok(listed.includes('dist/server.js'));
  for (const f of listed) {
    assert.doesNotMatch(f, /^(src|test|scripts|bench|examples|docs|webview)\//, f);
    assert.doesNotMatch(f, /\.(map|ts|mts|cts)$/, f);
  }
});

test('the extension bundle loads nothing heavy: no d3, no onnxruntime, vscode left external', () => {
  const bundle = readFileSync(join(stage, 'dist/extension.js'), 'utf8');
  assert.doesNotMatch(bundle, /require\("(onnxruntime-node|onnxruntime-common|d3[^"]*)"\)/);
  assert.doesNotMatch(bundle, /onnxruntime|d3-selection|d3-hierarchy/);
  assert.match(bundle, /require\("vscode"\)/);
  assert.doesNotMatch(bundle, /sourceMappingURL/);
});

/** The entries of a zip archive (central directory), with a reader for stored or deflated ones. */
function readZip(buffer: Buffer): Map<string, () => Buffer> {
  const eocd = buffer.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(eocd >= 0, 'a zip end-of-central-directory record');
  const count = buffer.readUInt16LE(eocd + 10);
  let p = buffer.readUInt32LE(eocd + 16);
  const entries = new Map<string, () => Buffer>();
  for (let i = 0; i < count; i++) {
    assert.equal(buffer.readUInt32LE(p), 0x02014b50, 'a central directory entry');
    const method = buffer.readUInt16LE(p + 10);
    const compressed = buffer.readUInt32LE(p + 20);
    const nameLength = buffer.readUInt16LE(p + 28);
    const skip = buffer.readUInt16LE(p + 30) + buffer.readUInt16LE(p + 32);
    const local = buffer.readUInt32LE(p + 42);
    const name = buffer.toString('utf8', p + 46, p + 46 + nameLength);
    entries.set(name, () => {
      const start = local + 30 + buffer.readUInt16LE(local + 26) + buffer.readUInt16LE(local + 28);
      const data = buffer.subarray(start, start + compressed);
      return method === 0 ? data : inflateRawSync(data);
    });
    p += 46 + nameLength + skip;
  }
  return entries;
}

/** A minimal ONNX model, Z = X + Y over float[3], encoded by hand (no model file to ship). */
function addModel(): Uint8Array {
  const varint = (n: number): number[] => {
    const b: number[] = [];
    do {
      let x = n & 0x7f;
      n >>>= 7;
      if (n) x |= 0x80;
      b.push(x);
    } while (n);
    return b;
  };
  const key = (field: number, wire: number): number[] => varint((field << 3) | wire);
  const int = (field: number, n: number): number[] => [...key(field, 0), ...varint(n)];
  const bytes = (field: number, a: number[]): number[] => [...key(field, 2), ...varint(a.length), ...a];
  const str = (field: number, s: string): number[] => bytes(field, [...Buffer.from(s, 'utf8')]);
  const valueInfo = (name: string): number[] => [...str(1, name), ...bytes(2, bytes(1, [...int(1, 1), ...bytes(2, bytes(1, int(1, 3)))]))];
  const node = [...str(1, 'X'), ...str(1, 'Y'), ...str(2, 'Z'), ...str(4, 'Add')];
  const graph = [...bytes(1, node), ...str(2, 'g'), ...bytes(11, valueInfo('X')), ...bytes(11, valueInfo('Y')), ...bytes(12, valueInfo('Z'))];
  return Uint8Array.from([...int(1, 8), ...bytes(7, graph), ...bytes(8, int(2, 13))]);
}

test('vsce package: a zip holding extension/package.json, whose onnxruntime-node runs an inference on its own', () => {
  mkdirSync(join(stage, 'out'));
  const out = join(stage, 'out', 'npas-studio.vsix');
  vsce('package', '--target', 'linux-x64', '-o', out);
  const zip = readFileSync(out);
  assert.equal(zip.readUInt32LE(0), 0x04034b50, 'starts with a zip local file header');
  const entries = readZip(zip);
  const manifest = JSON.parse(entries.get('extension/package.json')?.().toString('utf8') ?? '{}') as { name?: string; main?: string };
  assert.equal(manifest.name, 'npas-studio');
  assert.equal(manifest.main, './dist/extension.js');
  assert.ok(entries.has('extension.vsixmanifest'));
  assert.match(entries.get('extension.vsixmanifest')!().toString('utf8'), /TargetPlatform="linux-x64"/);
  assert.ok(entries.has('extension/dist/extension.js'));
  assert.ok(![...entries.keys()].some((n) => /\.map$|^extension\/(src|test)\//.test(n)));

  if (process.platform !== 'linux' || process.arch !== 'x64') return; // the binaries are linux-x64's
  const extracted = join(stage, 'extracted');
  for (const [name, read] of entries) {
    if (!name.startsWith('extension/node_modules/')) continue;
    mkdirSync(dirname(join(extracted, name)), { recursive: true });
    writeFileSync(join(extracted, name), read());
  }
  const model = join(stage, 'add.onnx');
  writeFileSync(model, addModel());
  // A child Node with no access to the repository's node_modules: only what the VSIX holds.
  const script = `
    const ort = require(${JSON.stringify(join(extracted, 'extension/node_modules/onnxruntime-node'))});
    (async () => {
      const session = await ort.InferenceSession.create(${JSON.stringify(model)});
      const t = (v) => new ort.Tensor('float32', Float32Array.from(v), [3]);
      const out = await session.run({ X: t([1, 2, 3]), Y: t([10, 20, 30]) });
      console.log(JSON.stringify(Array.from(out.Z.data)));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: extracted, encoding: 'utf8', env: { ...process.env, NODE_PATH: '' } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), '[11,22,33]');
});
