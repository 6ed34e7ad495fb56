// Evaluates every model and variant of a file into its list of top-level modules and its
// sharing statements. A variant re-evaluates its base model with overridden bindings (so
// `d = 512` changes every layer that uses d) and appends its statements to the base's.

import type {
  Binding,
  BlockDeclaration,
  ImportDeclaration,
  ModelDeclaration,
  SourceFile,
  Statement,
  TextRange,
  VariantDeclaration,
} from '../syntax/syntax-tree.js';
import type { ModelMember } from '../model/module-tree.js';
import { asModule, evaluate, LIMITS, type EvalContext } from './evaluator.js';
import { declareMembers } from './declare-members.js';
import { checkRouterCells } from './router-cells.js';
import { Scope } from './scope.js';
import { NO_IMPORTS, type ResolvedImports } from '../imports/resolve-imports.js';

export interface EvaluatedModel {
  readonly name: string;
  readonly kind: 'model' | 'variant';
  readonly base: string | undefined;
  readonly declaration: ModelDeclaration | VariantDeclaration;
  readonly nameRange: TextRange;
  readonly members: readonly ModelMember[];
  readonly statements: readonly { statement: Statement; scope: Scope }[];
  /** The model scope (constants), used by budgets and hovers. */
  readonly scope: Scope;
}

export interface EvaluatedFile {
  readonly fileScope: Scope;
  readonly models: readonly EvaluatedModel[];
  /** Model and variant declarations visible in the file (its own and imported ones) by name. */
  readonly declarations: ReadonlyMap<string, ModelDeclaration | VariantDeclaration>;
}

type ModelLike = ModelDeclaration | VariantDeclaration;

/** One file of the program: its own scope and the models and variants visible in it. */
interface FileUnit {
  readonly scope: Scope;
  readonly models: Map<string, ModelLike>;
  /** The models and variants imports brought in, in the order they came. */
  readonly importedModels: ModelLike[];
  readonly ownModels: ModelLike[];
}

/**
 * Evaluates a file's models and variants: its own, and those its imports bring in (imported
 * first, in import order). Every file reached by the imports has its own scope, declared files
 * imported first, so an imported block or constant is evaluated against its own file's names.
 */
export function evaluateFile(file: SourceFile, ctx: EvalContext, imports: ResolvedImports = NO_IMPORTS): EvaluatedFile {
  const units = new Map<SourceFile, FileUnit>();
  /** The file each model or variant declaration belongs to. */
  const homes = new Map<ModelLike, FileUnit>();
  for (const imported of imports.files) units.set(imported.file, declareFile(imported.file, units, homes, imports, ctx));
  const main = declareFile(file, units, homes, imports, ctx);

  // Top-level constants are evaluated once even if no model uses them, for their diagnostics.
  for (const f of [...imports.files.map((i) => i.file), file]) {
    const scope = units.get(f)?.scope ?? main.scope;
    for (const item of f.items) if (item.kind === 'Binding') evaluate({ kind: 'Name', name: item.name, range: item.name.range }, scope, ctx);
  }

  const models: EvaluatedModel[] = [];
  const chains = new VariantChains((decl, name) => homes.get(decl)?.models.get(name), ctx);
  for (const item of [...main.importedModels, ...main.ownModels]) {
    // Each model or variant is evaluated, walked and reported on its own: a spec of 250,000
    // one-line models took minutes and gigabytes, so each one spends from the work budget.
    if (!ctx.spend(LIMITS.modelSteps, item.name.range)) break;
    ctx.currentModel = item.name.text;
    const m = evaluateDeclaration(item, chains, (d) => homes.get(d)!.scope, ctx);
    ctx.currentModel = undefined;
    if (m) models.push(m);
  }
  return { fileScope: main.scope, models, declarations: main.models };
}

/** Enters a file's own declarations into a new scope, then what its imports bring in. */
function declareFile(file: SourceFile, units: ReadonlyMap<SourceFile, FileUnit>, homes: Map<ModelLike, FileUnit>, imports: ResolvedImports, ctx: EvalContext): FileUnit {
  const scope = new Scope(undefined, 'file');
  declareMembers(
    file.items.filter((i): i is Binding | BlockDeclaration => i.kind === 'Binding' || i.kind === 'Block'),
    scope,
    ctx,
    'this file',
  );
  const unit: FileUnit = { scope, models: new Map(), importedModels: [], ownModels: [] };
  for (const item of file.items) {
    if (item.kind !== 'Model' && item.kind !== 'Variant') continue;
    const name = item.name.text;
    if (name === '') continue;
    if (unit.models.has(name) || scope.entries.has(name)) {
      ctx.sink.error('npas-name-duplicate', `'${name}' is defined twice in this file`, item.name.range);
      continue;
    }
    unit.models.set(name, item);
    unit.ownModels.push(item);
    homes.set(item, unit);
  }
  for (const item of file.items) {
    if (item.kind !== 'Import') continue;
    const target = imports.targets.get(item);
    const from = target && units.get(target.file);
    if (from) importNames(item, from, unit, ctx);
  }
  return unit;
}

