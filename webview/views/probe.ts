// Probe pane: GPU probe measurements against the roofline once that feature exists. Until then
// it says plainly that there is nothing to show.

import type { RenderedView, ViewContext } from './context.js';

export function renderProbe(root: HTMLElement, ctx: ViewContext): RenderedView {
  root.replaceChildren();
  const p = ctx.document.createElement('p');
  p.className = 'npas-empty';
  p.setAttribute('role', 'status');
  p.textContent = `No probe results yet: GPU probes are not part of this version, so there are no measurements to compare with the roofline estimates (${ctx.model.latency.device}: prefill and decode in the summary above are roofline bounds, not measurements).`;
  root.append(p);
  return { exportable: null };
}
