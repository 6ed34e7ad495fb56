// Where the cursor is, for completion: read from the tokens before it rather than the tree,
// because completion runs on half-written text (`x = Attention(d, he|`) that the parser has
// already recovered from in its own way. One forward pass over the tokens tracks the open
// brackets and where the current member starts; the member's first tokens then say what is
// being written (a statement's path or strategy, a call's argument, a budget metric…).

import type { BudgetDeclaration, SourceFile, TextRange } from '../syntax/syntax-tree.js';
import { isShareModifier, STATEMENT_KEYWORDS as STATEMENT_KEYWORD_LIST, type Token } from '../syntax/token.js';
import { scopeAt, type OwnerDeclaration } from './scopes.js';
import { methodsAt, type MethodSlot } from './vocabulary.js';
import { inComment, sourceTokens, tokenIndexBefore } from './source-tokens.js';

/** A call whose argument list holds the cursor. */
export interface CallSite {
  /** The callee as written (`Attention`, `lora`, `kv`, `flops.train`). */
  readonly callee: string;
  /** Offset of the callee's last name (for resolving it in scope). */
  readonly calleeOffset: number;
  /** Named arguments already written, and how many positional ones precede the cursor. */
  readonly named: ReadonlySet<string>;
  readonly positional: number;
  /** The call is a budget metric's settings (`kv(seq: …)`). */
  readonly metric: boolean;
  /** The call is a statement's method (`cycle(…)`, `lora(…)`). */
  readonly statement: string | undefined;
}


export type CompletionSite =
  | { readonly kind: 'none' }
  /** Right after a number: its unit or magnitude suffix. */
  | { readonly kind: 'unit' }
  /** The start of a top-level item. */
  | { readonly kind: 'top-level' }
  /** The start of a member of a model, variant or block. */
  | { readonly kind: 'member'; readonly owner: OwnerDeclaration | undefined }
  /** A budget metric (`params.st|`); `prefix` is the part before the name being typed (`params.`). */
  | { readonly kind: 'metric'; readonly prefix: string }
  /** A path of a statement or `tied`: the segments before the one being typed. */
  | {
      readonly kind: 'path';
      readonly owner: OwnerDeclaration | undefined;
      readonly prefix: readonly string[];
      readonly modifiers: boolean;
      /** The model's own constants and parameters too (`elastic d: [512, 768]` chooses one model-wide). */
      readonly constants?: boolean;
    }
  /** The strategy or method after `share X:`, `relax`, `adapt X:` … */
  | { readonly kind: 'method'; readonly slot: MethodSlot }
  /** The start of an argument of a call. */
  | { readonly kind: 'argument'; readonly call: CallSite }
  /** The value of a named argument (`act: |`). */
  | { readonly kind: 'argument-value'; readonly call: CallSite; readonly argument: string }
  /** A model or variant name (`variant X of |`, `budget |`). */
  | { readonly kind: 'model-name' }
  /** A tensor class of a `precision` statement (`precision ex|`), or the dtype after its colon. */
  | { readonly kind: 'precision-class' }
  | { readonly kind: 'precision-dtype'; readonly cls: string }
  /** Any other expression position. */
  | { readonly kind: 'expression' };

export interface CompletionContext {
  readonly site: CompletionSite;
  /** The span completion replaces: the word (or unit suffix) being typed, else the empty cursor span. */
  readonly replace: TextRange;
}

const STATEMENT_KEYWORDS: ReadonlySet<string> = new Set(STATEMENT_KEYWORD_LIST);

function isWord(t: Token): boolean {
  return t.kind === 'Identifier' || /^[a-z]+$/.test(t.kind);
}

