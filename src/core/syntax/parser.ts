// The resilient recursive-descent parser of `.npas` files: the entry point `parse` and the
// top-level declarations (bindings, blocks, models, variants, budgets).
// Expressions live in parser-expressions.ts, bodies and statements in parser-statements.ts, and
// the cursor and recovery primitives in parser-base.ts.
// `parse` never throws and never hangs: every loop consumes a token or stops, nesting is capped
// (npas-syntax-too-deep), and whatever is malformed becomes a Missing node or an empty name next
// to exactly one reported error. Recovery rules are summarised in docs/grammar-notes.md.

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type {
  Binding,
  BlockDeclaration,
  BudgetDeclaration,
  Constraint,
  Identifier,
  ImportDeclaration,
  ModelDeclaration,
  Parameter,
  PlanDeclaration,
  SourceFile,
  StringLiteral,
  TopLevelItem,
  VariantDeclaration,
} from './syntax-tree.js';
import { isKeyword, isStatementKeyword } from './token.js';
import { MAX_DEPTH } from './parser-base.js';
import { StatementParser } from './parser-statements.js';

export interface ParseResult {
  readonly file: SourceFile;
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Parses a whole `.npas` file. Never throws; the tree is complete even for malformed input.
 * `base` is added to every offset (an imported file's slot on its compilation's line of
 * offsets, imports/source-set.ts); 0 for a file on its own.
 */
export function parse(text: string, base = 0): ParseResult {
  const parser = new Parser(text, base);
  const file = parser.parseFile();
  return { file, diagnostics: parser.diagnostics };
}

class Parser extends StatementParser {
  private readonly items: TopLevelItem[] = [];

  // File = { Item ( newline | ";" ) }
  parseFile(): SourceFile {
    try {
      this.parseItems();
    } catch (e: unknown) {
      // Defence in depth: the parser is designed not to throw, and the fuzz tests check that it
      // does not, but an editor must survive a bug too. What was parsed so far is kept.
      const at = this.current.start;
      if (e instanceof RangeError) {
        this.report('npas-syntax-too-deep', 'Input nested too deeply to analyse', { start: at, end: at });
      } else {
        // Not a syntax error, so not an `npas-syntax-*` code: the catalogue's code for engine bugs.
        const detail = e instanceof Error ? e.message : String(e);
        this.report('npas-internal-error', `Internal parser error (please report): ${detail}`, {
          start: at,
          end: at,
        });
      }
    }
    return { kind: 'SourceFile', items: this.items, range: { start: this.base, end: this.base + this.text.length } };
  }

  private parseItems(): void {
    while (!this.at('EOF')) {
      if (this.at(';')) {
        this.next();
        continue;
      }
      const before = this.pos;
      const scope = this.beginItem();
      const item = this.parseTopLevelItem();
      if (item !== undefined) this.items.push(item);
      const t = this.current;
      if (t.kind !== 'EOF' && t.kind !== ';' && !t.newlineBefore) {
        // Recovery: report the first stray token after the item, then resynchronise.
        this.error(
          'npas-syntax-unexpected-token',
          `Unexpected ${this.describeCurrent()}; expected a line break or ';' after the declaration`,
          { start: t.start, end: t.end },
        );
        this.syncTopLevel();
      }
      this.endItem(scope);
      // Progress guarantee: every iteration consumes at least one token.
      if (this.pos === before) this.syncTopLevel();
    }
  }

  // Item = Binding | Block | Model | Variant | Budget
  private parseTopLevelItem(): TopLevelItem | undefined {
    const t = this.current;
    switch (t.kind) {
      case 'model':
        return this.parseModel();
      case 'block':
        return this.parseBlock();
      case 'variant':
        return this.parseVariant();
      case 'budget':
        return this.parseBudget();
      case 'Identifier':
        // `plan Target {`: a contextual keyword (a binding may still be named `plan`).
        if (t.value === 'plan' && this.peek().kind === 'Identifier' && !this.peek().newlineBefore) return this.parsePlan();
        // `import "x"` and `from "x" import …`: contextual too, recognised by the string.
        if ((t.value === 'import' || t.value === 'from') && this.peek().kind === 'String' && !this.peek().newlineBefore) return this.parseImport();
        return this.parseBinding();
      default:
        break;
    }
    if (isKeyword(t.kind) && this.peek().kind === '=' && !this.peek().newlineBefore) {
      // Recovery: a keyword used as a constant's name is reported and the binding kept.
      return this.parseBinding();
    }
    // Recovery: report once and skip to the next declaration or line-starting binding.
    const message = isStatementKeyword(t.kind)
      ? `'${t.kind}' statements belong inside a model, block or variant`
      : `Unexpected ${this.describeCurrent()}; expected a declaration (model, block, variant, budget) or 'name = …'${this.continuationHint()}`;
    this.error('npas-syntax-unexpected-token', message, { start: t.start, end: t.end });
    this.syncTopLevel();
    return undefined;
  }

