/// <reference types="mocha" />
// `npas.exportOnnx` and `npas.runProbe` in the real VS Code on the CPU, with arguments instead
// of dialogs. Both run outside the extension host (the CLI bundle and the probe host, child
// processes). The export is loaded back by ONNX Runtime in a separate Node process; the probe
// returns measured latencies with the engine's roofline beside them; a CUDA request without the
// CUDA provider is refused with the way to install one; a deadline kills the probe host and
// says so; a measured result is drawn in the dashboard's Probe pane (the webview's `received`,
// counted by the extension's API, is awaited; screenshot dashboard-probe), and in the hover on
// the model's name and its code lens (sent to the language server as npas/probeMeasured), marked
// "earlier version" once the model's text changes, and shown again from the extension's stored
// measurements when the document is closed and reopened. The spec is a tiny GPT written to a temp folder.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { eventually, extension, hoverText, positionOf, screenshot, waitForEvent, withTimeout } from './helpers';

interface ProbeSnapshot {
  open: boolean;
  visible: boolean;
  view: string | undefined;
  probe: { posted: number; received: number; model: string | undefined; rows: number | undefined };
  webviewWarnings: number;
}
interface Api {
  dashboard: () => ProbeSnapshot;
  onDidChangeDashboard: vscode.Event<ProbeSnapshot>;
}

type Outcome = { status: string; [key: string]: unknown };
interface Row {
  phase: string;
  measuredMs: number | null;
  rooflineMs: number;
  bound: string;
  efficiency: number | null;
}

// The kernel tests' spec (test/fixtures/specs/tiny-gpt.npas), read from the extension under test.
const tinyGpt = (): string => fs.readFileSync(path.join(extension().extensionPath, 'test', 'fixtures', 'specs', 'tiny-gpt.npas'), 'utf8');

