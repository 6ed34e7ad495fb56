// Bodies and what goes in them: bindings, nested blocks' members, sharing and training
// statements, and budget constraints. A body is a brace-delimited sequence of items separated by
// line breaks or `;`; a broken item is reported once and skipped to the next line (see
// docs/grammar-notes.md, "Parser error recovery").

import type {
  Argument,
  Binding,
  ComparisonOperator,
  Constraint,
  Expression,
  Identifier,
  Member,
  Path,
  Statement,
  StatementKeyword,
} from './syntax-tree.js';
import { PRECISION_MODIFIERS, isKeyword, isShareModifier, isStatementKeyword, isTopLevelOnlyKeyword, type TokenKind } from './token.js';
import { ExpressionParser } from './parser-expressions.js';

const CONSTRAINT_OPS: ReadonlySet<TokenKind> = new Set<TokenKind>(['<=', '<', '>=', '>', '==']);

export abstract class StatementParser extends ExpressionParser {
  /** Parses a nested `block` declaration; provided by the declaration layer (parser.ts). */
  protected abstract parseBlock(): Member | undefined;

  // Body = "{" { Item ( newline | ";" ) } "}"
  /**
   * Parses a braced body with `parseItem` for each item. `owner` names the declaration for the
   * message about a missing `}`.
   * Recovery: a missing `{` is reported and the items are parsed anyway (and then a missing `}`
   * is not reported again); a `model`, `variant` or `budget` keyword, which cannot be nested,
   * ends the body early, so a missing `}` costs one error at the end of the body's last token.
   */
  protected parseBody<T>(parseItem: () => T | undefined, owner: string): T[] {
    const items: T[] = [];
    let braced = true;
    if (this.at('{')) {
      this.next();
    } else {
      braced = false;
      this.expected("'{'");
      // Recovery: if a member evidently follows on the same line (`model M x = 1`), parse from
      // there; otherwise skip the rest of the declaration's line, up to a `{` if there is one.
      if (!this.atSameLineMember()) {
        while (!this.atLineBreak() && !this.at('{') && !this.at('}')) this.next();
        if (this.at('{')) {
          this.next();
          braced = true;
        }
      }
    }
    this.skippedToLine = false;
    for (;;) {
      const kind = this.current.kind;
      if (kind === 'EOF' || isTopLevelOnlyKeyword(kind)) break;
      if (kind === '}') {
        this.next();
        return items;
      }
      if (kind === ';') {
        this.next();
        continue;
      }
      const before = this.pos;
      const scope = this.beginItem();
      const continuation = this.skippedToLine;
      this.skippedToLine = false;
      if (continuation && !this.atMemberStart() && !this.at('{')) {
        // Recovery: a continuation line of a broken member (see skippedToLine) is skipped silently.
        this.syncMember();
        this.endItem(scope);
        continue;
      }
      const item = parseItem();
      if (item !== undefined) items.push(item);
      this.expectItemEnd();
      this.endItem(scope);
      // Progress guarantee: an item that consumed nothing is skipped (its error was reported).
      if (this.pos === before) this.syncMember();
      if (this.pos === before && !this.at('}') && !this.at('EOF')) this.next();
    }
    if (braced) {
      const at = this.prevEnd;
      this.error('npas-syntax-expected', `Expected '}' to close ${owner}`, { start: at, end: at });
    }
    return items;
  }

  /** Whether the current token can begin a member or a constraint: a name, `block` or a statement keyword. */
  protected atMemberStart(): boolean {
    const kind = this.current.kind;
    return kind === 'Identifier' || kind === 'block' || isStatementKeyword(kind);
  }

  /** Whether an unmistakable member or constraint starts here: a statement, `name =`, `metric.…`, `metric <=`. */
  private atSameLineMember(): boolean {
    if (this.atLineBreak()) return false;
    if (isStatementKeyword(this.current.kind)) return true;
    if (!this.at('Identifier')) return false;
    const next = this.peek().kind;
    return next === '=' || next === '.' || CONSTRAINT_OPS.has(next);
  }