/** Brings the names an import lists (or every name the file sees) from `from` into `into`. */
function importNames(decl: ImportDeclaration, from: FileUnit, into: FileUnit, ctx: EvalContext): void {
  const file = `"${decl.path.value}"`;
  const wanted: readonly { name: string; range: TextRange }[] = decl.names
    ? decl.names.filter((n) => n.text !== '').map((n) => ({ name: n.text, range: n.range }))
    : [...from.scope.entries.keys(), ...from.models.keys()].map((name) => ({ name, range: decl.path.range }));
  for (const { name, range } of wanted) {
    const entry = from.scope.entries.get(name);
    const model = from.models.get(name);
    if (!entry && !model) {
      ctx.sink.error('npas-import-name', `${file} defines no constant, block, model or variant named '${name}'`, range);
      continue;
    }
    const defined = entry?.kind === 'import' ? entry.target : entry;
    const existing = into.scope.entries.get(name);
    const existingModel = into.models.get(name);
    // The same definition reached twice (two files importing one library) is one name.
    const same = (existing && defined && (existing === defined || (existing.kind === 'import' && existing.target === defined))) || (model && existingModel === model);
    if (same) continue;
    if (existing || existingModel) {
      const what = existing?.kind === 'import' || (existingModel && !into.ownModels.includes(existingModel)) ? 'a name imported from another file' : 'a name this file defines';
      ctx.sink.error('npas-import-clash', `'${name}' from ${file} clashes with ${what}`, range);
      continue;
    }
    if (defined) into.scope.entries.set(name, { kind: 'import', target: defined, home: entry?.kind === 'import' ? entry.home : from.scope, declaration: decl });
    else if (model) {
      into.models.set(name, model);
      into.importedModels.push(model);
    }
  }
}

/** What a variant chain changes in its model: overridden names and appended statements. */
interface ResolvedChain {
  readonly model: ModelDeclaration;
  /** Each overridden or added name → its last writer along the chain. */
  readonly overrides: ReadonlyMap<string, Override>;
  readonly statements: readonly Statement[];
}

type Override = { readonly kind: 'binding'; readonly binding: Binding } | { readonly kind: 'block'; readonly decl: BlockDeclaration };

/**
 * Resolves each variant's chain once, from its base's resolved chain, so a chain of N variants
 * costs O(N) resolutions (not O(N²), and without recursion however long the chain). A variant's
 * override errors are reported when it is resolved, that is once.
 */
class VariantChains {
  private readonly memo = new Map<ModelDeclaration | VariantDeclaration, ResolvedChain | undefined>();
  /** Kind of each name a model declares (parameters and members; the first declaration wins). */
  private readonly modelNames = new Map<ModelDeclaration, ReadonlyMap<string, 'binding' | 'block'>>();

  constructor(
    /** The model or variant a name means where `from` is declared (its file's own and imported ones). */
    private readonly baseOf: (from: ModelLike, name: string) => ModelLike | undefined,
    private readonly ctx: EvalContext,
  ) {}

  resolve(decl: ModelDeclaration | VariantDeclaration): ResolvedChain | undefined {
    if (this.memo.has(decl)) return this.memo.get(decl);
    // Walk down to the first declaration already resolved (or the model), then resolve upwards.
    const path: VariantDeclaration[] = [];
    const onPath = new Set<ModelDeclaration | VariantDeclaration>();
    let cur: ModelDeclaration | VariantDeclaration = decl;
    let base: ResolvedChain | undefined;
    for (;;) {
      if (this.memo.has(cur)) {
        base = this.memo.get(cur);
        break;
      }
      if (cur.kind === 'Model') {
        base = { model: cur, overrides: new Map(), statements: [] };
        this.memo.set(cur, base);
        break;
      }
      if (onPath.has(cur)) {
        // Every variant on the cycle derives from itself; each is reported at its own name.
        for (let i = path.indexOf(cur); i < path.length; i++) {
          const v = path[i]!;
          this.ctx.sink.error('npas-name-cycle', `variant ${v.name.text} derives from itself`, v.name.range);
        }
        base = undefined;
        break;
      }
      onPath.add(cur);
      path.push(cur);
      const next = this.baseOf(cur, cur.base.text);
      if (!next) {
        this.ctx.sink.error('npas-model-unknown', `'${cur.base.text}' is not a model or variant of this file`, cur.base.range);
        base = undefined;
        break;
      }
      cur = next;
    }
    for (let i = path.length - 1; i >= 0; i--) {
      const v = path[i]!;
      base = base && this.extend(base, v);
      this.memo.set(v, base);
    }
    return this.memo.get(decl);
  }

  private extend(base: ResolvedChain, v: VariantDeclaration): ResolvedChain {
    const overrides = new Map(base.overrides);
    const own = v.members.filter((m): m is Statement => m.kind === 'Statement');
    const statements = own.length > 0 ? [...base.statements, ...own] : base.statements;
    const modelNames = this.namesOf(base.model);
    for (const m of v.members) {
      if (m.kind === 'Statement') continue;
      const name = m.name.text;
      if (m.kind === 'Block') {
        overrides.set(name, { kind: 'block', decl: m });
        continue;
      }
      const existing = overrides.get(name)?.kind ?? modelNames.get(name);
      if (existing !== 'binding') {
        this.ctx.sink.error('npas-override-unknown', `${base.model.name.text} has no constant, parameter or module named '${name}' to override`, m.name.range);
        continue;
      }
      overrides.set(name, { kind: 'binding', binding: m });
    }
    return { model: base.model, overrides, statements };
  }

