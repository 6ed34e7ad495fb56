// The public surface of the core engine. Everything outside src/core (CLI, language server,
// webview, tests) imports from here only.

export { analyze, DEFAULT_OPTIONS, type AnalysisResult } from './analysis/analyze.js';
export { compile, Compilation, type CompiledModel, type CompileOptions, type ImportedDeclaration } from './analysis/compilation.js';
export { ParsedSources, type ParsedSource } from './imports/parsed-sources.js';
export { IMPORT_LIMITS, type ImportHost } from './imports/resolve-imports.js';
export { resolveImportPath, type SourceId, type SourceRange } from './imports/source-id.js';
export type { SourceSet, SourceEntry } from './imports/source-set.js';
export { AnalysisCancelled } from './semantics/cancellation.js';
export type {
  AnalysisOptions,
  BudgetResult,
  DType,
  FlopsReport,
  LatencyEstimate,
  LatencyReport,
  MemoryReport,
  ModelReport,
  NodeReport,
  ParamCounts,
  Precision,
  PrecisionClass,
  LossMode,
  RoutedBankReport,
  SharedPrefix,
  WeightDtypeSetting,
} from './analysis/report-types.js';
export { parsePathText } from './analysis/weight-dtypes.js';
export { expectedDistinct } from './analysis/routing.js';
export { ROUTING_FITS, routedEffectiveParams, saturatedExperts, routedEffectiveSummary, routedEffectiveBasis, type RoutedEffectiveReport, type RoutingFit } from './analysis/routed-effective-params.js';
export { further, reachOf, type Reach } from './analysis/kv-reach.js';
export { DEVICES, DEVICE_NAMES, findDevice, peakFlopsFor, type DeviceProfile, type PeakTable } from './analysis/devices.js';
export { ANALYSIS_SETTING_KEYS, DEFAULT_ANALYSIS_SETTINGS, checkAnalysisSettings, devicesFileSetting, sharedPrefixOf, type AnalysisSettingValues, type SettingProblem, type SettingsContext } from './analysis/analysis-settings.js';
export { parseDeviceProfiles, type ParsedDevices } from './analysis/device-profiles.js';
export { isDType, DTYPE_NAMES, DTYPE_BITS } from './analysis/dtypes.js';
export { resolvePrecision, precisionFromSettings, PRECISION_CLASSES } from './analysis/precision.js';
export { BUDGET_METRICS } from './analysis/budgets.js';
export { budgetJsonText, listedChildren, TREE_WIDTH, type BudgetJsonOptions } from './analysis/budget-json.js';
export type { Diagnostic, Severity } from './diagnostics/diagnostic.js';
export { blocksMeasurement } from './diagnostics/diagnostic.js';
export { DIAGNOSTIC_CODES, type DiagnosticCode } from './diagnostics/codes.js';
export { parse, type ParseResult } from './syntax/parser.js';
export type { SourceFile, TextRange } from './syntax/syntax-tree.js';
export { LAYER_KINDS, findLayerKind } from './layers/registry.js';
export { importHfConfig, type ImportResult } from './hf/import-hf.js';
export { compareWithCheckpoint, type CheckpointComparison, type CheckpointTensor } from './hf/checkpoint-check.js';
export { lineColumn, LineIndex } from './text/line-column.js';
export { toJson } from './text/exact-json.js';
export { escapeControl, escapeControlKeepLines } from './text/escape-control.js';
export { formatBytes, formatFlops, formatRate, formatSeconds, groupDigits } from './text/number-format.js';
export type { EvaluatedBinding } from './semantics/evaluator.js';
export type { Value } from './semantics/values.js';
export * from './service/index.js';
export * from './layout/index.js';
export { allocate, storedParamsOf } from './allocation/allocate.js';
export { allocateSource, readArchitecture } from './allocation/allocate-source.js';
export { emitVariant, freeVariantName, planDeclarations, type BankDeclaration } from './allocation/plan-declarations.js';
export { parseGrouping, parseMethod, GROUPING_HELP } from './allocation/request-spec.js';
export { parseParameterCount, type ParameterCountText } from './numbers/count-text.js';
export { checkpointNames } from './allocation/checkpoint-groups.js';
export { readHeaderLength, parseHeader, checkDtype, TensorSketch, type TensorEntry } from './allocation/safetensors.js';
export type {
  AllocationInput,
  AllocationItem,
  AllocationPlan,
  AllocationRequest,
  AllocationResult,
  GenerationMethod,
  Generator,
  GroupingSpec,
  GroupPlan,
  LayerPlan,
} from './allocation/types.js';
export { evaluateArchitecture, type Architecture, type ArchitectureModel } from './analysis/architecture.js';
export type { BlockMember, LayerNode, ModelMember, ModuleNode, StackNode } from './model/module-tree.js';
export { mainWeight } from './model/main-weight.js';
export type { WeightSpec, LayerCost, AttentionInfo, ConvInfo, ArgValue } from './layers/layer-kind.js';
export type { AdapterMethod, HeadShare, Modifier, PatternStep, ResolvedSharing, StackShare, StackStrategy, TieSource } from './sharing/declarations.js';
export { instanceAt, type ResolvedPath } from './sharing/resolve-path.js';
export { adapterTaskRows, taskZeroOwns } from './analysis/tasks.js';
export { cayleyMacs, sandwichConvGenerationMacs } from './layers/lbdn.js';
export { routedSelection } from './layers/weight-specs.js';
export { adapterModifiersFor, keepsBorrowedKvWeights, kvProducerPath, modifiersFor, nodeAt, pathText, routeOf, storePath, tiedMains, tiedWeight, weightStoreKey, type PathStep, type StackRoute, type StoreModel, type TiedWeight } from './sharing/store-resolver.js';
export * from './plans/index.js';
export { SCHEMES, WEIGHT_CLASSES, findScheme, formatScaling, type Scheme, type SchemeName, type WeightClass } from './parameterization/schemes.js';
export { PARAM_ARGS, type Parameterization } from './parameterization/resolve-parameterization.js';
export { generatesWeight, type GeneratingEffect } from './sharing/generated-weights.js';
export { balancedModes, describeFactorMethod, factorExecution, factorsCheaperBelowTokens, factorLayout, factorShape, factorStorage, fedparaRank, type CentralSharing, type FactorExecution, type FactorLayout, type FactorMethod, type FactorTarget, type FactorTensor } from './sharing/factorization.js';
export { lorettaCost, lorettaMatrices, REFERENCE_TT_SHAPES, ttMatrix, type LorettaMethod, type TtMatrix } from './sharing/tt-adapter.js';
export { sparseMasked, targetExecution, type FactorizedWeightRow, type MaterialisedBecause } from './sharing/factorized-weights.js';
export { factorStoreAt, tieAllOwnerSteps, tiedExecution } from './sharing/tied-factors.js';
export { transferTable, type BaseOverrides, type Factor, type TransferRow, type TransferTable } from './parameterization/transfer.js';
export { analyzeSupernet, globalLabel, instanceChoices, MEASURED, type ElasticStack, type InstanceChoice, type MetricVector, type Supernet, type SupernetPoint, type SupernetResult } from './supernet/supernet.js';
export {
  enumerateSubnets,
  exactClass,
  classMetric,
  subnetClasses,
  subnetVariant,
  describeSubnetClass,
  isSubnetMetric,
  SUBNET_METRICS,
  MAX_SUBNET_CLASSES,
  type SubnetClass,
  type SubnetConstraint,
  type SubnetEnumeration,
  type SubnetMetric,
  type SubnetQuery,
} from './supernet/enumerate.js';
export { parseSubnetFilter } from './supernet/subnet-filter.js';
export { readElasticStatement, type ElasticSpace, type ElasticArg, type ElasticDeclaration, type GlobalElasticChoice } from './supernet/elastic-statement.js';
export { appendAll, maxOf } from './collections/append-all.js';
