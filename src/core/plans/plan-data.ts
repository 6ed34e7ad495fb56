// A model's `plan` declarations as the dashboard's Plan pane draws them: each evaluated at the
// analysis settings with the same compilation (or the reason its settings were refused), bytes as
// exact decimal strings.

import type { AnalysisOptions } from '../analysis/report-types.js';
import type { Compilation, CompiledModel } from '../analysis/compilation.js';
import type { PlanBytesData, PlanData } from '../layout/types.js';
import type { PlanBytes, TrainingPlan } from './evaluate-plan.js';
import { planOutcome } from './plan-declaration.js';
import { efficiencyText, planLayoutText } from './plan-text.js';
import { pipelineModel } from './pipeline-units.js';
import { sharedStores } from './shared-stores.js';

export function planData(compilation: Compilation, model: CompiledModel, options: AnalysisOptions): PlanData[] {
  if (model.plans.length === 0) return [];
  const stores = sharedStores(model);
  return model.plans.map((prepared) => {
    const range = { start: prepared.declaration.target.range.start, end: prepared.declaration.target.range.end };
    const outcome = planOutcome(prepared, options, (seq, dtype) => {
      const report = compilation.analysis({ ...options, seq, batch: 1, dtype }).models.find((m) => m.name === model.name)!;
      return pipelineModel(report, stores);
    });
    if (!outcome.ok) {
      return { range, layout: '', schedule: '', problems: outcome.problems, device: options.device, deviceBytes: '0', fits: false, stages: [], step: { seconds: 0, parts: [] }, mfu: 0, tokensPerSecond: 0 };
    }
    return dataOf(outcome.plan, range);
  });
}

function dataOf(p: TrainingPlan, range: PlanData['range']): PlanData {
  const s = p.settings;
  const st = p.step;
  const reached = efficiencyText(s.efficiency);
  return {
    range,
    layout: `${p.gpus} × ${p.device}: ${planLayoutText(p)}`,
    schedule: `micro-batch ${s.microBatch} × ${p.microBatches} · global batch ${s.globalBatch} · seq ${s.seq} · recompute ${s.recompute} · ${s.optimizer} · ${s.finetune}${reached === undefined ? '' : ` · ${reached}`}`,
    problems: [],
    device: p.device,
    deviceBytes: String(p.deviceBytes),
    fits: p.fits,
    stages: p.stages.map((g) => ({ rank: g.rank, holds: g.holds.join(', '), bytes: bytesData(g.bytes), fits: g.fits })),
    step: {
      seconds: st.seconds,
      parts: [
        { name: 'compute', seconds: st.compute },
        { name: 'TP', seconds: st.tensorParallel },
        { name: 'EP', seconds: st.expertParallel },
        { name: 'CP', seconds: st.contextParallel },
        { name: 'bubble', seconds: st.pipelineBubble },
        { name: 'PP sends', seconds: st.pipelineSends },
        { name: 'DP', seconds: st.dataParallel },
        { name: 'shared stores', seconds: st.sharedStores },
      ],
    },
    mfu: p.mfu,
    tokensPerSecond: p.tokensPerSecond,
  };
}

function bytesData(b: PlanBytes): PlanBytesData {
  return {
    weights: String(b.weights),
    gradients: String(b.gradients),
    optimizer: String(b.optimizer),
    activations: String(b.activations),
    loss: String(b.loss),
    buffers: String(b.buffers),
    total: String(b.total),
  };
}
