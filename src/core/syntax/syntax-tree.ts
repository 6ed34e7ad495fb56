// The syntax tree of a `.npas` file: plain immutable data with source offsets.
// Every node carries a `range` of UTF-16 offsets into the source text (`start` inclusive,
// `end` exclusive), so diagnostics, hovers and go-to-definition can point at exact spans.
// The parser always returns a complete tree: missing pieces become `Missing` expressions or
// empty names (with an error reported), never `undefined` holes that crash later stages.

import type { StatementKeywordKind } from './token.js';

/** A half-open span of UTF-16 code-unit offsets into the source text. */
export interface TextRange {
  readonly start: number;
  readonly end: number;
}

/** A name as written, with its own range (for go-to-definition and rename). */
export interface Identifier {
  readonly kind: 'Identifier';
  readonly text: string;
  readonly range: TextRange;
}

// ---------------------------------------------------------------------------------------------
// Expressions
// ---------------------------------------------------------------------------------------------

/**
 * A numeric literal, kept as its source spelling so evaluation stays exact.
 * `digits` is the mantissa without `_` separators (`"1.2"`, `"256000"`, `"1e-5"`); `suffix` is the
 * magnitude or unit written right after it (`"B"`, `"K"`, `"Ki"`, `"MiB"`, `"ms"`, `""`).
 */
export interface NumberLiteral {
  readonly kind: 'Number';
  readonly digits: string;
  readonly suffix: string;
  readonly range: TextRange;
}

export interface StringLiteral {
  readonly kind: 'String';
  readonly value: string;
  readonly range: TextRange;
}

export interface BooleanLiteral {
  readonly kind: 'Boolean';
  readonly value: boolean;
  readonly range: TextRange;
}

/** The `none` literal: an absent optional value (e.g. `window: none`). */
export interface NoneLiteral {
  readonly kind: 'None';
  readonly range: TextRange;
}

/** A bare name: a constant, block, layer kind, parameter, builtin enum value (`bf16`, `gelu`). */
export interface NameExpression {
  readonly kind: 'Name';
  readonly name: Identifier;
  readonly range: TextRange;
}

export type BinaryOperator =
  | '+' | '-' | '*' | '/' | '//' | '%' | '**'
  | '==' | '!=' | '<' | '<=' | '>' | '>='
  | 'and' | 'or';

export interface BinaryExpression {
  readonly kind: 'Binary';
  readonly operator: BinaryOperator;
  readonly operatorRange: TextRange;
  readonly left: Expression;
  readonly right: Expression;
  readonly range: TextRange;
}

export interface UnaryExpression {
  readonly kind: 'Unary';
  readonly operator: '-' | 'not';
  readonly operand: Expression;
  readonly range: TextRange;
}

/** `if cond then a else b` */
export interface ConditionalExpression {
  readonly kind: 'Conditional';
  readonly condition: Expression;
  readonly whenTrue: Expression;
  readonly whenFalse: Expression;
  readonly range: TextRange;
}

/** One argument of a call: positional (`name` absent) or named (`heads: 8`). */
export interface Argument {
  readonly kind: 'Argument';
  readonly name: Identifier | undefined;
  readonly value: Expression;
  readonly range: TextRange;
}

/** `callee(args)`: a layer constructor, a block instantiation, or a builtin function. */
export interface CallExpression {
  readonly kind: 'Call';
  readonly callee: Expression;
  readonly args: readonly Argument[];
  /** Range of the parenthesised argument list, `(` through `)`. */
  readonly argsRange: TextRange;
  readonly range: TextRange;
}

/** `object.member` */
export interface MemberExpression {
  readonly kind: 'Member';
  readonly object: Expression;
  readonly member: Identifier;
  readonly range: TextRange;
}

/** `object[index]` */
export interface IndexExpression {
  readonly kind: 'Index';
  readonly object: Expression;
  readonly index: Expression;
  readonly range: TextRange;
}

/** `[a, b, c]` */
export interface ListExpression {
  readonly kind: 'List';
  readonly elements: readonly Expression[];
  readonly range: TextRange;
}

