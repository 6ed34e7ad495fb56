// Plans: will a model train on a cluster and serve on a device (docs/plans.md).

export { DEFAULT_PARALLEL, DEFAULT_PLAN, EFFICIENCY_NAMES, FINETUNE_MODES, RECOMPUTE_MODES, ROOFLINE_EFFICIENCY, checkPlanSettings, efficiencyProblem, microBatchesPerStep } from './plan-settings.js';
export type { Efficiency, FinetuneMode, ParallelSettings, PlanDtypes, PlanSettings, RecomputeMode, ZeroStage } from './plan-settings.js';
export { OPTIMIZERS, OPTIMIZER_NAMES, findOptimizer, type OptimizerName, type OptimizerProfile } from './optimizers.js';
export { NF4_DOUBLE_QUANT_BYTES } from './precision.js';
export { pipelineModel, type PipelineModel } from './pipeline-units.js';
export { layoutPipeline, type PipelineLayout } from './pipeline-stages.js';
export { evaluatePlan, type PlanBytes, type PlanOutcome, type StagePlan, type TrainingPlan } from './evaluate-plan.js';
export type { StepTime } from './step-time.js';
export { searchPlans, smallestCluster, type PlanSearch } from './search-plans.js';
export { planServing, MAX_CONTEXT_SEARCHED, type KvAt, type ServingOutcome, type ServingPlan, type ServingSettings } from './serving.js';
export { planSource, type PlanSource } from './plan-source.js';
export { efficiencyText, planLayoutText } from './plan-text.js';