  /** After an item: the line must end, or a `;` or the body's `}` must follow. */
  protected expectItemEnd(): void {
    const t = this.current;
    if (t.kind === 'EOF' || t.kind === '}' || t.kind === ';' || t.newlineBefore) return;
    // Recovery: report the first stray token and skip the rest of the line.
    this.error(
      'npas-syntax-unexpected-token',
      `Unexpected ${this.describeCurrent()}; expected a line break or ';' after the member`,
      { start: t.start, end: t.end },
    );
    this.syncMember();
  }

  // Member = Binding | Block | Statement
  protected parseMember(): Member | undefined {
    const t = this.current;
    if (t.kind === 'Identifier') return this.parseBinding();
    if (t.kind === 'block') return this.parseBlock();
    if (isKeyword(t.kind) && this.peek().kind === '=' && !this.peek().newlineBefore) {
      // Recovery: `train = 3` — a keyword used as a binding name; report it, keep the binding.
      return this.parseBinding();
    }
    if (isStatementKeyword(t.kind)) return this.parseStatement();
    if (t.kind === '{') {
      // Recovery: a stray `{` is dropped alone; skipping to a matching `}` would eat the body's.
      this.error('npas-syntax-unexpected-token', `Unexpected '{'; expected a binding 'name = …', a block or a statement`, {
        start: t.start,
        end: t.end,
      });
      this.next();
      return undefined;
    }
    // Recovery: report once; the body loop skips to the next line.
    this.error(
      'npas-syntax-unexpected-token',
      `Unexpected ${this.describeCurrent()}; expected a binding 'name = …', a block or a statement${this.continuationHint()}`,
      { start: t.start, end: t.end },
    );
    this.syncMember();
    return undefined;
  }

  // Binding = Name "=" Expr [ "tied" Path ]
  protected parseBinding(): Binding {
    const start = this.current.start;
    const nameToken = this.next();
    if (nameToken.kind !== 'Identifier') {
      this.error(
        'npas-syntax-unexpected-token',
        `'${nameToken.kind}' is a reserved keyword and cannot name a binding`,
        { start: nameToken.start, end: nameToken.end },
      );
    }
    const name: Identifier = this.identifierOf(nameToken);
    let value: Expression;
    if (this.acceptSeparator('=', ':')) {
      value = this.parseExpression();
    } else {
      // Recovery: without `=`, what follows is not trusted to be the value; the line is skipped.
      this.expected(`'=' after '${name.text}'`);
      value = this.missing();
    }
    let tiedTo: Path | undefined;
    if (this.accept('tied')) tiedTo = this.parsePath();
    return { kind: 'Binding', name, value, tiedTo, range: this.rangeFrom(start) };
  }

  /**
   * Consumes `expected` on the same line. Recovery: a commonly confused separator in its place
   * (`:` for `=`, `=` for `:`, `==` for `=`) is reported and consumed as if it were right.
   */
  protected acceptSeparator(expected: '=' | ':', confusable: '=' | ':'): boolean {
    if (this.accept(expected)) return true;
    const t = this.current;
    if (!this.atLineBreak() && (t.kind === confusable || (expected === '=' && t.kind === '=='))) {
      this.error('npas-syntax-expected', `Expected '${expected}', found '${t.kind}'`, { start: t.start, end: t.end });
      this.next();
      return true;
    }
    return false;
  }

