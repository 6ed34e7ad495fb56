// Expressions, argument lists and paths of the `.npas` grammar.
// Precedence, lowest first: `if … then … else`, `or`, `and`, `not`, comparisons (not chained),
// `+ -`, `* / // %`, unary `-`, `**` (right associative), then call, member and index.
// Outside brackets an operator that starts a new line does not continue the expression, so
// members written one per line need no separator. Every function returns a node, never
// undefined: a missing operand becomes a Missing expression after one reported error.

import type {
  Argument,
  BinaryOperator,
  Expression,
  Identifier,
  ListExpression,
  Path,
  PathSegment,
  TextRange,
} from './syntax-tree.js';
import { STATEMENT_KEYWORDS, type TokenKind } from './token.js';
import { MAX_DEPTH, ParserBase } from './parser-base.js';

// Binding powers of the infix operators (higher binds tighter). Prefix `not` parses its operand
// at NOT_BP and prefix `-` at UNARY_BP, which places them in the precedence table of
// docs/language.md: `not a == b` is `not (a == b)` and `-2 ** 2` is `-(2 ** 2)`.
const OR_BP = 1;
const AND_BP = 2;
const NOT_BP = 3;
const COMPARISON_BP = 4;
const ADDITIVE_BP = 5;
const MULTIPLICATIVE_BP = 6;
const UNARY_BP = 7;
const POWER_BP = 8;

/** The binding power of a token used as an infix operator, or 0 if it is not one. */
function infixPower(kind: TokenKind): number {
  switch (kind) {
    case 'or':
      return OR_BP;
    case 'and':
      return AND_BP;
    case '==':
    case '!=':
    case '<':
    case '<=':
    case '>':
    case '>=':
      return COMPARISON_BP;
    case '+':
    case '-':
      return ADDITIVE_BP;
    case '*':
    case '/':
    case '//':
    case '%':
      return MULTIPLICATIVE_BP;
    case '**':
      return POWER_BP;
    default:
      return 0;
  }
}

/** Keywords accepted (with an error) where a name is expected, because they plausibly were meant as one. */
const KEYWORDS_USABLE_AS_NAMES: ReadonlySet<TokenKind> = new Set<TokenKind>([...STATEMENT_KEYWORDS, 'true', 'false', 'none']);

export abstract class ExpressionParser extends ParserBase {
  /** Whether the current token can begin an expression (and so an omitted separator can be assumed). */
  protected canStartExpression(): boolean {
    switch (this.current.kind) {
      case 'Number':
      case 'String':
      case 'Identifier':
      case 'true':
      case 'false':
      case 'none':
      case '(':
      case '[':
      case '-':
      case 'not':
      case 'if':
        return !this.atLineBreak();
      default:
        return false;
    }
  }

  // Expr = Conditional | Operand { InfixOperator Operand }      (by binding power, see above)
  protected parseExpression(): Expression {
    return this.parseBinary(0);
  }

  // Conditional = "if" Expr "then" Expr "else" Expr
  private parseConditional(): Expression {
    const start = this.current.start;
    this.next();
    // Until `else`, the conditional behaves like a bracket: a line break cannot end the member
    // there, so `then` and `else` may start continuation lines.
    const savedBrackets = this.bracketDepth;
    this.bracketDepth = savedBrackets + 1;
    const condition = this.parseExpression();
    if (!this.accept('then')) this.expected("'then'");
    const whenTrue = this.parseExpression();
    if (!this.accept('else')) this.expected("'else'");
    this.bracketDepth = savedBrackets;
    const whenFalse = this.parseExpression();
    return { kind: 'Conditional', condition, whenTrue, whenFalse, range: this.rangeFrom(start) };
  }