/** Analyses the cursor position in `text` (`file` is its parse, for declarations and scopes). */
export function completionContext(text: string, file: SourceFile, offset: number): CompletionContext {
  const none = (): CompletionContext => ({ site: { kind: 'none' }, replace: { start: offset, end: offset } });
  const { tokens, comments } = sourceTokens(text);
  if (inComment(comments, offset)) return none();
  const k = tokenIndexBefore(tokens, offset);
  const tok = k >= 0 ? tokens[k] : undefined;
  let word: Token | undefined;
  let prevIndex = k;
  if (tok && tok.end >= offset) {
    if (tok.kind === 'String') return none();
    if (tok.kind === 'Number') {
      const suffixStart = mantissaEnd(text, tok);
      if (offset < suffixStart) return none();
      return { site: { kind: 'unit' }, replace: { start: suffixStart, end: tok.end } };
    }
    if (isWord(tok)) {
      word = tok;
      prevIndex = k - 1;
    }
  }
  const replace: TextRange = word ? { start: word.start, end: word.end } : { start: offset, end: offset };
  const at = (site: CompletionSite): CompletionContext => ({ site, replace });
  const cursorStart = word ? word.start : offset;

  // One pass: open brackets (token indices) and the first token of the current item.
  const open: number[] = [];
  let itemStart = 0;
  for (let i = 0; i <= prevIndex; i++) {
    const t = tokens[i]!;
    const top = open.length > 0 ? tokens[open[open.length - 1]!]!.kind : '{';
    if (top === '{' && (t.newlineBefore || i === 0)) itemStart = i;
    if (t.kind === '(' || t.kind === '[' || t.kind === '{') open.push(i);
    else if (t.kind === ')' || t.kind === ']' || t.kind === '}') open.pop();
    if (t.kind === '{' || t.kind === ';' || t.kind === '}') itemStart = i + 1;
  }
  const innermost = open.length > 0 ? open[open.length - 1]! : -1;
  const innerKind = innermost >= 0 ? tokens[innermost]!.kind : '{';
  const braceIndex = [...open].reverse().find((i) => tokens[i]!.kind === '{');
  const prev = prevIndex >= 0 ? tokens[prevIndex] : undefined;
  const newlineBeforeCursor = prev === undefined || /[\r\n]/.test(text.slice(prev.end, cursorStart));
  const owner = braceIndex === undefined ? undefined : ownerAtBrace(file, tokens[braceIndex]!);
  const ownerKeyword = braceIndex === undefined ? undefined : declarationKeyword(tokens, braceIndex);

  // The start of an item: nothing of it written yet before the word.
  if (innerKind === '{' && (newlineBeforeCursor || itemStart > prevIndex)) {
    if (braceIndex === undefined) return at({ kind: 'top-level' });
    if (ownerKeyword === 'budget') return at({ kind: 'metric', prefix: '' });
    return at({ kind: 'member', owner: owner?.kind === 'Budget' ? undefined : owner });
  }
  const item = tokens.slice(itemStart, prevIndex + 1);
  const first = item[0];
  if (!first || !prev) return at({ kind: 'expression' });

  // Declaration headers.
  if (braceIndex === undefined || innermost < itemStart) {
    if (first.kind === 'variant' && prev.kind === 'of') return at({ kind: 'model-name' });
    if (first.kind === 'budget' && item.length === 1) return at({ kind: 'model-name' });
    if (first.kind === 'model' || first.kind === 'block' || first.kind === 'variant' || first.kind === 'budget') {
      if (innermost < itemStart && innerKind !== '{') {
        // Parameters of a model or block: default values are expressions.
        return at({ kind: 'expression' });
      }
      return none();
    }
  }

  // Inside a call's parentheses (a layer, block, statement method or budget metric).
  if (innerKind === '(' && innermost >= itemStart) {
    const call = callSite(tokens, innermost, prevIndex, ownerKeyword === 'budget', STATEMENT_KEYWORDS.has(first.kind) ? first.kind : undefined);
    if (call) {
      const sinceArg = argumentTokens(tokens, innermost, prevIndex);
      if (sinceArg.length === 0) return at({ kind: 'argument', call });
      if (sinceArg.length === 2 && sinceArg[0]!.kind === 'Identifier' && sinceArg[1]!.kind === ':') return at({ kind: 'argument-value', call, argument: sinceArg[0]!.value });
    }
    return at({ kind: 'expression' });
  }
  if (innerKind === '[' && innermost >= itemStart) return at({ kind: 'expression' });

  // Budget constraints: the metric name until its arguments or the comparison.
  if (ownerKeyword === 'budget') {
    if (item.every((t) => t.kind === '.' || isWord(t))) return at({ kind: 'metric', prefix: text.slice(first.start, cursorStart) });
    return at({ kind: 'expression' });
  }

  // Statements: paths, then the strategy after `:` and the adapter after `relax`.
  if (STATEMENT_KEYWORDS.has(first.kind)) {
    const keyword = first.kind;
    if (keyword === 'precision') {
      if (prev.kind === ':') {
        const cls = tokens[prevIndex - 1];
        return at({ kind: 'precision-dtype', cls: cls?.kind === 'Identifier' ? cls.value : '' });
      }
      // `precision weights PATHS: T` — before its colon, `weights` is followed by the paths of
      // the model's weights (a colon right after it makes it the class: `precision weights: bf16`).
      const weightsPaths = item[1]?.kind === 'Identifier' && item[1].value === 'weights' && !item.some((t) => t.kind === ':');
      if (weightsPaths && (prev === item[1] || prev.kind === ',' || prev.kind === '.')) {
        return at({ kind: 'path', owner: owner?.kind === 'Budget' ? undefined : owner, prefix: pathPrefix(tokens, prevIndex), modifiers: false });
      }
      return prev.kind === 'precision' || prev.kind === ',' ? at({ kind: 'precision-class' }) : none();
    }
    const relax = item.some((t) => t.kind === 'relax');
    const colon = item.some((t) => t.kind === ':');
    const equals = item.some((t) => t.kind === '=');
    if (relax) return prev.kind === 'relax' ? at({ kind: 'method', slot: { keyword, relax: true } }) : at({ kind: 'expression' });
    if (colon) {
      if (prev.kind !== ':') return at({ kind: 'expression' });
      // A modifier is followed by a path (`share kv body: …`), as the parser reads it.
      const modifier = keyword === 'share' && item[1]?.kind === 'Identifier' && isShareModifier(item[1].value) && item[2]?.kind === 'Identifier' ? item[1].value : undefined;
      const slot: MethodSlot = { keyword, modifier };
      return methodsAt(slot).length > 0 ? at({ kind: 'method', slot }) : at({ kind: 'expression' });
    }
    if (keyword === 'allocate') return at({ kind: 'expression' });
    // `param` and `parallel` take their method right after the keyword.
    if (keyword === 'param' || keyword === 'parallel') return item.length === 1 ? at({ kind: 'method', slot: { keyword } }) : at({ kind: 'expression' });
    if (keyword === 'bank' && !equals) return none();
    return at({ kind: 'path', owner: owner?.kind === 'Budget' ? undefined : owner, prefix: pathPrefix(tokens, prevIndex), modifiers: keyword === 'share' && item.length === 1, constants: keyword === 'elastic' && item.length === 1 });
  }

  // `name = value tied path`
  const tiedAt = item.findIndex((t) => t.kind === 'tied');
  if (tiedAt >= 0) return at({ kind: 'path', owner: owner?.kind === 'Budget' ? undefined : owner, prefix: pathPrefix(tokens, prevIndex), modifiers: false });
  if (prev.kind === '.') return none();
  return at({ kind: 'expression' });
}

