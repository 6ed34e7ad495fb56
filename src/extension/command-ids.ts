// The extension's command ids, exactly as package.json contributes them. Free of `vscode`, so
// Node tests can hold the manifest to this list.

export const COMMAND_IDS = [
  'npas.showDashboard',
  'npas.allocate',
  'npas.runProbe',
  'npas.exportOnnx',
  'npas.importHfConfig',
  'npas.compareVariants',
  'npas.exportReport',
] as const;

export type CommandId = (typeof COMMAND_IDS)[number];
