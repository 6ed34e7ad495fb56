// Reads the extension's settings through VS Code, validated. VS Code does not enforce a
// setting's JSON schema when a value is read (a hand-edited settings.json can hold anything), so
// every value goes through the check the language server runs too (core/analysis/
// analysis-settings.ts; the probe's settings through settings-schema.ts): a bad one is reported
// once — a warning in the output channel and one notification — and its default is used, so
// neither the language server nor a command ever sees it.

import { isAbsolute, join } from 'node:path';
import * as vscode from 'vscode';
import { ANALYSIS_SETTING_KEYS, checkAnalysisSettings } from '../core/analysis/analysis-settings.js';
import { PROBE_RULES, checkSetting, type AnalysisSettings, type ProbeSettings, type SettingRule } from './settings-schema.js';

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
    // `get` yields the contributed default when the setting is unset. The devices file is the
    // language server's to read: a device it may hold is checked there.
    const raw = Object.fromEntries(ANALYSIS_SETTING_KEYS.map((k) => [k, c.get<unknown>(`npas.analysis.${k}`)]));
    const { values: settings, problems } = checkAnalysisSettings(raw, { fileDevices: 'not read' });
    for (const p of problems) this.report(p.message, p.id);
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
    const { value, problem } = checkSetting(rule, config.get<unknown>(rule.id));
    if (problem) this.report(problem, rule.id);
    return value;
  }

  /** Reports a bad value the first time its words are seen (they name the setting and the value). */
  private report(message: string, settingId: string): void {
    if (this.reported.has(message)) return;
    this.reported.add(message);
    this.reporter.warn(message);
    this.reporter.notify(message, settingId);
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
