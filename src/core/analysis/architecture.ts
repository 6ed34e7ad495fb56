// The evaluated architecture of every model and variant — module tree, resolved sharing and
// statements — for consumers that need structure rather than totals (the ONNX exporter, and
// anything else outside the core that must not reach into its internals).

import { DiagnosticSink, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { ModelMember } from '../model/module-tree.js';
import { EvalContext } from '../semantics/evaluator.js';
import { evaluateFile, type EvaluatedModel } from '../semantics/evaluate-model.js';
import type { ResolvedSharing } from '../sharing/declarations.js';
import { resolvePath, type ResolvedPath } from '../sharing/resolve-path.js';
import { resolveSharing } from '../sharing/resolve-statements.js';
import { parse } from '../syntax/parser.js';
import type { Path } from '../syntax/syntax-tree.js';

export interface ArchitectureModel {
  readonly name: string;
  readonly kind: 'model' | 'variant';
  readonly members: readonly ModelMember[];
  readonly sharing: ResolvedSharing;
  readonly statements: EvaluatedModel['statements'];
  /** Resolves a path written in this model (diagnostics go to the architecture's list). */
  resolve(path: Path): ResolvedPath | undefined;
}

export interface Architecture {
  readonly diagnostics: readonly Diagnostic[];
  readonly models: readonly ArchitectureModel[];
}

/** Evaluates every model and variant of `text` into its module tree and sharing. Never throws. */
export function evaluateArchitecture(text: string): Architecture {
  const sink = new DiagnosticSink();
  const parsed = parse(text);
  sink.items.push(...parsed.diagnostics);
  const ctx = new EvalContext(sink);
  const evaluated = evaluateFile(parsed.file, ctx);
  const models = evaluated.models.map((m): ArchitectureModel => ({
    name: m.name,
    kind: m.kind,
    members: m.members,
    sharing: resolveSharing(m.members, m.statements, ctx),
    statements: m.statements,
    resolve: (path) => resolvePath(path, m.members, m.scope, ctx),
  }));
  return { diagnostics: sink.items, models };
}
