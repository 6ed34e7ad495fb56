/// <reference types="mocha" />
// The commands, executed for real through vscode.commands.executeCommand. Commands that
// normally open dialogs take their inputs as arguments (src/extension/commands.ts), so they run
// without UI; each resolves with an outcome object. Files are written only under the OS temp
// folder, never into the workspace (under @vscode/test-cli that is the repository's fixture).
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LANGUAGE_ID, extension, fixtureUri, hoverText, languageServerReady, positionOf, withTimeout } from './helpers';

type Outcome = { status: string; [key: string]: unknown };

describe('commands', () => {
  let scratch: string;
  before(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'npas-itest-'));
  });
  after(async () => {
    // Close what the commands opened (unsaved untitled documents included) without prompting.
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  describe('npas.importHfConfig', () => {
    it('imports a Hugging Face config.json into a new .npas file and opens it', async () => {
      const target = vscode.Uri.file(path.join(scratch, 'gpt2.npas'));
      const outcome = await withTimeout(
        vscode.commands.executeCommand<Outcome>('npas.importHfConfig', fixtureUri('hf/gpt2.config.json'), target),
        15_000,
        'npas.importHfConfig',
      );
      assert.equal(outcome.status, 'created', JSON.stringify(outcome));
      assert.equal(outcome.modelName, 'Gpt2');
      assert.equal(outcome.uri, target.toString());
      const written = fs.readFileSync(target.fsPath, 'utf8');
      assert.match(written, /^model Gpt2 \{$/m);
      assert.match(written, /vocab\s+= 50_257/);
      const editor = vscode.window.activeTextEditor;
      assert.equal(editor?.document.uri.toString(), target.toString(), 'the new spec is the active editor');
      assert.equal(editor.document.languageId, LANGUAGE_ID);
    });

    it('the imported spec analyses to GPT-2\'s published 124,439,808 parameters (hover)', async () => {
      await languageServerReady();
      const target = vscode.Uri.file(path.join(scratch, 'gpt2.npas'));
      const doc = await vscode.workspace.openTextDocument(target);
      const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, positionOf(doc, 'model Gpt2', 'model '.length + 1));
      assert.match(hoverText(hovers), /124,439,808/);
    });

    it('can open the imported spec untitled instead of writing a file', async () => {
      const outcome = await vscode.commands.executeCommand<Outcome>('npas.importHfConfig', fixtureUri('hf/gpt2.config.json'), 'untitled');
      assert.equal(outcome.status, 'created', JSON.stringify(outcome));
      const doc = vscode.window.activeTextEditor?.document;
      assert.ok(doc?.isUntitled, 'an untitled document');
      assert.equal(doc.languageId, LANGUAGE_ID);
      assert.match(doc.getText(), /^model Gpt2 \{$/m);
      // Discard it, so closing editors later never asks whether to save it.
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    });

    it('refuses an unsupported config, naming the key, and writes nothing', async () => {
      const target = vscode.Uri.file(path.join(scratch, 'rwkv.npas'));
      const outcome = await vscode.commands.executeCommand<Outcome>('npas.importHfConfig', fixtureUri('hf/unsupported.config.json'), target);
      assert.equal(outcome.status, 'refused', JSON.stringify(outcome));
      assert.equal(outcome.key, 'model_type');
      assert.match(String(outcome.message), /rwkv/);
      assert.ok(!fs.existsSync(target.fsPath), 'no file written for a refused config');
    });
  });

  describe('npas.exportReport', () => {
    it('writes exactly what `npas budget FILE --json` prints', async () => {
      const source = fixtureUri('gemma.npas');
      const target = vscode.Uri.file(path.join(scratch, 'gemma.budget.json'));
      const outcome = await withTimeout(vscode.commands.executeCommand<Outcome>('npas.exportReport', source, target), 15_000, 'npas.exportReport');
      assert.equal(outcome.status, 'written', JSON.stringify(outcome));
      assert.equal(outcome.models, 3);
      assert.equal(outcome.violated, 0);
      const written = fs.readFileSync(target.fsPath, 'utf8');
      assert.match(written, /"stored": 2506172416\b/, 'exact integers, not quoted or rounded');
      // The CLI bundle, run with the extension host's own Node, on the same file and settings.
      const cli = path.join(extension().extensionPath, 'dist', 'cli.js');
      const settings = vscode.workspace.getConfiguration('npas.analysis');
      const args = ['budget', source.fsPath, '--json'];
      const seq = settings.get<number>('sequenceLength');
      if (seq !== undefined) args.push('--seq', String(seq));
      const batch = settings.get<number>('batchSize');
      if (batch !== undefined) args.push('--batch', String(batch));
      const dtype = settings.get<string>('dtype');
      if (dtype !== undefined) args.push('--dtype', dtype);
      const device = settings.get<string>('device');
      if (device !== undefined) args.push('--device', device);
      const stdout = execFileSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
      assert.equal(written, stdout);
    });

    it('refuses a spec with errors and writes nothing', async () => {
      const target = vscode.Uri.file(path.join(scratch, 'broken.budget.json'));
      const outcome = await vscode.commands.executeCommand<Outcome>('npas.exportReport', fixtureUri('broken.npas'), target);
      assert.equal(outcome.status, 'spec-errors', JSON.stringify(outcome));
      assert.ok((outcome.errors as string[]).some((e) => e.includes('npas-eval-not-integer')), JSON.stringify(outcome.errors));
      assert.ok(!fs.existsSync(target.fsPath));
    });
  });

  describe('npas.compareVariants', () => {
    it('returns every model and variant with exact stored counts', async () => {
      await languageServerReady();
      const outcome = await withTimeout(
        vscode.commands.executeCommand<Outcome>('npas.compareVariants', 'none', fixtureUri('gemma.npas')),
        15_000,
        'npas.compareVariants',
      );
      assert.equal(outcome.status, 'shown', JSON.stringify(outcome));
      const rows = outcome.rows as { name: string; kind: string; base: string | null; stored: string }[];
      assert.deepEqual(
        rows.map((r) => [r.name, r.kind, r.base]),
        [
          ['Gemma2B', 'model', null],
          ['RecursiveGemma', 'variant', 'Gemma2B'],
          ['RelaxedRecursiveGemma', 'variant', 'Gemma2B'],
        ],
      );
      const stored = rows.map((r) => r.stored.replace(/\D/g, ''));
      assert.deepEqual(stored, ['2506172416', '1515231232', '1593677824']);
      assert.match(String(outcome.markdown), /2,506,172,416/);
    });
  });

  // npas.showDashboard, npas.allocate, npas.runProbe and npas.exportOnnx open a webview or
  // pickers when run without arguments; 01-activation checks that they are registered, and
  // their own issues (dashboard, allocator, probes) test what they do.
});
