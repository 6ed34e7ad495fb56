/// <reference types="mocha" />
// Activation and registration: the extension is loaded from the repository, stays asleep until
// a .npas file (or a command) needs it, and registers every command id of the manifest.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { COMMAND_IDS, LANGUAGE_ID, eventually, extension, openFixture } from './helpers';

describe('activation', () => {
  it('the extension under test is the repository and runs in the Node (workspace) extension host', () => {
    const ext = extension();
    assert.ok(fs.existsSync(path.join(ext.extensionPath, 'package.json')));
    assert.deepEqual((ext.packageJSON as { extensionKind?: string[] }).extensionKind, ['workspace']);
    // In code-server the extension runs in the remote (Node) host; in a local desktop window
    // (@vscode/test-cli) every extension reports UI.
    assert.equal(ext.extensionKind, vscode.env.remoteName ? vscode.ExtensionKind.Workspace : vscode.ExtensionKind.UI);
    // engines.vscode must admit the VS Code it runs in (1.139.1 here), or it never loads.
    const engine = (ext.packageJSON as { engines?: { vscode?: string } }).engines?.vscode ?? '';
    const m = /^\^?(\d+)\.(\d+)/.exec(engine);
    assert.ok(m, `engines.vscode '${engine}' is not a ^major.minor range`);
    const [major, minor] = vscode.version.split('.').map(Number);
    assert.ok(
      Number(m[1]) < major! || (Number(m[1]) === major && Number(m[2]) <= minor!),
      `engines.vscode ${engine} is newer than VS Code ${vscode.version}`,
    );
  });

  it('activates only on .npas files or commands (no "*" activation)', () => {
    const events = (extension().packageJSON as { activationEvents?: string[] }).activationEvents ?? [];
    assert.ok(!events.includes('*'), `activationEvents: ${JSON.stringify(events)}`);
    assert.ok(!events.includes('onStartupFinished'), `activationEvents: ${JSON.stringify(events)}`);
    for (const e of events) {
      assert.match(e, /^(onLanguage:npas|onCommand:npas\.|workspaceContains:.*\.npas|onWebviewPanel:npas)/, `unexpected activation event ${e}`);
    }
  });

  it('opening a .npas file gives language id npas and activates the extension', async () => {
    const ext = extension();
    const editor = await openFixture('gemma.npas');
    assert.equal(editor.document.languageId, LANGUAGE_ID);
    // Activation has no event of its own: poll isActive with a deadline.
    await eventually(() => ext.isActive, 15_000, 'the extension to activate');
  });

  it('registers every command id', async () => {
    const all = new Set(await vscode.commands.getCommands(true));
    const missing = COMMAND_IDS.filter((id) => !all.has(id));
    assert.deepEqual(missing, [], `commands not registered: ${missing.join(', ')}`);
  });

  it('declares every command id in package.json contributes.commands', () => {
    const contributed = ((extension().packageJSON as { contributes?: { commands?: { command: string }[] } }).contributes?.commands ?? []).map(
      (c) => c.command,
    );
    for (const id of COMMAND_IDS) assert.ok(contributed.includes(id), `${id} is not in contributes.commands`);
  });

  it('the valid fixture is an exact copy of examples/relaxed-recursive-gemma.npas', async () => {
    const example = fs.readFileSync(path.join(extension().extensionPath, 'examples', 'relaxed-recursive-gemma.npas'), 'utf8');
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(vscode.workspace.workspaceFolders![0]!.uri, 'gemma.npas'));
    assert.equal(doc.getText(), example, 'test/fixtures/workspace/gemma.npas drifted from the example; copy it again');
  });
});
