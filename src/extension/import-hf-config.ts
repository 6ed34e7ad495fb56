// NPAS: Import Hugging Face Config… — a config.json in, a NEW `.npas` spec out, through the
// core's `importHfConfig` (the same code as `npas import-hf`). The user picks the config, then
// where the spec goes (a save dialog next to the config); cancelling that dialog opens the spec
// as an untitled document instead, so nothing is written that was not asked for. A refusal names
// the config key at fault. The core is loaded on first use, not at activation.

import * as vscode from 'vscode';
import { baseName, confirmReplace, sibling, writeText } from './output-files.js';

/** Where the spec goes when the command is run with arguments (scripts, tests). */
export type ImportTarget = vscode.Uri | 'untitled';

export type ImportOutcome =
  | { readonly status: 'created'; readonly uri: string; readonly modelName: string }
  | { readonly status: 'refused'; readonly key: string | null; readonly message: string }
  | { readonly status: 'cancelled' };

export async function importHfConfig(log: vscode.LogOutputChannel, config?: vscode.Uri, target?: ImportTarget): Promise<ImportOutcome> {
  const configUri = config ?? (await pickConfig());
  if (!configUri) return { status: 'cancelled' };
  const name = baseName(configUri);

  const imported = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `NPAS: importing ${name}`, cancellable: true },
    async (progress, token) => {
      progress.report({ message: 'reading…' });
      const bytes = await vscode.workspace.fs.readFile(configUri);
      if (token.isCancellationRequested) return undefined;
      progress.report({ message: 'writing the spec…' });
      const core = await import('../core/index.js');
      const result = core.importHfConfig(new TextDecoder().decode(bytes), { sourceName: name });
      return token.isCancellationRequested ? undefined : result;
    },
  );
  if (!imported) return { status: 'cancelled' };
  if (!imported.ok) {
    // The core's refusal messages start with the key they name; say which key even when not.
    const key = imported.key ?? null;
    const keyNote = key && !imported.message.includes(key) ? ` (key '${key}')` : '';
    const message = `NPAS cannot import ${name}: ${imported.message}${keyNote}`;
    log.warn(message);
    void vscode.window.showErrorMessage(message);
    return { status: 'refused', key, message: imported.message };
  }

  const destination = target ?? (await pickDestination(configUri, imported.modelName));
  let document: vscode.TextDocument;
  if (destination === 'untitled') {
    document = await vscode.workspace.openTextDocument({ language: 'npas', content: imported.spec });
  } else {
    // A dialog already asked before replacing; a path given as an argument is asked about here.
    if (target && !(await confirmReplace(destination))) return { status: 'cancelled' };
    await writeText(destination, imported.spec);
    document = await vscode.workspace.openTextDocument(destination);
  }
  await vscode.window.showTextDocument(document);
  log.info(`Imported ${configUri.toString(true)} as model ${imported.modelName} into ${document.uri.toString(true)}`);
  // Keys the spec does not use are also listed in its header; a notification makes sure they are seen.
  for (const warning of imported.warnings) log.warn(`${name}: ${warning}`);
  if (imported.warnings.length > 0) {
    void vscode.window.showWarningMessage(`NPAS imported ${name} without ${imported.warnings.length} config key(s) it does not model; see the spec's header and the NPAS Studio output.`);
  }
  return { status: 'created', uri: document.uri.toString(), modelName: imported.modelName };
}

async function pickConfig(): Promise<vscode.Uri | undefined> {
  const picked = await vscode.window.showOpenDialog({
    title: 'Import a Hugging Face config.json',
    openLabel: 'Import',
    canSelectMany: false,
    canSelectFolders: false,
    filters: { 'Hugging Face config': ['json'] },
  });
  return picked?.[0];
}

/** A save dialog defaulting next to the config; cancelling it means "open it untitled". */
async function pickDestination(configUri: vscode.Uri, modelName: string): Promise<ImportTarget> {
  const chosen = await vscode.window.showSaveDialog({
    title: `Save the spec of ${modelName} (Cancel opens it unsaved)`,
    saveLabel: 'Create Spec',
    defaultUri: sibling(configUri, `${modelName}.npas`),
    filters: { 'NPAS spec': ['npas'] },
  });
  return chosen ?? 'untitled';
}
