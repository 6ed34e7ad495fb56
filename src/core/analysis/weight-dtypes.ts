// Weights stored in a dtype of their own: `precision weights embed, body.attn: fp8` sets the
// dtype of every weight under the paths, over the `weights` and `experts` classes (the last such
// statement reaching a weight wins). Counting a model's weights per dtype reuses the one walk that
// counts them at all: the model is walked once more per override dtype with only the weights in
// that dtype counted (a "view", layer-totals.ts), so every rule the walk applies — shared stores
// once, KV borrowers' projections dropped, routed banks, capacities — holds for each dtype's part
// as it does for the whole; the weights no override reaches are the whole less the views.

import type { Modifier, ResolvedSharing } from '../sharing/declarations.js';
import type { ResolvedPath } from '../sharing/resolve-path.js';
import { parse } from '../syntax/parser.js';
import type { Path, TextRange } from '../syntax/syntax-tree.js';
import type { DType, WeightDtypeSetting } from './report-types.js';

/** The dtype the last `precision weights PATHS: dtype` reaching a weight gives it; undefined: none does. */
export function weightDtypeOverride(mods: readonly Modifier[]): DType | undefined {
  let dtype: DType | undefined;
  let last = -1;
  for (const m of mods) {
    if (m.effect.kind === 'dtype' && m.id > last) {
      last = m.id;
      dtype = m.effect.dtype;
    }
  }
  return dtype;
}

/** The distinct dtypes a model's path overrides name, in the order first declared. */
export function overrideDtypes(sharing: ResolvedSharing): readonly DType[] {
  const out: DType[] = [];
  for (const m of sharing.modifiers) if (m.effect.kind === 'dtype' && !out.includes(m.effect.dtype)) out.push(m.effect.dtype);
  return out;
}

/**
 * A path as the analysis settings give it (`body.attn`, `body[3].mlp`, `lm_head`), read by the
 * language's own parser as the target of a `freeze` statement; undefined when it is not one path.
 */
export function parsePathText(text: string): Path | undefined {
  if (!/^[\w.[\]\s]+$/.test(text) || text.trim() === '') return undefined;
  const parsed = parse(`model _ {\n  freeze ${text}\n}\n`);
  if (parsed.diagnostics.length > 0) return undefined;
  const model = parsed.file.items[0];
  const statement = model?.kind === 'Model' ? model.members[0] : undefined;
  return statement?.kind === 'Statement' && statement.targets.length === 1 ? statement.targets[0] : undefined;
}

/**
 * The settings' path overrides as modifiers of a model, after its own (ids from `firstId` on, so
 * that they win): `resolve` finds a path in the model (quietly), and the paths it cannot find are
 * returned apart.
 */
export function settingsModifiers(
  settings: readonly WeightDtypeSetting[],
  resolve: (path: Path) => ResolvedPath | undefined,
  firstId: number,
  range: TextRange,
): { readonly modifiers: readonly Modifier[]; readonly unresolved: readonly string[] } {
  const modifiers: Modifier[] = [];
  const unresolved: string[] = [];
  for (const s of settings) {
    const path = parsePathText(s.path);
    const r = path ? resolve(path) : undefined;
    if (r) modifiers.push({ id: firstId + modifiers.length, pattern: r.pattern, effect: { kind: 'dtype', dtype: s.dtype }, range });
    else unresolved.push(s.path);
  }
  return { modifiers, unresolved };
}