/** Where a number's unit suffix starts (after digits, `_`, a decimal point and an exponent). */
function mantissaEnd(text: string, t: Token): number {
  let i = t.start;
  const digit = (c: number): boolean => c >= 48 && c <= 57;
  while (i < t.end && (digit(text.charCodeAt(i)) || text.charCodeAt(i) === 95)) i++;
  if (text.charCodeAt(i) === 46 && digit(text.charCodeAt(i + 1))) {
    i++;
    while (i < t.end && (digit(text.charCodeAt(i)) || text.charCodeAt(i) === 95)) i++;
  }
  const e = text.charCodeAt(i);
  if (e === 101 || e === 69) {
    let j = i + 1;
    if (text.charCodeAt(j) === 43 || text.charCodeAt(j) === 45) j++;
    if (digit(text.charCodeAt(j))) {
      while (j < t.end && digit(text.charCodeAt(j))) j++;
      i = j;
    }
  }
  return i;
}

/** The model, variant, block or budget whose body a `{` opens. */
function ownerAtBrace(file: SourceFile, brace: Token): OwnerDeclaration | BudgetDeclaration | undefined {
  return scopeAt(file, brace.start).owner;
}

/** The keyword of the declaration a `{` belongs to: the first token of its line-level header. */
function declarationKeyword(tokens: readonly Token[], braceIndex: number): string | undefined {
  for (let i = braceIndex - 1; i >= 0; i--) {
    const t = tokens[i]!;
    if (t.kind === 'model' || t.kind === 'block' || t.kind === 'variant' || t.kind === 'budget') return t.kind;
    if (t.kind === '{' || t.kind === '}' || t.kind === ';') return undefined;
  }
  return undefined;
}

