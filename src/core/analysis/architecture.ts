// The evaluated architecture of every model and variant — module tree, resolved sharing and
// statements — for consumers that need structure rather than totals (the ONNX exporter, and
// anything else outside the core that must not reach into its internals). A view of a
// `Compilation`: asking for it never evaluates again.

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { ModelMember } from '../model/module-tree.js';
import type { EvaluatedModel } from '../semantics/evaluate-model.js';
import type { ResolvedSharing } from '../sharing/declarations.js';
import type { ResolvedPath } from '../sharing/resolve-path.js';
import type { Path } from '../syntax/syntax-tree.js';
import { compile, type Compilation } from './compilation.js';

export interface ArchitectureModel {
  readonly name: string;
  readonly kind: 'model' | 'variant';
  readonly members: readonly ModelMember[];
  readonly sharing: ResolvedSharing;
  readonly statements: EvaluatedModel['statements'];
  /** Resolves a path written in this model (its problems were reported when it compiled). */
  resolve(path: Path): ResolvedPath | undefined;
}

export interface Architecture {
  readonly diagnostics: readonly Diagnostic[];
  readonly models: readonly ArchitectureModel[];
}

/** The module tree and sharing of every model and variant of a source or compilation. Never throws. */
export function evaluateArchitecture(source: string | Compilation): Architecture {
  return typeof source === 'string' ? compile(source) : source;
}