/**
 * `[body for i in 0..n]` or `[body for i in n]` (the latter means `0..n`).
 * `from` is absent for the single-bound form; bounds are half-open like Python's `range`.
 */
export interface ComprehensionExpression {
  readonly kind: 'Comprehension';
  readonly body: Expression;
  readonly variable: Identifier;
  readonly from: Expression | undefined;
  readonly to: Expression;
  readonly range: TextRange;
}

/** A placeholder where an expression was required but none could be parsed (an error was reported). */
export interface MissingExpression {
  readonly kind: 'Missing';
  readonly range: TextRange;
}

export type Expression =
  | NumberLiteral
  | StringLiteral
  | BooleanLiteral
  | NoneLiteral
  | NameExpression
  | BinaryExpression
  | UnaryExpression
  | ConditionalExpression
  | CallExpression
  | MemberExpression
  | IndexExpression
  | ListExpression
  | ComprehensionExpression
  | MissingExpression;

// ---------------------------------------------------------------------------------------------
// Paths (targets of sharing statements and `tied`)
// ---------------------------------------------------------------------------------------------

/** One step of a path: `.name` or `[index]`. The first segment is always a name. */
export type PathSegment =
  | { readonly kind: 'PathName'; readonly name: Identifier; readonly range: TextRange }
  | { readonly kind: 'PathIndex'; readonly index: Expression; readonly range: TextRange };

/** `body`, `body.attn`, `body[3].mlp.up`, `encoder.layers` */
export interface Path {
  readonly kind: 'Path';
  readonly segments: readonly PathSegment[];
  readonly range: TextRange;
}

// ---------------------------------------------------------------------------------------------
// Declarations
// ---------------------------------------------------------------------------------------------

/** A formal parameter of a model or block: `name` or `name = default`. */
export interface Parameter {
  readonly kind: 'Parameter';
  readonly name: Identifier;
  readonly defaultValue: Expression | undefined;
  readonly range: TextRange;
}

/**
 * `name = expr [tied path]` inside a model, block or variant, or at top level (a constant).
 * Whether it is a constant, a layer, a block instance or a stack is decided by evaluation.
 */
export interface Binding {
  readonly kind: 'Binding';
  readonly name: Identifier;
  readonly value: Expression;
  /** `tied embed`: this layer's weight is the same store as the weight at that path. */
  readonly tiedTo: Path | undefined;
  readonly range: TextRange;
}

/** `block Name(params) { members }` */
export interface BlockDeclaration {
  readonly kind: 'Block';
  readonly name: Identifier;
  readonly parameters: readonly Parameter[];
  readonly members: readonly Member[];
  readonly range: TextRange;
}

/** `model Name(params) { members }` */
export interface ModelDeclaration {
  readonly kind: 'Model';
  readonly name: Identifier;
  readonly parameters: readonly Parameter[];
  readonly members: readonly Member[];
  readonly range: TextRange;
}

/** `variant Name of Base { bindings and statements }` — Base is a model or another variant. */
export interface VariantDeclaration {
  readonly kind: 'Variant';
  readonly name: Identifier;
  readonly base: Identifier;
  readonly members: readonly Member[];
  readonly range: TextRange;
}

/** `budget Target { constraints }` — Target is a model or a variant. */
export interface BudgetDeclaration {
  readonly kind: 'Budget';
  readonly target: Identifier;
  readonly constraints: readonly Constraint[];
  readonly range: TextRange;
}

/**
 * `plan Target { settings and constraints }` (docs/plans.md): a training plan of a model or
 * variant (`gpus = 8`, `tp = 2`, `recompute = full`, …) and the budgets it must meet
 * (`memory.per_gpu <= 80GB`, `step <= 2s`, `mfu >= 0.4`). `plan` is a keyword only here: at the
 * start of a top-level declaration followed by a name.
 */
