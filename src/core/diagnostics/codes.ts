// The catalogue of stable diagnostic codes. A code names one kind of problem forever:
// never rename or reuse one; add new codes at the end of their group.
// docs/diagnostics.md lists them with examples.

export const DIAGNOSTIC_CODES = {
  // Syntax (scanner and parser).
  'npas-syntax-unexpected-char': 'A character that cannot start any token.',
  'npas-syntax-unterminated-string': 'A string literal without its closing quote.',
  'npas-syntax-bad-number': 'A malformed numeric literal or unknown unit suffix.',
  'npas-syntax-expected': 'A required token or construct is missing.',
  'npas-syntax-unexpected-token': 'A token that cannot appear here.',
  'npas-syntax-too-deep': 'Expressions nested too deeply to analyse.',

  // Names and scopes.
  'npas-name-unknown': 'A name that is not defined in scope.',
  'npas-name-duplicate': 'A name defined twice in the same scope.',
  'npas-name-shadows-builtin': 'A user name that hides a builtin.',
  'npas-name-cycle': 'A definition that depends on itself.',
  'npas-model-unknown': 'A variant or budget names a model that does not exist.',
  'npas-override-unknown': 'A variant overrides a name its base does not define.',

  // Evaluation of constants.
  'npas-eval-type': 'An operand or value of the wrong type.',
  'npas-eval-division-by-zero': 'Division or modulo by zero.',
  'npas-eval-not-integer': 'An integer was required but the value has a fraction.',
  'npas-eval-range': 'A value outside the allowed range (negative size, zero heads, …).',
  'npas-eval-too-large': 'A value or a computation too large to analyse: an exponent, repetition, recursion count, nested loops or the work budget (docs/diagnostics.md, "Limits of the analysis").',
  'npas-eval-unit': 'Units that do not combine (bytes + seconds, a size given in bytes, …).',

  // Layers and blocks.
  'npas-layer-unknown-arg': 'An argument the layer kind does not take.',
  'npas-layer-missing-arg': 'A required argument is missing.',
  'npas-layer-duplicate-arg': 'An argument given twice.',
  'npas-layer-too-many-args': 'More positional arguments than the layer kind takes.',
  'npas-layer-shape': 'Argument values that are inconsistent with each other (heads ∤ d, …).',
  'npas-block-arg': 'A block instantiated with unknown, missing or extra arguments.',
  'npas-module-expected': 'A layer, block or stack was expected here.',
  'npas-model-empty': 'A model without any layer.',

  // Sharing declarations.
  'npas-share-target': 'A sharing target path that does not resolve.',
  'npas-share-not-stack': 'A strategy that needs a repeated stack was applied to something else.',
  'npas-share-strategy': 'An unknown or malformed sharing strategy.',
  'npas-share-shape': 'Instances tied to one store have different weight shapes.',
  'npas-share-overlap': 'Two sharing declarations cover the same weights.',
  'npas-share-experts': '`share experts` on something that is not an MoE layer with routed experts in every instance, or on layers that route differently.',
  'npas-tie-shape': 'Tied weights with different shapes.',
  'npas-tie-cycle': 'A chain of `tied`, or of `tie a = b`, that comes back to where it started (`a tied b`, `b tied a`; `a tied a`; `tie a = b`, `tie b = a`): no module of it holds the store.',
  'npas-kv-source': 'A KV-sharing map whose source is not an earlier attention layer.',
  'npas-adapter': 'A malformed adapter declaration or a target without matrices.',
  'npas-adapter-modes': 'Tensor-train adapter modes (`loretta_rep`, `loretta_adp`) that do not multiply to the adapted factor\'s elements, a mode below 1 or fewer than two, or a width the reference code has no default shape for.',
  'npas-train-sparse': 'A malformed pooled sparse mask (`train PATHS: sparse(elements: k)`, FISH): a method other than sparse, k below 1, or k past the trainable elements of the weights under the paths.',
  'npas-hash': 'A malformed hashed-memory declaration.',
  'npas-bank': 'A malformed SSN template bank.',
  'npas-route': 'A malformed recursion routing declaration.',
  'npas-allocate': 'An allocation request that cannot be planned (bad arguments, impossible budget).',
  'npas-param': 'A malformed parameterisation (`param mup(…)`): unknown scheme, bad argument, a width or depth that cannot be inferred.',
  'npas-elastic': 'A malformed supernet (`elastic body: Decoder(expand: [2, 3, 4]) * [6, 8]`, `elastic d: [512, 768]`): not a top-level stack or a constant of the model, not a block call, an unknown block parameter, an empty or repeated choice, a depth out of range.',
  'npas-factorize': 'A malformed factorised-weight declaration (`factorize PATHS: fedpara(rank: R)`, `tensor_train(…)`, `mpo(…)`): unknown method, missing or contradictory ranks, cores or modes.',
  'npas-factorize-shape': 'Tensor-train or MPO modes that do not multiply to a factorised weight\'s output or input width.',
  'npas-factorize-target': 'A `factorize` path with no matmul weight under it, or under a `tie a = b` reader (its weights are the stores of its owner: factorise the owner instead), in either order.',
  'npas-factorize-larger': 'A factorisation whose factors hold at least as many numbers as the dense weight (a warning: it is counted as written).',
  'npas-smash': 'A malformed token-smashing declaration (`smash MEMBERS: tokens(r)`): r below 1, a path that is not a top-level member, a member counted per sample or on the encoder side, a member smashed twice in one declaration.',
  'npas-parallel': 'A malformed parallel-streams declaration (`parallel streams(P, …)`, `parallel workers(P)`): bad count or argument, an unknown merge member, a second declaration.',
  'npas-halt': 'A malformed halting declaration (`route STACK: halt(expected_depth: D)`): a depth outside [1, steps], more steps than the stack has instances, reach probabilities that increase or do not start at 1, a stack routed twice.',
  'npas-router-cell': 'A layer-wise recurrent router (RMoE) out of place: an `MoE(…, router_rnn: p)` with no `RecurrentRouter(p)` cell before it among its siblings, a cell of another width, or a cell no such MoE after it reads.',

  // Budgets.
  'npas-budget-metric': 'An unknown budget metric or metric argument.',
  'npas-budget-violated': 'A budget constraint that the model does not meet.',
  'npas-budget-target': 'A budget for a model or variant that does not exist.',
  'npas-seq-beyond-positions': 'The analysis sequence length exceeds the positions a learned position table covers (a warning: the numbers are computed, the model cannot run there).',
  'npas-units-mixed': 'A token model (embeddings, attention, recurrent layers) with a layer that counts per sample (a convolution over a declared input size): its totals would mix units (a warning; a Conv1d without `length` counts per token).',
  'npas-precision': 'A `precision` statement with an unknown tensor class or dtype.',
  'npas-max-context': 'A `max_context` statement that is not a whole number of tokens in 1..2^30, or a second one in the same model or variant.',
  'npas-seq-beyond-context': 'The analysis sequence length exceeds the model\'s declared `max_context` (a warning: the numbers are computed, the model was not made to run there).',
  'npas-plan': 'A plan declaration with an unknown or invalid setting, or settings that do not fit together.',
  'npas-device': 'A device declared in the spec (`Chip = Device(…)`) with a missing, unknown or invalid field, or a name a builtin device already has.',

  // Imports (docs/language.md, "Imports").
  'npas-import-missing': 'An imported file that does not exist or cannot be read.',
  'npas-import-cycle': 'An import that leads back to a file importing it.',
  'npas-import-clash': 'A name that an import brings in is already defined or imported from another file.',
  'npas-import-name': 'A selective import names something the imported file does not define.',
  'npas-import-errors': 'An imported file (or a file it imports) has errors; the first is named, all are reported in their files.',

  // The engine itself.
  'npas-internal-error': 'An internal error of the engine (a bug): the analysis stopped early.',
  'npas-analysis-crashed': "The language server's analysis worker died (out of memory, a crash) while analysing this version of the document; it was restarted and reports this instead of analysing the same version again.",
} as const;

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;