describe('npas.exportOnnx and npas.runProbe (CPU)', () => {
  let probed: Outcome | undefined;
  let scratch: string;
  let spec: vscode.Uri;
  before(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'npas-probe-'));
    fs.writeFileSync(path.join(scratch, 'tiny.npas'), tinyGpt());
    spec = vscode.Uri.file(path.join(scratch, 'tiny.npas'));
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(spec));
  });
  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('exportOnnx writes a file that ONNX Runtime loads, with initializer elements = params.stored', async function () {
    this.timeout(60_000);
    const target = path.join(scratch, 'tiny.onnx');
    const t0 = Date.now();
    const outcome = await withTimeout(vscode.commands.executeCommand<Outcome>('npas.exportOnnx', { model: 'TinyGPT', target: vscode.Uri.file(target), dtype: 'fp32', document: spec }), 50_000, 'npas.exportOnnx');
    console.log(`    exportOnnx TinyGPT: ${Date.now() - t0} ms (child ${String(outcome.ms)} ms)`);
    assert.equal(outcome.status, 'written', JSON.stringify(outcome));
    assert.equal(outcome.initializerElements, outcome.storedParams);
    assert.ok(Number(outcome.storedParams) > 0);
    assert.equal(outcome.bytes, fs.statSync(target).size);
    // Loaded back by onnxruntime-node in its own process (never in the extension host).
    const script = `require('onnxruntime-node').InferenceSession.create(process.argv[1]).then((s) => console.log(JSON.stringify({ inputs: s.inputNames, outputs: s.outputNames })), (e) => { console.error(String(e)); process.exit(1); })`;
    const loaded = JSON.parse(execFileSync(process.execPath, ['-e', script, target], { cwd: extension().extensionPath, encoding: 'utf8', env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } })) as { inputs: string[]; outputs: string[] };
    assert.deepEqual(loaded, { inputs: ['input_ids'], outputs: ['last_token'] });
  });

  it('exportOnnx of an unsaved importer follows its imports to the open, unsaved library', async function () {
    this.timeout(60_000);
    // On disk: a library with a 61-token vocabulary and an importer with no variant yet.
    const lib = (vocab: number): string =>
      `block Pre(d, heads) {\n  attn_norm = RMSNorm(d)\n  attn = Attention(d, heads, head_dim: 8)\n  mlp_norm = RMSNorm(d)\n  mlp = GatedMLP(d, 2 * d)\n}\nmodel Tiny(L = 2) {\n  embed = Embedding(${vocab}, 32)\n  body = Pre(d: 32, heads: 4) * L\n  norm = RMSNorm(32)\n  lm_head = Linear(32, ${vocab})\n}\n`;
    fs.mkdirSync(path.join(scratch, 'lib'));
    fs.writeFileSync(path.join(scratch, 'lib', 'tiny-lib.npas'), lib(61));
    fs.writeFileSync(path.join(scratch, 'exp.npas'), 'import "lib/tiny-lib.npas"\n');
    const libDoc = await vscode.workspace.openTextDocument(vscode.Uri.file(path.join(scratch, 'lib', 'tiny-lib.npas')));
    const expDoc = await vscode.workspace.openTextDocument(vscode.Uri.file(path.join(scratch, 'exp.npas')));
    // In the editor, unsaved: a 67-token vocabulary, and the variant to export.
    const edit = new vscode.WorkspaceEdit();
    edit.replace(libDoc.uri, new vscode.Range(libDoc.positionAt(0), libDoc.positionAt(libDoc.getText().length)), lib(67));
    edit.insert(expDoc.uri, expDoc.positionAt(expDoc.getText().length), 'variant Shared of Tiny {\n  share body: all\n}\n');
    assert.ok(await vscode.workspace.applyEdit(edit));
    assert.ok(libDoc.isDirty && expDoc.isDirty);
    const target = path.join(scratch, 'shared.onnx');
    const outcome = await withTimeout(vscode.commands.executeCommand<Outcome>('npas.exportOnnx', { model: 'Shared', target: vscode.Uri.file(target), dtype: 'fp32', document: expDoc.uri }), 50_000, 'npas.exportOnnx of the importer');
    assert.equal(outcome.status, 'written', JSON.stringify(outcome));
    // One shared Pre block: attention 4·(32·32) = 4,096, GatedMLP 3·32·64 = 6,144, two norms 64;
    // embedding 67·32 = 2,144, final norm 32, head 32·67 = 2,144 (the library on disk gives 14,240).
    assert.equal(String(outcome.storedParams), String(4_096 + 6_144 + 64 + 2_144 + 32 + 2_144));
    assert.equal(outcome.initializerElements, outcome.storedParams);
    for (const doc of [libDoc, expDoc]) {
      await vscode.window.showTextDocument(doc);
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    }
  });

  it('runProbe on the CPU returns measured prefill and decode latencies with the roofline beside them', async function () {
    this.timeout(120_000);
    const a = extension().exports as Api;
    const dashboardBefore = a.dashboard();
    const t0 = Date.now();
    const outcome = await withTimeout(
      vscode.commands.executeCommand<Outcome>('npas.runProbe', { model: 'TinyGPT', ep: 'cpu', seq: 32, runs: 3, warmup: 1, document: spec, preview: true }),
      80_000,
      'npas.runProbe',
    );
    console.log(`    runProbe TinyGPT on CPU: ${Date.now() - t0} ms; rows ${JSON.stringify(outcome.rows)}`);
    assert.equal(outcome.status, 'measured', JSON.stringify(outcome));
    assert.equal(outcome.provider, 'cpu');
    assert.equal(outcome.requestedProvider, 'cpu');
    assert.equal(outcome.server, 'sent', 'the measurement went to the language server');
    probed = outcome;
    const rows = outcome.rows as Row[];
    assert.deepEqual(rows.map((r) => r.phase), ['prefill', 'decode']);
    for (const r of rows) {
      assert.ok(r.measuredMs !== null && r.measuredMs > 0, `${r.phase} measured`);
      assert.ok(r.rooflineMs > 0, `${r.phase} has its roofline`);
      assert.ok(r.efficiency !== null && r.efficiency > 0);
    }
    assert.match(String(outcome.markdown), /\| prefill \(1×32 tokens\) \| [\d.]+ [mµ]s \| [\d.]+ [mµ]s \| [\d.]+ [mµ]s \|/);
    assert.match(String(outcome.markdown), /CPU provider, as requested/);
    // The same result in the dashboard's Probe pane: the webview validated and drew it.
    assert.equal(outcome.dashboard, 'shown');
    const s = await waitForEvent(a.onDidChangeDashboard, () => a.dashboard().probe.received > dashboardBefore.probe.received && a.dashboard(), 30_000, 'the Probe pane to receive the result').catch((e: unknown) => {
      throw new Error(`${e instanceof Error ? e.message : String(e)}; dashboard now ${JSON.stringify(a.dashboard())}`);
    });
    assert.ok(s.open && s.visible, 'the panel is open and visible');
    assert.equal(s.view, 'probe');
    assert.equal(s.probe.model, 'TinyGPT');
    assert.equal(s.probe.rows, 2, 'prefill and decode');
    assert.equal(s.webviewWarnings, dashboardBefore.webviewWarnings, 'the webview dropped nothing');
    await new Promise((r) => setTimeout(r, 1500));
    const png = await screenshot('dashboard-probe', 'iframe.webview.ready');
    if (png) {
      assert.ok(fs.statSync(png).size > 10_000, `${png} is a real picture`);
      const frames = JSON.parse(fs.readFileSync(png.replace(/\.png$/, '.frames.json'), 'utf8')) as { url: string; text: string }[];
      const text = frames.map((f) => f.text).join(' ');
      assert.ok(text.includes('Probe of TinyGPT on CPU'), `the pane shows the probe (frames: ${text.slice(0, 300)})`);
      assert.ok(text.includes('CPU numbers, not GPU numbers'), 'the CPU is stated');
    }
  });

  it('after the probe, the hover on the model name and its code lens show the measurement; an edit to the model marks it as an earlier version', async function () {
    this.timeout(30_000);
    assert.ok(probed, 'needs the CPU probe of the previous test');
    const doc = await vscode.workspace.openTextDocument(spec);
    const hover = async (): Promise<string> => hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, positionOf(doc, 'model TinyGPT', 'model '.length + 2)));
    const rows = probed.rows as Row[];
    const prefill = rows[0]!.measuredMs!;
    const text = await hover();
    assert.match(text, /\*\*model TinyGPT\*\*/, 'the engine numbers are still there');
    assert.match(text, /\*\*Measured\*\* \(CPU, fp32, batch 1, seq 32\): prefill \*\*[\d.]+ [mµ]s\*\* \(roofline [\d.]+ [mµ]s, [\d.]+×\), decode \*\*[\d.]+ [mµ]s\*\*/, text);
    assert.match(text, /CPU numbers, not GPU numbers/, text);
    assert.match(text, /Achieved: prefill [\d.]+ [KMGT]?FLOP\/s/, text);
    const shownPrefill = /prefill \*\*([\d.]+) ([mµ])s\*\*/.exec(text)!;
    const shownMs = Number(shownPrefill[1]) / (shownPrefill[2] === 'µ' ? 1000 : 1);
    assert.ok(Math.abs(shownMs - prefill) <= Math.max(0.01 * prefill, 0.006), `the hover's prefill ${shownMs} ms is the probe's ${prefill} ms`);
    console.log(`    hover after the probe: ${/\*\*Measured\*\*[^\n]*/.exec(text)?.[0]}`);
    const lensTitles = async (): Promise<string[]> =>
      ((await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri, 100)) ?? [])
        .filter((l) => l.range.start.line === positionOf(doc, 'model TinyGPT').line)
        .map((l) => l.command?.title ?? '');
    assert.ok((await lensTitles()).some((t) => /^measured \(CPU, fp32, seq 32\): prefill [\d.]+ [mµ]s · decode [\d.]+ [mµ]s$/.test(t)), JSON.stringify(await lensTitles()));

    // A comment inside the model is its text: the measurement stays, labelled; undone, it is current again.
    const at = positionOf(doc, '  ln_f');
    const edit = new vscode.WorkspaceEdit();
    edit.insert(doc.uri, at, '  # edited after the probe\n');
    assert.ok(await vscode.workspace.applyEdit(edit));
    try {
      await eventually(async () => /earlier version/.test(await hover()), 10_000, 'the hover to say "earlier version"');
      assert.match(await hover(), /\*\*Measured\*\* \(CPU, fp32, batch 1, seq 32, earlier version\)/);
    } finally {
      const undo = new vscode.WorkspaceEdit();
      undo.delete(doc.uri, new vscode.Range(at, at.translate(1)));
      assert.ok(await vscode.workspace.applyEdit(undo));
      // Saved (the same text as on disk), so closing the editors later asks nothing.
      await doc.save();
    }
    await eventually(async () => !/earlier version/.test(await hover()) && /\*\*Measured\*\*/.test(await hover()), 10_000, 'the measurement to be current again');
  });

  it('the document closed and opened again (its language switched away and back): the server forgot the measurement, the extension sends its stored one again, current', async function () {
    // A window reload cannot be done inside this suite; what it exercises is the same: the server
    // has nothing for the document, and the extension's kept measurement (from the workspace
    // state after a reload) comes back on the document's open, judged by the probed text's
    // fingerprint, not by a version.
    this.timeout(30_000);
    assert.ok(probed, 'needs the CPU probe of the earlier test');
    let doc = await vscode.workspace.openTextDocument(spec);
    const hover = async (): Promise<string> => hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, positionOf(doc, 'model TinyGPT', 'model '.length + 2)));
    await eventually(async () => /\*\*Measured\*\*/.test(await hover()), 10_000, 'the measurement before the close');
    let wasClosed = false;
    const listener = vscode.workspace.onDidCloseTextDocument((d) => {
      if (d.uri.toString() === spec.toString()) wasClosed = true;
    });
    const closed = waitForEvent(vscode.workspace.onDidCloseTextDocument, () => wasClosed, 10_000, 'the document to close').finally(() => listener.dispose());
    doc = await vscode.languages.setTextDocumentLanguage(doc, 'plaintext');
    await closed;
    doc = await vscode.languages.setTextDocumentLanguage(doc, 'npas');
    await eventually(async () => /\*\*model TinyGPT\*\*/.test(await hover()), 10_000, 'the engine hover after the reopen');
    await eventually(async () => /\*\*Measured\*\* \(CPU, fp32, batch 1, seq 32\): prefill/.test(await hover()), 10_000, 'the stored measurement to be shown again');
    assert.doesNotMatch(await hover(), /earlier version/);
  });

  it('a CUDA probe without the CUDA provider is refused with how to install it', async function () {
    this.timeout(60_000);
    const bin = path.join(extension().extensionPath, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', process.platform, process.arch);
    if (fs.existsSync(path.join(bin, 'libonnxruntime_providers_cuda.so'))) this.skip(); // a GPU machine with the provider
    const outcome = await vscode.commands.executeCommand<Outcome>('npas.runProbe', { model: 'TinyGPT', ep: 'cuda', seq: 16, runs: 1, warmup: 0, document: spec, preview: false });
    assert.equal(outcome.status, 'provider-missing', JSON.stringify(outcome));
    assert.equal(outcome.setting, 'npas.probe.providerPath');
    assert.match(String(outcome.message), /npas\.probe\.providerPath/);
    assert.match(String(outcome.message), /ONNXRUNTIME_NODE_INSTALL=cuda12/);
  });

  it('cancelling a probe stops it: the outcome says so and no probe host is left running', async function () {
    this.timeout(60_000);
    const hostScript = path.join(extension().extensionPath, 'dist', 'probe-host.js');
    const hosts = (): number[] =>
      fs
        .readdirSync('/proc')
        .filter((d) => /^\d+$/.test(d))
        .filter((d) => {
          try {
            return fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(hostScript);
          } catch {
            return false;
          }
        })
        .map(Number);
    const before = new Set(hosts());
    const source = new vscode.CancellationTokenSource();
    const running = vscode.commands.executeCommand<Outcome>('npas.runProbe', { model: 'TinyGPT', ep: 'cpu', seq: 64, runs: 1_000_000, warmup: 0, document: spec, preview: false, token: source.token });
    // Cancel once the probe host is up (it is measuring: a million runs would take minutes).
    await eventually(() => hosts().some((p) => !before.has(p)), 20_000, 'the probe host to start');
    source.cancel();
    const outcome = await withTimeout(running, 10_000, 'the cancelled probe to settle');
    assert.equal(outcome.status, 'cancelled', JSON.stringify(outcome));
    await eventually(() => hosts().every((p) => before.has(p)), 10_000, 'the probe host to exit');
  });

  it('a probe past its deadline is killed and reported as a timeout', async function () {
    this.timeout(60_000);
    const outcome = await vscode.commands.executeCommand<Outcome>('npas.runProbe', { model: 'TinyGPT', ep: 'cpu', seq: 64, runs: 1_000_000, warmup: 0, timeoutSeconds: 2, document: spec, preview: false });
    assert.equal(outcome.status, 'failed', JSON.stringify(outcome));
    assert.equal(outcome.kind, 'timeout');
    assert.match(String(outcome.message), /timed out|did not answer within/);
  });
});