  // Or = And { "or" And }            And = Not { "and" Not }        Not = "not" Not | Comparison
  // Comparison = Additive [ ("==" | "!=" | "<" | "<=" | ">" | ">=") Additive ]
  // Additive = Multiplicative { ("+" | "-") Multiplicative }
  // Multiplicative = Unary { ("*" | "/" | "//" | "%") Unary }
  // Unary = "-" Unary | Power          Power = Postfix [ "**" Unary ]   (right associative)
  /**
   * Precedence climbing over the productions above: parses an operand, then every infix operator
   * that binds tighter than `minPower`. One loop replaces a function per level, which keeps the
   * call depth per operand small (this is the parser's hottest path).
   */
  private parseBinary(minPower: number): Expression {
    if (this.depth >= MAX_DEPTH) return this.tooDeep();
    const savedDepth = this.depth;
    const savedChained = this.chainedOperators;
    this.depth++;
    const start = this.current.start;
    let left = this.parsePrefix();
    let comparisons = 0;
    for (;;) {
      const power = infixPower(this.current.kind);
      if (power <= minPower || this.atLineBreak()) break;
      const operator = this.next();
      if (power === COMPARISON_BP && ++comparisons === 2) {
        // Recovery: `a < b < c` is reported once and then read left to right, keeping the tree whole.
        this.error(
          'npas-syntax-unexpected-token',
          `Comparisons cannot be chained; combine them with 'and'`,
          { start: operator.start, end: operator.end },
        );
      }
      // Each chained operator deepens the tree (left-leaning), so it counts towards MAX_DEPTH.
      this.depth++;
      this.chainedOperators++;
      // `**` is right associative: its right operand may itself contain `**`.
      const right = this.parseBinary(power === POWER_BP ? POWER_BP - 1 : power);
      left = {
        kind: 'Binary',
        operator: operator.kind as BinaryOperator,
        operatorRange: { start: operator.start, end: operator.end },
        left,
        right,
        range: this.rangeCovering(start, left),
      };
    }
    this.depth = savedDepth;
    this.chainedOperators = savedChained;
    return left;
  }

  // Prefix = "not" Operand(NOT_BP) | "-" Operand(UNARY_BP) | Postfix
  /** An operand with its prefix operators: `not x`, `-x`, or a postfix expression. */
  private parsePrefix(): Expression {
    const kind = this.current.kind;
    if ((kind !== '-' && kind !== 'not') || this.atLineBreak()) return this.parsePostfix();
    const start = this.current.start;
    this.next();
    const operand = this.parseBinary(kind === 'not' ? NOT_BP : UNARY_BP);
    return { kind: 'Unary', operator: kind, operand, range: this.rangeFrom(start) };
  }

  // Postfix = Primary { "(" Args ")" | "." Name | "[" Expr "]" }
  private parsePostfix(): Expression {
    const start = this.current.start;
    let object = this.parsePrimary();
    const savedDepth = this.depth;
    while (!this.atLineBreak()) {
      const kind = this.current.kind;
      if (kind !== '(' && kind !== '.' && kind !== '[') break;
      if (this.depth >= MAX_DEPTH) {
        this.tooDeep();
        break;
      }
      this.depth++;
      if (kind === '(') {
        const { args, argsRange } = this.parseArgumentList();
        object = { kind: 'Call', callee: object, args, argsRange, range: this.rangeCovering(start, object) };
      } else if (kind === '.') {
        this.next();
        const member = this.expectIdentifier('a member name after \'.\'');
        object = { kind: 'Member', object, member, range: this.rangeCovering(start, object) };
      } else {
        const index = this.parseBracketedIndex();
        object = { kind: 'Index', object, index, range: this.rangeCovering(start, object) };
      }
    }
    this.depth = savedDepth;
    return object;
  }