  // Statement = "share" [ "kv" | "heads" ] PathList ":" Expr [ "relax" Expr ]
  //           | "tie" Path "=" Path
  //           | ( "adapt" | "hash" | "dict" | "factorize" | "smash" ) PathList ":" Expr
  //           | "bank" Name "=" PathList ":" Expr
  //           | "route" Path ":" Expr
  //           | ( "freeze" | "train" ) PathList
  //           | ( "allocate" | "precision" ) Arg { "," Arg } [ "," ]
  //           | "precision" "weights" PathList ":" Expr
  //           | "param" Expr
  //           | "parallel" Expr
  //           | "max_context" Expr
  protected parseStatement(): Statement {
    const start = this.current.start;
    const keywordToken = this.next();
    const keyword = keywordToken.kind as StatementKeyword;
    let modifier: Identifier | undefined;
    let label: Identifier | undefined;
    let targets: Path[] = [];
    let source: Path | undefined;
    let value: Expression | undefined;
    let relax: Expression | undefined;
    let args: Argument[] = [];
    switch (keyword) {
      case 'share': {
        // `kv`/`heads`/`experts` is a modifier only when a path follows it: `share kv: all` shares `kv`.
        const t = this.current;
        const after = this.peek();
        if (
          t.kind === 'Identifier' && isShareModifier(t.value) && !this.atLineBreak() &&
          after.kind === 'Identifier' && !after.newlineBefore
        ) {
          modifier = this.identifierOf(this.next());
        }
        targets = this.parsePathList(true);
        value = this.parseColonValue();
        if (this.accept('relax')) relax = this.parseExpression();
        break;
      }
      case 'tie':
        targets = [this.parsePath()];
        if (!this.acceptSeparator('=', ':')) this.expected("'='");
        source = this.parsePath();
        break;
      case 'bank':
        label = this.expectIdentifier('a bank name');
        if (!this.acceptSeparator('=', ':')) this.expected("'='");
        targets = this.parsePathList(true);
        value = this.parseColonValue();
        break;
      case 'route':
        targets = [this.parsePath()];
        value = this.parseColonValue();
        break;
      case 'freeze':
        targets = this.parsePathList(false);
        break;
      case 'train':
        // `train PATHS` or `train PATHS: sparse(elements: k)` (a pooled sparse mask, FISH).
        targets = this.parsePathList(false);
        if (this.at(':') && !this.atLineBreak()) value = this.parseColonValue();
        break;
      case 'precision': {
        // `precision weights PATHS: dtype` when a path follows `weights` on the line; else the
        // per-class form `precision weights: bf16, experts: mxfp4`.
        const t = this.current;
        const after = this.peek();
        if (t.kind === 'Identifier' && (PRECISION_MODIFIERS as readonly string[]).includes(t.value) && !this.atLineBreak() && after.kind === 'Identifier' && !after.newlineBefore) {
          modifier = this.identifierOf(this.next());
          targets = this.parsePathList(true);
          value = this.parseColonValue();
        } else args = this.parseBareArguments();
        break;
      }
      case 'allocate':
        args = this.parseBareArguments();
        break;
      case 'param':
      case 'parallel':
      case 'max_context':
        // `param mup(base_width: 256)`, `parallel streams(8, prefix: 48)`, `parallel 4`: the
        // value follows the keyword directly.
        value = this.parseExpression();
        break;
      default:
        // adapt, hash, dict, factorize, smash
        targets = this.parsePathList(true);
        value = this.parseColonValue();
    }
    return {
      kind: 'Statement',
      keyword,
      keywordRange: { start: keywordToken.start, end: keywordToken.end },
      modifier,
      label,
      targets,
      source,
      value,
      relax,
      args,
      range: this.rangeFrom(start),
    };
  }

  // PathList = Path { "," Path }
  /**
   * Recovery: a name right after a path on the same line is taken as the next path with a
   * missing comma, except when a value follows the list and no `:` appears later on the line
   * (then the name is the value and the `:` is what is missing: `share body cycle(9)`).
   */
  private parsePathList(valueFollows: boolean): Path[] {
    const paths = [this.parsePath()];
    let colonLater: boolean | undefined;
    for (;;) {
      if (this.accept(',')) {
        paths.push(this.parsePath());
        continue;
      }
      if (!this.at('Identifier') || this.atLineBreak()) return paths;
      if (valueFollows) {
        colonLater ??= this.colonLaterOnLine();
        if (!colonLater) return paths;
      }
      this.error('npas-syntax-expected', `Expected ',' between paths, found ${this.describeCurrent()}`, {
        start: this.current.start,
        end: this.current.end,
      });
      paths.push(this.parsePath());
    }
  }

  /** Whether a `:` occurs between the cursor and the end of the line (a bounded look-ahead). */
  private colonLaterOnLine(): boolean {
    // Only a `:` outside brackets counts: the one in `lora(rank: 64)` belongs to an argument.
    let nest = 0;
    for (let i = 0; ; i++) {
      const t = i === 0 ? this.current : this.peek(i);
      if (t.kind === 'EOF' || t.kind === ';' || t.kind === '}' || (i > 0 && t.newlineBefore)) return false;
      if (t.kind === '(' || t.kind === '[') nest++;
      else if (t.kind === ')' || t.kind === ']') nest--;
      else if (t.kind === ':' && nest === 0) return true;
    }
  }