export interface PlanDeclaration {
  readonly kind: 'Plan';
  readonly keywordRange: TextRange;
  readonly target: Identifier;
  readonly settings: readonly Binding[];
  readonly constraints: readonly Constraint[];
  readonly range: TextRange;
}

export type ComparisonOperator = '<=' | '<' | '>=' | '>' | '==';

/**
 * `metric op limit`, e.g. `params.stored <= 1.2B` or `kv(seq: 8K, batch: 1, dtype: bf16) <= 128MiB`.
 * `metric` is the dotted name (`["params", "stored"]`), `args` its optional argument list.
 */
export interface Constraint {
  readonly kind: 'Constraint';
  readonly metric: readonly Identifier[];
  readonly args: readonly Argument[];
  readonly operator: ComparisonOperator;
  readonly limit: Expression;
  readonly range: TextRange;
}

/**
 * The statement keywords. Each is a sharing or training declaration interpreted by
 * `sharing/` (see docs/language.md, "Sharing"):
 * - `share [kv|heads] targets: strategy [relax adapter]`
 * - `tie target = source`
 * - `adapt targets: lora(...) | vblora(...) | mos(...) | aslora(...) | tied_lora(...)`
 * - `hash targets: roast(...) | rps(...)`
 * - `bank name = targets: ssn(...)`  (SSN template bank)
 * - `dict targets: masa(...)`
 * - `route target: mor(...)`
 * - `freeze targets` / `train targets`
 * - `allocate args` (an NPAS allocation request)
 * - `param scheme(args)` (a parameterisation: μP, u-μP, CompleteP, …; see parameterization/)
 */
export type StatementKeyword = StatementKeywordKind;

/**
 * A sharing/training statement. Its shape is uniform so that the parser stays small and the
 * semantic layer owns the meaning:
 * `keyword [modifier] [label =] targets [":" value] ["relax" relax]`
 * - `modifier`: `kv` or `heads` after `share`;
 * - `label`: the bank name in `bank g1 = a, b: ssn(...)`;
 * - for `tie a = b`, `targets` is `[a]` and `source` is `b`;
 * - for `allocate`, `targets` is empty and `args` holds the request;
 * - for `param`, `targets` is empty and `value` is the scheme call (`mup(base_width: 256)`).
 */
export interface Statement {
  readonly kind: 'Statement';
  readonly keyword: StatementKeyword;
  readonly keywordRange: TextRange;
  readonly modifier: Identifier | undefined;
  readonly label: Identifier | undefined;
  readonly targets: readonly Path[];
  readonly source: Path | undefined;
  readonly value: Expression | undefined;
  readonly relax: Expression | undefined;
  readonly args: readonly Argument[];
  readonly range: TextRange;
}

export type Member = Binding | BlockDeclaration | Statement;

/**
 * `import "lib.npas"` (every name the file declares or imports) or
 * `from "lib.npas" import Decoder, d` (only those names): another file's constants, blocks,
 * models and variants made visible in this one (docs/language.md, "Imports"). The path is
 * relative to the importing file. `import` and `from` are keywords only here: at the start of a
 * top-level declaration followed by a string.
 */
export interface ImportDeclaration {
  readonly kind: 'Import';
  readonly keywordRange: TextRange;
  /** The file, as written (`value` is the path, `range` covers the quotes). */
  readonly path: StringLiteral;
  /** The names a selective import lists; undefined for a whole-file import. */
  readonly names: readonly Identifier[] | undefined;
  readonly range: TextRange;
}

export type TopLevelItem =
  | ImportDeclaration
  | Binding
  | BlockDeclaration
  | ModelDeclaration
  | VariantDeclaration
  | BudgetDeclaration
  | PlanDeclaration;

/** The root: every top-level item in source order. */
export interface SourceFile {
  readonly kind: 'SourceFile';
  readonly items: readonly TopLevelItem[];
  readonly range: TextRange;
}

export type SyntaxNode =
  | SourceFile
  | TopLevelItem
  | Member
  | Expression
  | Argument
  | Parameter
  | Constraint
  | Path
  | Identifier;
