// Writing a file the user asked for, without ever replacing one silently. A path from a save
// dialog was already confirmed by the dialog (VS Code's native and simple dialogs both ask
// before replacing), so only a path passed to a command as an argument (scripts, tests) is
// checked here. A replaced document is edited in place and saved, so Undo restores it.

import * as vscode from 'vscode';

/** Whether `uri` names an existing file. */
export async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}

/** Asks (modally) before replacing an existing file; true when there is nothing to replace. */
export async function confirmReplace(uri: vscode.Uri): Promise<boolean> {
  if (!(await exists(uri))) return true;
  const replace = 'Replace';
  const choice = await vscode.window.showWarningMessage(`${vscode.workspace.asRelativePath(uri)} already exists. Replace it?`, { modal: true }, replace);
  return choice === replace;
}

/**
 * Writes `text` to `uri`. A new file is written directly; an existing one is replaced through
 * an editor edit and saved, so the previous content is one Undo away.
 */
export async function writeText(uri: vscode.Uri, text: string): Promise<void> {
  if (!(await exists(uri))) {
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
    return;
  }
  const document = await vscode.workspace.openTextDocument(uri);
  const edit = new vscode.WorkspaceEdit();
  edit.replace(uri, new vscode.Range(document.positionAt(0), document.positionAt(document.getText().length)), text);
  if (!(await vscode.workspace.applyEdit(edit)) || !(await document.save())) throw new Error(`${vscode.workspace.asRelativePath(uri)} could not be written`);
}

/** `dir/config.json` + `llama.npas` → `dir/llama.npas`. */
export function sibling(uri: vscode.Uri, name: string): vscode.Uri {
  return vscode.Uri.joinPath(uri, '..', name);
}

/** The last path segment of a URI. */
export function baseName(uri: vscode.Uri): string {
  return uri.path.slice(uri.path.lastIndexOf('/') + 1);
}

/** A spec's file name without its `.npas` extension (`llama.npas` → `llama`), for names of files and previews made from it. */
export function specStem(fileName: string): string {
  return fileName.endsWith('.npas') ? fileName.slice(0, -'.npas'.length) : fileName;
}
