// The language client: starts dist/server.js over IPC for `npas` documents and keeps the server's
// analysis settings in step with the validated `npas.analysis` settings. The server receives
// settings both ways LSP offers, and in both it sees the validated values, never a raw bad one:
//   push  (`workspace/didChangeConfiguration`, from `synchronize.configurationSection`)
//   pull  (`workspace/configuration` requests from the server)
// plus the same object as `initializationOptions.analysis`, so the first analysis already uses it.

import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  LanguageClient,
  TransportKind,
  type ConfigurationParams,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import type { SettingsReader } from './settings.js';
import type { AnalysisSettings } from './settings-schema.js';

export const SERVER_BUNDLE = 'dist/server.js';

export function createLanguageClient(context: vscode.ExtensionContext, log: vscode.LogOutputChannel, settings: SettingsReader): LanguageClient {
  const module = context.asAbsolutePath(SERVER_BUNDLE);
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    // Debug runs accept an inspector on 6009 so the server can be attached to from a second window.
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6009'] } },
  };
  // The client is referenced by the middleware below, which only runs after construction.
  let client: LanguageClient | undefined;
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ language: 'npas' }],
    outputChannel: log,
    initializationOptions: { analysis: settings.analysis() },
    // File events for .npas files: a library saved by another program re-diagnoses its importers.
    synchronize: { configurationSection: 'npas.analysis', fileEvents: vscode.workspace.createFileSystemWatcher('**/*.npas') },
    middleware: {
      workspace: {
        didChangeConfiguration: async () => {
          await client?.sendNotification(DidChangeConfigurationNotification.type, { settings: { npas: { analysis: settings.analysis() } } });
        },
        configuration: async (params, token, next) => {
          const raw = await next(params, token);
          return Array.isArray(raw) ? validatedItems(params, raw, settings.analysis()) : raw;
        },
      },
    },
  };
  client = new LanguageClient('npas', 'NPAS Language Server', serverOptions, clientOptions);
  return client;
}

/** Replaces the parts of a `workspace/configuration` answer that hold analysis settings. */
function validatedItems(params: ConfigurationParams, raw: unknown[], analysis: AnalysisSettings): unknown[] {
  return params.items.map((item, i) => {
    const value = raw[i];
    switch (item.section) {
      case 'npas.analysis':
        return analysis;
      case 'npas':
        return { ...(isObject(value) ? value : {}), analysis };
      default:
        if (item.section?.startsWith('npas.analysis.')) {
          const key = item.section.slice('npas.analysis.'.length);
          return key in analysis ? analysis[key as keyof AnalysisSettings] : value;
        }
        return value;
    }
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