  // Primary = Number | String | "true" | "false" | "none" | Name | "(" Expr ")" | List
  //         | Comprehension | Conditional | "not" Not
  private parsePrimary(): Expression {
    const t = this.current;
    if (this.atLineBreak() || (t.kind === 'Identifier' && t.newlineBefore && this.atLineStartBinding())) {
      // Recovery: the line ended (or, inside brackets, a new member began) where an operand was due.
      this.expected('an expression');
      return this.missing();
    }
    const range: TextRange = { start: t.start, end: t.end };
    switch (t.kind) {
      case 'Number':
        this.next();
        return { kind: 'Number', digits: t.value, suffix: t.suffix, range };
      case 'String':
        this.next();
        return { kind: 'String', value: t.value, range };
      case 'true':
      case 'false':
        this.next();
        return { kind: 'Boolean', value: t.kind === 'true', range };
      case 'none':
        this.next();
        return { kind: 'None', range };
      case 'Identifier': {
        this.next();
        // The name and its identifier cover the same text, so they share one range object.
        const name: Identifier = { kind: 'Identifier', text: t.value, range };
        return { kind: 'Name', name, range };
      }
      case '(':
        return this.parseParenthesized();
      case '[':
        return this.parseListOrComprehension();
      case 'if':
        return this.parseConditional();
      case 'not':
        return this.parsePrefix();
      default:
        // Recovery: nothing is consumed; the caller's separator check or sync skips the token.
        this.expected('an expression');
        return this.missing();
    }
  }

  // Parenthesized = "(" Expr ")"   (the parentheses leave no node; enclosing ranges include them)
  private parseParenthesized(): Expression {
    const errorsAtOpen = this.errorEvents;
    const savedBrackets = this.bracketDepth;
    this.bracketDepth = savedBrackets + 1;
    this.next();
    const inner = this.parseExpression();
    this.closeBracket(')', errorsAtOpen, false);
    this.bracketDepth = savedBrackets;
    return inner;
  }

  // List = "[" [ Expr { "," Expr } [ "," ] ] "]"
  // Comprehension = "[" Expr "for" Name "in" Expr [ ".." Expr ] "]"
  private parseListOrComprehension(): Expression {
    const start = this.current.start;
    const errorsAtOpen = this.errorEvents;
    const savedBrackets = this.bracketDepth;
    this.bracketDepth = savedBrackets + 1;
    this.next();
    let result: Expression;
    if (this.at(']')) {
      this.next();
      this.bracketDepth = savedBrackets;
      return { kind: 'List', elements: [], range: this.rangeFrom(start) };
    }
    const first = this.parseExpression();
    if (this.at('for')) {
      this.next();
      const variable = this.expectIdentifier('a loop variable');
      if (!this.accept('in')) this.expected("'in'");
      let from: Expression | undefined = this.parseExpression();
      let to: Expression;
      if (this.accept('..')) {
        to = this.parseExpression();
      } else {
        to = from;
        from = undefined;
      }
      this.closeBracket(']', errorsAtOpen, false);
      result = { kind: 'Comprehension', body: first, variable, from, to, range: this.rangeFrom(start) };
    } else {
      const elements = this.parseSeparated(']', () => this.parseExpression(), false, [first]);
      this.closeBracket(']', errorsAtOpen, false);
      const list: ListExpression = { kind: 'List', elements, range: this.rangeFrom(start) };
      result = list;
    }
    this.bracketDepth = savedBrackets;
    return result;
  }

  /** `[` Expr `]` after an object or path; the cursor is on the `[`. */
  protected parseBracketedIndex(): Expression {
    const errorsAtOpen = this.errorEvents;
    const savedBrackets = this.bracketDepth;
    this.bracketDepth = savedBrackets + 1;
    this.next();
    const index = this.parseExpression();
    this.closeBracket(']', errorsAtOpen, false);
    this.bracketDepth = savedBrackets;
    return index;
  }

