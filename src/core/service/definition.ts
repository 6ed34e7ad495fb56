// Go to definition: names → their binding, parameter, block or loop variable; path segments in
// `share`/`tie`/`tied` → the member they name (a weight segment → its layer's binding); a
// variant's base and a budget's target → the model; a variant's override → the binding it
// replaces; a named block argument → the block's parameter. Builtins have no source location.

import type { AnalysisResult } from '../analysis/analyze.js';
import type { TextRange } from '../syntax/syntax-tree.js';
import { referenceAt } from './references.js';
import type { NameDefinition } from './scopes.js';

export interface DefinitionTarget {
  /** The span under the cursor that the definition belongs to. */
  readonly originRange: TextRange;
  /** The whole declaration (binding, block, model…). */
  readonly targetRange: TextRange;
  /** Its name, to select. */
  readonly targetSelectionRange: TextRange;
}

/**
 * Where the thing at `offset` is declared; empty when it is a builtin or nothing. `text` is the
 * analysed source (unused here, but every service takes the same arguments).
 */
export function definitionAt(_text: string, analysis: AnalysisResult, offset: number): DefinitionTarget[] {
  const ref = referenceAt(analysis.file, offset);
  if (!ref) return [];
  const to = (def: NameDefinition): DefinitionTarget[] => [{ originRange: ref.range, targetRange: def.range, targetSelectionRange: def.nameRange }];
  switch (ref.kind) {
    case 'model':
      return ref.decl && !ref.declaring ? [{ originRange: ref.range, targetRange: ref.decl.range, targetSelectionRange: ref.decl.name.range }] : [];
    case 'definition':
      if (ref.declaring) return ref.overrides ? to(ref.overrides) : [];
      return to(ref.definition);
    case 'argument': {
      const param = ref.block?.parameters.find((p) => p.name.text === ref.name);
      return param ? [{ originRange: ref.range, targetRange: param.range, targetSelectionRange: param.name.range }] : [];
    }
    case 'path':
      if (ref.target) return to(ref.target);
      return ref.weight ? to(ref.weight.layerBinding) : [];
    default:
      return [];
  }
}