  // ColonValue = ":" ( Expr | "tied" )
  /**
   * `":" Expr` ending a statement. The strategy `tied` (`share kv body: tied`) is a keyword, so
   * it is accepted here as the name `tied`.
   * Recovery: a missing `:` is reported and the value is still parsed if one follows on the line.
   */
  private parseColonValue(): Expression {
    if (!this.acceptSeparator(':', '=')) this.expected("':'");
    const t = this.current;
    if (t.kind === 'tied' && !this.atLineBreak()) {
      this.next();
      const name: Identifier = { kind: 'Identifier', text: 'tied', range: { start: t.start, end: t.end } };
      return { kind: 'Name', name, range: name.range };
    }
    return this.parseExpression();
  }

  // BareArgs = Arg { "," Arg } [ "," ]      (on one line, without parentheses: `allocate params: 1M`)
  private parseBareArguments(): Argument[] {
    const args: Argument[] = [];
    if (this.atLineBreak() || this.at(';') || this.at('}')) {
      this.expected('allocation arguments such as \'params: 3.65M\'');
      return args;
    }
    for (;;) {
      args.push(this.parseArgument());
      if (this.accept(',')) {
        if (this.atLineBreak() || this.at(';') || this.at('}')) return args;
        continue;
      }
      if (!this.canStartExpression()) return args;
      // Recovery: two arguments with no comma between them; assume the comma.
      this.error('npas-syntax-expected', `Expected ',' between arguments, found ${this.describeCurrent()}`, {
        start: this.current.start,
        end: this.current.end,
      });
    }
  }

  // Constraint = Name { "." ( Name | Keyword ) } [ "(" Args ")" ] ( "<=" | "<" | ">=" | ">" | "==" ) Expr
  /**
   * Recovery: a missing or invalid comparison (`=`, `!=`) is reported, `<=` is assumed (or `==`
   * for `=`) and the limit is still parsed, so the constraint keeps its place in the tree.
   */
  protected parseConstraint(): Constraint | undefined {
    if (this.at('{')) {
      // Recovery: a stray `{` is dropped alone (see parseMember).
      this.error('npas-syntax-unexpected-token', `Unexpected '{'; expected a constraint`, {
        start: this.current.start,
        end: this.current.end,
      });
      this.next();
      return undefined;
    }
    if (!this.at('Identifier')) {
      this.error(
        'npas-syntax-unexpected-token',
        `Unexpected ${this.describeCurrent()}; expected a constraint such as 'params.stored <= 1.2B'`,
        { start: this.current.start, end: this.current.end },
      );
      this.syncMember();
      return undefined;
    }
    const start = this.current.start;
    const metric: Identifier[] = [this.identifierOf(this.next())];
    while (this.accept('.')) {
      // Metric names such as `flops.train` and `memory.train` use keywords after the dot, where a
      // keyword could not mean anything else, so any keyword is taken as a name there.
      const t = this.current;
      if (isKeyword(t.kind) && !this.atLineBreak()) metric.push(this.identifierOf(this.next()));
      else metric.push(this.expectIdentifier('a metric name'));
    }
    let args: Argument[] = [];
    if (this.at('(') && !this.atLineBreak()) {
      this.lineStartEndsLists = true;
      args = this.parseArgumentList().args;
      this.lineStartEndsLists = false;
    }
    let operator: ComparisonOperator = '<=';
    const t = this.current;
    if (CONSTRAINT_OPS.has(t.kind) && !this.atLineBreak()) {
      operator = t.kind as ComparisonOperator;
      this.next();
    } else {
      this.expected('a comparison (<=, <, >=, > or ==)');
      if ((t.kind === '=' || t.kind === '!=') && !this.atLineBreak()) {
        if (t.kind === '=') operator = '==';
        this.next();
      }
    }
    const limit = this.parseExpression();
    return { kind: 'Constraint', metric, args, operator, limit, range: this.rangeFrom(start) };
  }
}
