// The commands whose engine part does not exist yet: the dashboard, the allocator, GPU probes
// and ONNX export. Each is registered so its id, title and keybinding slot are stable, and each
// says plainly that the feature is not built rather than pretending. Probes and export execute
// code, so they check workspace trust first: an untrusted workspace hears why it is refused,
// not that the feature is missing. Messages are not awaited, so a command resolves at once.

import * as vscode from 'vscode';
import { requireTrust } from './workspace-trust.js';

/** What a command did, returned to `executeCommand` callers (tests, other extensions). */
export type UnbuiltOutcome = { readonly status: 'not-built'; readonly feature: string } | { readonly status: 'untrusted'; readonly feature: string };

function notBuilt(feature: string, meanwhile: string): UnbuiltOutcome {
  void vscode.window.showInformationMessage(`NPAS: ${feature} is not built yet. ${meanwhile}`);
  return { status: 'not-built', feature };
}

export function showDashboard(): UnbuiltOutcome {
  return notBuilt('the dashboard', 'Meanwhile the status bar, hovers, code lenses and "NPAS: Compare Variants" show the numbers.');
}

export function allocate(): UnbuiltOutcome {
  return notBuilt('the parameter allocator', 'The language server already checks `allocate` statements; no plan is computed.');
}

export function runProbe(): UnbuiltOutcome {
  if (!requireTrust('GPU probes')) return { status: 'untrusted', feature: 'GPU probes' };
  return notBuilt('GPU probes', 'Latencies shown are roofline estimates from the device profile (npas.analysis.device).');
}

export function exportOnnx(): UnbuiltOutcome {
  if (!requireTrust('ONNX export')) return { status: 'untrusted', feature: 'ONNX export' };
  return notBuilt('ONNX export', 'No file was written.');
}