/** The call whose `(` is at `parenIndex`, if its callee is a name (possibly dotted, for metrics). */
function callSite(tokens: readonly Token[], parenIndex: number, prevIndex: number, inBudget: boolean, statement: string | undefined): CallSite | undefined {
  const calleeTok = tokens[parenIndex - 1];
  if (!calleeTok || !isWord(calleeTok)) return undefined;
  let start = parenIndex - 1;
  while (start >= 2 && tokens[start - 1]!.kind === '.' && isWord(tokens[start - 2]!)) start -= 2;
  const callee = tokens.slice(start, parenIndex).map((t) => (t.kind === '.' ? '.' : t.value)).join('');
  const named = new Set<string>();
  let positional = 0;
  let depth = 0;
  let argStart = parenIndex + 1;
  // Each finished argument is named (`name: …`) or positional; the one being typed counts
  // only if it is named.
  const finish = (end: number, current: boolean): void => {
    if (end <= argStart) return;
    const a = tokens[argStart]!;
    if (a.kind === 'Identifier' && argStart + 1 < end && tokens[argStart + 1]!.kind === ':') named.add(a.value);
    else if (!current) positional++;
  };
  for (let i = parenIndex + 1; i <= prevIndex; i++) {
    const t = tokens[i]!;
    if (t.kind === '(' || t.kind === '[' || t.kind === '{') depth++;
    else if (t.kind === ')' || t.kind === ']' || t.kind === '}') depth--;
    else if (depth === 0 && t.kind === ',') {
      finish(i, false);
      argStart = i + 1;
    }
  }
  finish(prevIndex + 1, true);
  return { callee, calleeOffset: calleeTok.start, named, positional, metric: inBudget, statement };
}

/** The tokens of the argument being written: after the last top-level `,` (or the `(`). */
function argumentTokens(tokens: readonly Token[], parenIndex: number, prevIndex: number): Token[] {
  let depth = 0;
  let start = parenIndex + 1;
  for (let i = parenIndex + 1; i <= prevIndex; i++) {
    const t = tokens[i]!;
    if (t.kind === '(' || t.kind === '[' || t.kind === '{') depth++;
    else if (t.kind === ')' || t.kind === ']' || t.kind === '}') depth--;
    else if (depth === 0 && t.kind === ',') start = i + 1;
  }
  return tokens.slice(start, prevIndex + 1);
}

/** The path segments written before the one being typed: `body.attn.|` → [body, attn]. */
function pathPrefix(tokens: readonly Token[], prevIndex: number): string[] {
  const out: string[] = [];
  let i = prevIndex;
  if (tokens[i]?.kind !== '.') return out;
  while (i >= 1 && tokens[i]!.kind === '.') {
    let j = i - 1;
    // Skip an index `[3]` between segments.
    if (tokens[j]?.kind === ']') {
      while (j >= 0 && tokens[j]!.kind !== '[') j--;
      j--;
    }
    const t = tokens[j];
    if (!t || t.kind !== 'Identifier') break;
    out.unshift(t.value);
    i = j - 1;
  }
  return out;
}

/** The call whose parentheses hold the cursor, and the named argument being written in it (`heads: |`). */
export interface EnclosingCall {
  readonly call: CallSite;
  /** Offset of the call's `(`. */
  readonly open: number;
  /** The argument the cursor is in, when it is written `name: …`. */
  readonly argumentName: string | undefined;
}

/**
 * The innermost call around `offset`, read from the tokens before it (so it works on half-written
 * text: `Attention(d, hea|`); undefined outside any call's parentheses or in a comment.
 */
export function enclosingCall(text: string, offset: number): EnclosingCall | undefined {
  const { tokens, comments } = sourceTokens(text);
  if (inComment(comments, offset)) return undefined;
  const prevIndex = tokenIndexBefore(tokens, offset);
  const open: number[] = [];
  for (let i = 0; i <= prevIndex; i++) {
    const t = tokens[i]!;
    // A string or number the cursor is inside is no bracket; a `)` ending at the cursor closes.
    if (t.kind === '(' || t.kind === '[' || t.kind === '{') open.push(i);
    else if (t.kind === ')' || t.kind === ']' || t.kind === '}') open.pop();
  }
  const innermost = open[open.length - 1];
  if (innermost === undefined || tokens[innermost]!.kind !== '(') return undefined;
  const call = callSite(tokens, innermost, prevIndex, false, undefined);
  if (!call) return undefined;
  const current = argumentTokens(tokens, innermost, prevIndex);
  const argumentName = current.length >= 2 && current[0]!.kind === 'Identifier' && current[1]!.kind === ':' ? current[0]!.value : undefined;
  return { call, open: tokens[innermost]!.start, argumentName };
}
