// Which diagnostic codes have a quick fix, and what it does: one entry per code, so adding a
// code forces the decision. `docs/diagnostics.md` shows the same text in its catalogue (a test
// compares them), and the quick-fix tests cover every code listed here. `undefined`: no fix is
// knowable from the source — the repair is a design decision (a violated budget, a shape that
// does not divide, two sharing declarations that overlap).

import type { DiagnosticCode } from '../diagnostics/codes.js';

export const QUICK_FIX_CATALOGUE: Readonly<Record<DiagnosticCode, string | undefined>> = {
  'npas-syntax-unexpected-char': 'Remove the character; in a string, escape a lone backslash (`\\\\`).',
  'npas-syntax-unterminated-string': "Close the string with '\"' at the end of its line.",
  'npas-syntax-bad-number': "Change an unknown suffix to the closest known one (`8Kib` → `8KiB`); drop a trailing '_'.",
  'npas-syntax-expected': 'Insert the missing closing bracket, parenthesis or brace.',
  'npas-syntax-unexpected-token': undefined,
  'npas-syntax-too-deep': undefined,
  'npas-name-unknown': "Change to the closest names in scope, layer kinds, functions or symbols (\"Change to 'X'\").",
  'npas-name-duplicate': undefined,
  'npas-name-shadows-builtin': 'Rename the binding and its uses to a free name (`MLP` → `mlp`); a call of the name keeps meaning the layer kind.',
  'npas-name-cycle': undefined,
  'npas-model-unknown': 'Change to the closest model or variant.',
  'npas-override-unknown': "Change to the closest binding of the base.",
  'npas-eval-type': undefined,
  'npas-eval-division-by-zero': undefined,
  'npas-eval-not-integer': undefined,
  'npas-eval-range': undefined,
  'npas-eval-too-large': undefined,
  'npas-eval-unit': undefined,
  'npas-layer-unknown-arg': 'Change to the closest argument not given yet.',
  'npas-layer-missing-arg': 'Insert `name: ` for the missing argument.',
  'npas-layer-duplicate-arg': 'Remove the repeated argument.',
  'npas-layer-too-many-args': 'Remove the positional arguments past the last one the layer or block takes.',
  'npas-layer-shape': undefined,
  'npas-block-arg': 'Insert `name: ` for the missing block argument.',
  'npas-module-expected': undefined,
  'npas-model-empty': undefined,
  'npas-share-target': 'Change a path segment to the closest member.',
  'npas-share-not-stack': undefined,
  'npas-share-strategy': 'Change to the closest strategy for the statement.',
  'npas-share-shape': undefined,
  'npas-share-overlap': undefined,
  'npas-tie-shape': undefined,
  'npas-kv-source': undefined,
  'npas-adapter': undefined,
  'npas-hash': undefined,
  'npas-bank': undefined,
  'npas-route': undefined,
  'npas-allocate': undefined,
  'npas-param': undefined,
  'npas-budget-metric': 'Change to the closest metric.',
  'npas-budget-violated': undefined,
  'npas-budget-target': 'Change to the closest model or variant.',
  'npas-plan': undefined,
  'npas-internal-error': undefined,
};
