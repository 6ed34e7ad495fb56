// The words a plan is said in, shared by `npas plan` and the dashboard's Plan pane so the two
// never describe the same layout or the same efficiency assumption differently.

import type { TrainingPlan } from './evaluate-plan.js';
import type { Efficiency } from './plan-settings.js';

/** `tp 2 · pp 4 (vpp 2) · dp 8 · ZeRO 1`: the parallel layout, dimensions of 1 left out (tp, pp, dp always shown). */
export function planLayoutText(p: TrainingPlan): string {
  const q = p.parallel;
  return `tp ${q.tp} · pp ${q.pp}${q.vpp > 1 ? ` (vpp ${q.vpp})` : ''} · dp ${q.dp}${q.cp > 1 ? ` · cp ${q.cp}` : ''}${q.ep > 1 ? ` · ep ${q.ep}` : ''} · ZeRO ${q.zero}`;
}

/**
 * What the step time assumes of the peaks: `undefined` on the roofline (both fractions 1),
 * otherwise `at 50% of peak FLOPs, 80% of link bandwidth`, naming only the fractions below 1.
 */
export function efficiencyText(e: Efficiency): string | undefined {
  const parts = [e.compute !== 1 ? `${percentText(e.compute)} of peak FLOPs` : '', e.links !== 1 ? `${percentText(e.links)} of link bandwidth` : ''].filter((t) => t !== '');
  return parts.length > 0 ? `at ${parts.join(', ')}` : undefined;
}

/** A fraction as a percentage to one decimal, trailing `.0` dropped (0.5 → `50%`, 0.355 → `35.5%`). */
function percentText(x: number): string {
  return `${Math.round(x * 1000) / 10}%`;
}
