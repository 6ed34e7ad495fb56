// The editor services: plain functions over a source text and its AnalysisResult, with
// offsets (UTF-16) for positions and no LSP types. The language server (src/server) converts
// offsets to positions and these shapes to LSP's; any other host (a web editor, a test) can
// call them directly.

export { hoverAt, type HoverResult } from './hover.js';
export { completionsAt, type CompletionEntry, type CompletionKind, type CompletionResult } from './completion.js';
export { definitionAt, type DefinitionTarget } from './definition.js';
export { importedDefinitionAt, importedHoverAt, type ImportedTarget } from './imported-names.js';
export { documentSymbols, type OutlineKind, type OutlineSymbol } from './symbols.js';
export { codeLenses, type CodeLensInfo } from './code-lens.js';
export { inlayHints, type InlayHintInfo } from './inlay-hints.js';
export { applyEdits, formatEdits, formatSource, type TextEdit } from './format.js';
export { quickFixes, type QuickFix } from './code-actions.js';
export { summarizeModels, type LatencySummary, type ModelSummary, type ParamCountsSummary, type TreeSummary } from './model-summaries.js';
export { groupDigits } from './text-format.js';
export { modelFingerprint } from './model-fingerprint.js';
export { occurrencesAt, type Occurrence, type SymbolIdentity, type SymbolOccurrences } from './occurrences.js';
export { prepareRename, renameEdits, type PrepareRenameResult, type RenameResult } from './rename.js';
export { lookupIn, occurrencesInFile, programOccurrencesAt, programRenameEdits, programSymbolAt, type FileOccurrences, type ProgramFile, type ProgramRenameResult, type ProgramSymbol } from './program-occurrences.js';
export type { ProgramLookup } from './program-members.js';
export { signatureHelpAt, type SignatureHelpResult, type SignatureInfo, type SignatureParameter } from './signature-help.js';
export { semanticTokens, SEMANTIC_TOKEN_MODIFIERS, SEMANTIC_TOKEN_TYPES, type SemanticToken, type SemanticTokenModifier, type SemanticTokenType } from './semantic-tokens.js';
export { foldingRegions, type FoldingRegion } from './folding-ranges.js';
export { selectionRanges } from './selection-ranges.js';
export { matchingSymbols, matchesQuery, type NamedSymbol } from './workspace-symbols.js';
export { QUICK_FIX_CATALOGUE } from './quick-fix-catalogue.js';
export { declarationHeaderAt, type DeclarationHeader } from './declaration-header.js';
export { refactorings, type Refactoring, type RefactoringKind, type RefactoringOptions } from './refactorings.js';