  /**
   * The items of a bracketed, comma-separated list, up to (not including) the closing bracket.
   * `initial` holds items already parsed by the caller (the first list element).
   * Trailing commas are allowed. Recovery: a missing comma between two items is reported and
   * assumed; any other stray token is reported and skipped to the next `,` or the bracket; a
   * terminator (see atListTerminator) ends the list so the caller can report the missing bracket.
   */
  protected parseSeparated<T>(
    closer: ')' | ']',
    parseItem: () => T,
    lineBindingsAllowed: boolean,
    initial: T[] = [],
  ): T[] {
    const items = initial;
    let needItem = initial.length === 0;
    for (;;) {
      if (needItem) {
        if (this.at(closer) || this.atListTerminator(lineBindingsAllowed)) return items;
        const before = this.pos;
        items.push(parseItem());
        if (this.pos === before && !this.at(',') && !this.at(closer)) {
          // Recovery: the item could not even start; skip the offending token(s).
          if (this.atListTerminator(lineBindingsAllowed)) return items;
          this.skipInList(lineBindingsAllowed);
          if (this.pos === before) this.next();
        }
      }
      needItem = true;
      if (this.at(',')) {
        this.next();
        continue;
      }
      if (this.at(closer) || this.atListTerminator(lineBindingsAllowed)) return items;
      if (this.canStartExpression()) {
        // Recovery: two items with no comma between them; assume the comma.
        this.error('npas-syntax-expected', `Expected ',' or '${closer}', found ${this.describeCurrent()}`, {
          start: this.current.start,
          end: this.current.end,
        });
        continue;
      }
      this.error('npas-syntax-unexpected-token', `Unexpected ${this.describeCurrent()}; expected ',' or '${closer}'`, {
        start: this.current.start,
        end: this.current.end,
      });
      const before = this.pos;
      this.skipInList(lineBindingsAllowed);
      if (this.at(',')) {
        this.next();
        continue;
      }
      // A stray closer of the other kind: drop it and carry on with the list.
      if (this.pos === before && !this.at(closer) && !this.atListTerminator(lineBindingsAllowed)) {
        this.next();
        needItem = false;
        continue;
      }
      return items;
    }
  }

  // Args = "(" [ Arg { "," Arg } [ "," ] ] ")"
  protected parseArgumentList(): { args: Argument[]; argsRange: TextRange } {
    const start = this.current.start;
    const errorsAtOpen = this.errorEvents;
    const savedBrackets = this.bracketDepth;
    this.bracketDepth = savedBrackets + 1;
    this.next();
    const args = this.parseSeparated(')', () => this.parseArgument(), false);
    this.closeBracket(')', errorsAtOpen, false);
    this.bracketDepth = savedBrackets;
    return { args, argsRange: this.rangeFrom(start) };
  }

  // Arg = [ Name ":" ] Expr
  protected parseArgument(): Argument {
    const start = this.current.start;
    let name: Identifier | undefined;
    if (this.at('Identifier') && this.peek().kind === ':' && !this.atLineBreak()) {
      name = this.identifierOf(this.next());
      this.next();
    }
    const value = this.parseExpression();
    return { kind: 'Argument', name, value, range: this.rangeCovering(start, name ?? value) };
  }

  // Path = Name { "." Name | "[" Expr "]" }
  protected parsePath(): Path {
    const start = this.current.start;
    const first = this.expectIdentifier('a path');
    const segments: PathSegment[] = [{ kind: 'PathName', name: first, range: first.range }];
    while (!this.atLineBreak()) {
      const segmentStart = this.current.start;
      if (this.at('.')) {
        this.next();
        const name = this.expectIdentifier("a name after '.'");
        segments.push({ kind: 'PathName', name, range: this.rangeFrom(segmentStart) });
      } else if (this.at('[')) {
        const index = this.parseBracketedIndex();
        segments.push({ kind: 'PathIndex', index, range: this.rangeFrom(segmentStart) });
      } else {
        break;
      }
    }
    return { kind: 'Path', segments, range: this.rangeCovering(start, first) };
  }

  /**
   * A name where the grammar requires one. Recovery: a keyword that was plausibly meant as a
   * name (`params.train`) is reported and used as the name; anything else leaves an empty name
   * in place and is not consumed.
   */
  protected expectIdentifier(what: string): Identifier {
    const t = this.current;
    if (!this.atLineBreak()) {
      if (t.kind === 'Identifier') {
        this.next();
        return this.identifierOf(t);
      }
      if (KEYWORDS_USABLE_AS_NAMES.has(t.kind)) {
        this.error(
          'npas-syntax-unexpected-token',
          `'${t.kind}' is a reserved keyword and cannot be used as a name`,
          { start: t.start, end: t.end },
        );
        this.next();
        return this.identifierOf(t);
      }
    }
    this.expected(what);
    return this.missingIdentifier();
  }
}