  private namesOf(model: ModelDeclaration): ReadonlyMap<string, 'binding' | 'block'> {
    let names = this.modelNames.get(model);
    if (!names) {
      const map = new Map<string, 'binding' | 'block'>();
      for (const p of model.parameters) if (!map.has(p.name.text)) map.set(p.name.text, 'binding');
      for (const m of model.members) if (m.kind !== 'Statement' && m.name.text !== '' && !map.has(m.name.text)) map.set(m.name.text, m.kind === 'Binding' ? 'binding' : 'block');
      names = map;
      this.modelNames.set(model, names);
    }
    return names;
  }
}

function evaluateDeclaration(decl: ModelDeclaration | VariantDeclaration, chains: VariantChains, fileScopeOf: (decl: ModelLike) => Scope, ctx: EvalContext): EvaluatedModel | undefined {
  const chain = chains.resolve(decl);
  if (!chain) return undefined;
  const model = chain.model;
  // The model sees its own file's names; a variant written in another file also sees that
  // file's names, after the model's (its overrides may use the experiment's constants).
  const home = fileScopeOf(model);
  const own = fileScopeOf(decl);
  const scope = new Scope(home, `model ${model.name.text}`, own === home ? undefined : own);
  // Model parameters are constants with defaults that variants may override.
  for (const p of model.parameters) {
    if (scope.entries.has(p.name.text)) {
      ctx.sink.error('npas-name-duplicate', `parameter '${p.name.text}' is declared twice`, p.name.range);
      continue;
    }
    const value = p.defaultValue ?? { kind: 'Missing' as const, range: p.name.range };
    scope.entries.set(p.name.text, { kind: 'binding', binding: { kind: 'Binding', name: p.name, value, tiedTo: undefined, range: p.range }, state: 'pending', value: undefined });
  }
  declareMembers(model.members, scope, ctx, `model ${model.name.text}`);
  const statements: { statement: Statement; scope: Scope }[] = [];
  for (const m of model.members) if (m.kind === 'Statement') statements.push({ statement: m, scope });
  for (const statement of chain.statements) statements.push({ statement, scope });
  /** Binding currently defining each top-level name (overrides replace them). */
  const bindings = new Map<string, Binding>();
  for (const m of model.members) if (m.kind === 'Binding') bindings.set(m.name.text, m);
  for (const [name, o] of chain.overrides) {
    if (o.kind === 'block') scope.entries.set(name, { kind: 'block', decl: o.decl });
    else {
      scope.entries.set(name, { kind: 'binding', binding: o.binding, state: 'pending', value: undefined });
      if (bindings.has(name)) bindings.set(name, o.binding);
    }
  }

  const members: ModelMember[] = [];
  /** A member whose value was refused (an error already reported): the model is not known to be empty. */
  let refusedMember = false;
  for (const m of model.members) {
    if (m.kind !== 'Binding') continue;
    const binding = bindings.get(m.name.text) ?? m;
    const value = evaluate({ kind: 'Name', name: binding.name, range: binding.name.range }, scope, ctx);
    const node = value.kind === 'module' || value.kind === 'block' ? asModule(value, binding.value.range, ctx) : undefined;
    if (!node) {
      if (value.kind === 'error' || value.kind === 'module' || value.kind === 'block') refusedMember = true;
      if (binding.tiedTo) ctx.sink.error('npas-module-expected', `only a layer can be tied, '${binding.name.text}' is not one`, binding.tiedTo.range);
      continue;
    }
    members.push({ name: binding.name.text, node, range: binding.range, tiedTo: binding.tiedTo ?? m.tiedTo });
  }
  // A variant re-evaluates its base's members: the model's own evaluation reports them once.
  if (decl === model) checkRouterCells(members, ctx);
  // Parameters without defaults that no variant set.
  for (const p of model.parameters) {
    if (!p.defaultValue) {
      const e = scope.entries.get(p.name.text);
      if (e && e.kind === 'binding' && e.binding.value.kind === 'Missing' && decl === model) {
        ctx.sink.error('npas-block-arg', `model parameter '${p.name.text}' needs a default value`, p.name.range);
      }
    }
  }
  // A cascade otherwise: a refused stack would be followed by "has no layers" beside its error.
  if (members.length === 0 && !refusedMember && decl === model) ctx.sink.warning('npas-model-empty', `model ${model.name.text} has no layers`, model.name.range);
  return {
    name: decl.name.text,
    kind: decl.kind === 'Model' ? 'model' : 'variant',
    base: decl.kind === 'Variant' ? decl.base.text : undefined,
    declaration: decl,
    nameRange: decl.name.range,
    members,
    statements,
    scope,
  };
}
