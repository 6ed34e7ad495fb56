// Reads the extension's settings through VS Code, validated. VS Code does not enforce a
// setting's JSON schema when a value is read (a hand-edited settings.json can hold anything), so
// every value goes through settings-schema.ts: a bad one is reported once — a warning in the
// output channel and one notification — and its default is used, so neither the language
// server nor a command ever sees it.

import { isAbsolute, join } from 'node:path';
import * as vscode from 'vscode';
import { ANALYSIS_RULES, PROBE_RULES, checkSetting, type AnalysisSettings, type ProbeSettings, type SettingRule } from './settings-schema.js';

/** Where a bad value is reported: the log line and the notification. */
export interface SettingsReporter {
  readonly warn: (message: string) => void;
  readonly notify: (message: string, settingId: string) => void;
}

/**
 * Reads `npas.*` settings, replacing each bad value by its default. A bad value is reported the
 * first time it is seen; reading it again (each status bar refresh, each server configuration
 * request) stays quiet, while a different bad value for the same setting is reported anew.
 */
export class SettingsReader {
  private readonly reported = new Set<string>();

  constructor(private readonly reporter: SettingsReporter) {}

  analysis(): AnalysisSettings {
    const c = vscode.workspace.getConfiguration();
    const read = <K extends keyof AnalysisSettings>(k: K): AnalysisSettings[K] => this.read(c, ANALYSIS_RULES[k] as SettingRule<AnalysisSettings[K]>);
    const settings = Object.fromEntries((Object.keys(ANALYSIS_RULES) as (keyof AnalysisSettings)[]).map((k) => [k, read(k)])) as unknown as AnalysisSettings;
    // The language server reads the devices file: it gets an absolute path, a relative one taken
    // from the first workspace folder (as `npas budget --devices` takes it from the working directory).
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const file = settings.devicesFile;
    return file !== '' && !isAbsolute(file) && folder ? { ...settings, devicesFile: join(folder, file) } : settings;
  }

  probe(): ProbeSettings {
    const c = vscode.workspace.getConfiguration();
    return { provider: this.read(c, PROBE_RULES.provider), providerPath: this.read(c, PROBE_RULES.providerPath) };
  }

  private read<T>(config: vscode.WorkspaceConfiguration, rule: SettingRule<T>): T {
    // `get` yields the contributed default when the setting is unset.
    const raw: unknown = config.get<unknown>(rule.id);
    const { value, problem } = checkSetting(rule, raw);
    if (problem) {
      const fingerprint = `${rule.id}=${JSON.stringify(raw)}`;
      if (!this.reported.has(fingerprint)) {
        this.reported.add(fingerprint);
        this.reporter.warn(problem);
        this.reporter.notify(problem, rule.id);
      }
    }
    return value;
  }
}

/** The reporter the extension uses: the log channel, and a warning with a button to the setting. */
export function outputReporter(log: vscode.LogOutputChannel): SettingsReporter {
  return {
    warn: (message) => log.warn(message),
    notify: (message, settingId) => {
      void vscode.window.showWarningMessage(`NPAS: ${message}`, 'Open Setting').then((choice) => {
        if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', settingId);
      });
    },
  };
}
