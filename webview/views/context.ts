// What every view receives: the data, the selected model, the persisted state and the few
// actions a view may take. Views render into an injected root element and touch nothing else,
// so tests run them in jsdom.

import type { DashboardData, ModelData, Range } from '../../src/core/layout/types.js';
import type { DashboardState } from '../../src/protocol/webview-messages.js';

export interface ViewContext {
  readonly document: Document;
  readonly data: DashboardData;
  readonly model: ModelData;
  readonly state: DashboardState;
  /** Persist a state change and draw again. */
  readonly update: (patch: Partial<DashboardState>) => void;
  /** Reveal a declaration in the editor (the host decides what that means). */
  readonly reveal: (range: Range) => void;
  /** Show hover text near a point (client coordinates); `null` hides it. */
  readonly hover: (text: string | null, x?: number, y?: number) => void;
}

export interface RenderedView {
  /** The chart to export as SVG/PNG, if the view has one. */
  readonly exportable: SVGSVGElement | null;
  /** Remove listeners outside the root (window scroll) before the view is drawn again. */
  readonly dispose?: () => void;
}

export type View = (root: HTMLElement, ctx: ViewContext) => RenderedView;

export const SVG_NS = 'http://www.w3.org/2000/svg';