  // Block = "block" Name [ "(" Params ")" ] "{" { Member } "}"
  protected parseBlock(): BlockDeclaration | undefined {
    const start = this.current.start;
    if (this.depth >= MAX_DEPTH) {
      // Recovery: blocks nested absurdly deep are skipped whole, without recursion.
      this.error('npas-syntax-too-deep', `Blocks nested more than ${MAX_DEPTH} levels deep`, {
        start: this.current.start,
        end: this.current.end,
      });
      this.skipBracedDeclaration();
      return undefined;
    }
    this.next();
    const name = this.expectIdentifier('a block name');
    const parameters = this.parseOptionalParameters();
    this.depth++;
    const members = this.parseBody(() => this.parseMember(), `block '${name.text}'`);
    this.depth--;
    return { kind: 'Block', name, parameters, members, range: this.rangeFrom(start) };
  }

  // Model = "model" Name [ "(" Params ")" ] "{" { Member } "}"
  private parseModel(): ModelDeclaration {
    const start = this.current.start;
    this.next();
    const name = this.expectIdentifier('a model name');
    const parameters = this.parseOptionalParameters();
    const members = this.parseBody(() => this.parseMember(), `model '${name.text}'`);
    return { kind: 'Model', name, parameters, members, range: this.rangeFrom(start) };
  }

  // Variant = "variant" Name "of" Name "{" { Member } "}"
  private parseVariant(): VariantDeclaration {
    const start = this.current.start;
    this.next();
    const name = this.expectIdentifier('a variant name');
    let base: Identifier;
    if (this.accept('of')) {
      base = this.expectIdentifier('the name of the base model');
    } else if (this.at('Identifier') && !this.atLineBreak()) {
      // Recovery: `variant Small Base {` — the base is there, only `of` is missing.
      this.expected("'of'");
      base = this.identifierOf(this.next());
    } else {
      this.expected("'of' and the name of the base model");
      base = this.missingIdentifier();
    }
    const members = this.parseBody(() => this.parseMember(), `variant '${name.text}'`);
    return { kind: 'Variant', name, base, members, range: this.rangeFrom(start) };
  }

  // Budget = "budget" Name "{" { Constraint } "}"
  private parseBudget(): BudgetDeclaration {
    const start = this.current.start;
    this.next();
    const target = this.expectIdentifier('the name of a model or variant');
    const constraints = this.parseBody(() => this.parseConstraint(), `budget '${target.text}'`);
    return { kind: 'Budget', target, constraints, range: this.rangeFrom(start) };
  }

  // Plan = "plan" Name "{" { Name "=" Expr | Constraint } "}"
  private parsePlan(): PlanDeclaration {
    const start = this.current.start;
    const keyword = this.next();
    const target = this.expectIdentifier('the name of a model or variant');
    const settings: Binding[] = [];
    const constraints: Constraint[] = [];
    this.parseBody(() => {
      if (this.at('Identifier') && this.peek().kind === '=' && !this.peek().newlineBefore) settings.push(this.parseBinding());
      else {
        const c = this.parseConstraint();
        if (c) constraints.push(c);
      }
      return undefined;
    }, `plan '${target.text}'`);
    return { kind: 'Plan', keywordRange: { start: keyword.start, end: keyword.end }, target, settings, constraints, range: this.rangeFrom(start) };
  }

  // Import = "import" String | "from" String "import" Name { "," Name }
  private parseImport(): ImportDeclaration {
    const start = this.current.start;
    const keyword = this.next();
    const pathToken = this.next();
    const path: StringLiteral = { kind: 'String', value: pathToken.value, range: { start: pathToken.start, end: pathToken.end } };
    let names: Identifier[] | undefined;
    if (keyword.value === 'from') {
      names = [];
      if (this.at('Identifier') && this.current.value === 'import' && !this.atLineBreak()) {
        this.next();
        do names.push(this.expectIdentifier('a name to import'));
        while (!this.atLineBreak() && this.accept(','));
      } else this.expected("'import' and the names to import");
    }
    return { kind: 'Import', keywordRange: { start: keyword.start, end: keyword.end }, path, names, range: this.rangeFrom(start) };
  }

  // Params = "(" [ Param { "," Param } [ "," ] ] ")"
  private parseOptionalParameters(): Parameter[] {
    if (!this.at('(') || this.atLineBreak()) return [];
    const errorsAtOpen = this.errorEvents;
    const savedBrackets = this.bracketDepth;
    this.bracketDepth = savedBrackets + 1;
    this.next();
    // `name = default` is the normal form of a parameter, so a line starting that way is not a
    // sign of a missing `)` here.
    const parameters = this.parseSeparated(')', () => this.parseParameter(), true);
    this.closeBracket(')', errorsAtOpen, true);
    this.bracketDepth = savedBrackets;
    return parameters;
  }

  // Param = Name [ "=" Expr ]
  private parseParameter(): Parameter {
    const start = this.current.start;
    const name = this.expectIdentifier('a parameter name');
    const defaultValue = this.accept('=') ? this.parseExpression() : undefined;
    return { kind: 'Parameter', name, defaultValue, range: this.rangeCovering(start, name) };
  }

  /** Recovery for too-deep blocks: skips from the keyword through its balanced braces. */
  private skipBracedDeclaration(): void {
    let braces = 0;
    for (;;) {
      const kind = this.current.kind;
      // The enclosing body's `}` is left for the enclosing body.
      if (kind === 'EOF' || (kind === '}' && braces === 0)) return;
      this.next();
      if (kind === '{') braces++;
      else if (kind === '}' && --braces === 0) return;
    }
  }
}
