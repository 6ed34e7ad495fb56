// Allocation pane: the NPAS allocator's plan (layers × groups) once that feature exists.
// Until then it says plainly that there is nothing to show.

import type { RenderedView, ViewContext } from './context.js';

export function renderAllocation(root: HTMLElement, ctx: ViewContext): RenderedView {
  root.replaceChildren();
  const p = ctx.document.createElement('p');
  p.className = 'npas-empty';
  p.setAttribute('role', 'status');
  p.textContent = 'No allocation yet: the NPAS allocator is not part of this version. An `allocate params: N` request in the spec is checked, but no plan is computed, so there is no layers × groups matrix to draw.';
  root.append(p);
  return { exportable: null };
}
