// The gate in front of everything that executes: GPU probes load native ONNX Runtime providers
// (possibly from `npas.probe.providerPath`) and ONNX export writes and runs model graphs. The
// manifest declares `untrustedWorkspaces: limited`; this is the runtime half of that promise.

import * as vscode from 'vscode';

/**
 * True in a trusted workspace. Otherwise explains, in a warning with a way to trust the
 * workspace, why `what` is refused, and returns false.
 */
export function requireTrust(what: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  const manage = 'Manage Workspace Trust';
  void vscode.window
    .showWarningMessage(
      `NPAS: ${what} cannot run in an untrusted workspace, because this executes native code (ONNX Runtime and its execution providers) on graphs built from the workspace's specs. Analysis, import and reports keep working; trust the workspace to enable ${what}.`,
      manage,
    )
    .then((choice) => {
      if (choice === manage) void vscode.commands.executeCommand('workbench.trust.manage');
    });
  return false;
}
