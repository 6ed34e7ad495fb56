// The capabilities the server declares in `initialize`. Pull diagnostics are always declared;
// a client that cannot pull gets pushed diagnostics instead (features/diagnostics.ts).

import { TextDocumentSyncKind, type ServerCapabilities } from 'vscode-languageserver/node';
import { CODE_ACTION_KINDS } from './features/code-actions.js';
import { TRIGGER_CHARACTERS } from './features/completion.js';
import { SEMANTIC_TOKENS_LEGEND } from './features/semantic-tokens.js';
import { SIGNATURE_RETRIGGER_CHARACTERS, SIGNATURE_TRIGGER_CHARACTERS } from './features/signature-help.js';

export function serverCapabilities(): ServerCapabilities {
  return {
    // Incremental sync: a keystroke in a 10,000-line spec sends the edit, not the file.
    textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
    diagnosticProvider: { identifier: 'npas', interFileDependencies: true, workspaceDiagnostics: false },
    hoverProvider: true,
    completionProvider: { triggerCharacters: TRIGGER_CHARACTERS, resolveProvider: false },
    definitionProvider: true,
    documentSymbolProvider: { label: 'NPAS' },
    codeLensProvider: { resolveProvider: false },
    inlayHintProvider: { resolveProvider: false },
    documentFormattingProvider: true,
    codeActionProvider: { codeActionKinds: CODE_ACTION_KINDS, resolveProvider: false },
    referencesProvider: true,
    documentHighlightProvider: true,
    renameProvider: { prepareProvider: true },
    signatureHelpProvider: { triggerCharacters: SIGNATURE_TRIGGER_CHARACTERS, retriggerCharacters: SIGNATURE_RETRIGGER_CHARACTERS },
    semanticTokensProvider: { legend: SEMANTIC_TOKENS_LEGEND, full: true, range: false },
    workspaceSymbolProvider: true,
    foldingRangeProvider: true,
    selectionRangeProvider: true,
  };
}
