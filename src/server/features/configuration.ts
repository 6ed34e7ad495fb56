// Settings: `initializationOptions` first, then `workspace/configuration` (section
// `npas.analysis`) after `initialized` and on every `didChangeConfiguration`, or that
// notification's own payload when the client cannot be asked. A change re-analyses: caches
// are keyed by the settings generation, and the other features are told to refresh.

import { DidChangeConfigurationNotification } from 'vscode-languageserver/node';
import type { ServerContext } from '../context.js';
import { guard } from '../guard.js';
import { findAnalysisSection } from '../settings.js';

export function registerConfiguration(ctx: ServerContext, onChange: () => void): { pull(): Promise<void>; registerForChanges(dynamic: boolean): void } {
  const { connection } = ctx;
  const pull = async (): Promise<void> => {
    if (!ctx.client.configuration) return;
    const [section] = (await connection.workspace.getConfiguration([{ section: 'npas.analysis' }])) as unknown[];
    // A client with nothing configured answers null: keep what initializationOptions gave.
    if (section === null || section === undefined) return;
    if (ctx.settings.update(findAnalysisSection({ analysis: section }))) onChange();
  };
  connection.onDidChangeConfiguration(
    guard('workspace/didChangeConfiguration', ctx.log.error, undefined, async (params: { settings: unknown }): Promise<void> => {
      if (ctx.client.configuration) await pull();
      else if (ctx.settings.update(findAnalysisSection(params.settings))) onChange();
    }),
  );
  return {
    pull: () => pull().catch((e: unknown) => ctx.log.warn(`could not read the npas.analysis settings: ${String(e)}`)),
    registerForChanges(dynamic: boolean): void {
      // Clients that register capabilities dynamically only send this notification when asked.
      if (dynamic) void connection.client.register(DidChangeConfigurationNotification.type, { section: 'npas' }).catch(() => undefined);
    },
  };
}
