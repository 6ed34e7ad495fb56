// A prompt shared by continuations (the `sharedPrefix` setting: prefix sharing for preference
// tuning, parallel sampling), drawn in the Budget pane under the parameters:
// - the block-sparse attention mask of one packed sequence, P prompt tokens then k continuations
//   of C tokens: every row attends to the prompt's columns and to its own block's earlier
//   columns, never to another continuation (the blocks are drawn to scale in tokens);
// - a table of what each sequence computes and caches shared, against the same k continuations
//   run as k separate sequences of P + C tokens (the report's exact figures; nothing recomputed).
// Nothing is drawn without the setting.

import * as d3 from 'd3';
import type { SharedPrefixData } from '../../src/core/layout/types.js';
import { formatBytes, formatFlops, groupDigits } from '../format.js';

/** A block of the mask: rows [row, row + h) attend to columns [col, col + w); `causal` blocks are lower-triangular. */
export interface MaskBlock {
  readonly part: 'prompt' | 'continuation';
  readonly index: number;
  readonly row: number;
  readonly col: number;
  readonly h: number;
  readonly w: number;
  readonly causal: boolean;
}

/**
 * The mask's attended blocks, in tokens: the prompt's causal block, and per continuation a full
 * block over the prompt's columns and a causal block over its own.
 */
export function maskBlocks(p: SharedPrefixData): MaskBlock[] {
  const P = p.tokens;
  const C = (p.computedTokens - P) / p.continuations;
  const out: MaskBlock[] = [{ part: 'prompt', index: 0, row: 0, col: 0, h: P, w: P, causal: true }];
  for (let i = 0; i < p.continuations; i++) {
    const row = P + i * C;
    out.push({ part: 'continuation', index: i, row, col: 0, h: C, w: P, causal: false });
    out.push({ part: 'continuation', index: i, row, col: row, h: C, w: C, causal: true });
  }
  return out;
}

/** How many times fewer, to two decimals: "×1.43". */
function ratio(apart: string, shared: string): string {
  const s = BigInt(shared);
  return s === 0n ? '—' : `×${(Number((BigInt(apart) * 10_000n) / s) / 10_000).toFixed(2)}`;
}

export function renderSharedPrompt(section: HTMLElement, p: SharedPrefixData, modelName: string): void {
  const s = d3.select(section);
  const C = (p.computedTokens - p.tokens) / p.continuations;
  s.append('h3').text(`Shared prompt: ${groupDigits(p.tokens)} tokens, ${p.continuations} continuations of ${groupDigits(C)}`);

  // The mask, to scale: the packed sequence is P + k·C tokens on each side.
  const size = 220;
  const n = p.computedTokens;
  const scale = size / n;
  const svg = s
    .append('svg')
    .attr('class', 'npas-shared-prompt')
    .attr('width', size + 2)
    .attr('height', size + 2)
    .attr('role', 'img')
    .attr('aria-label', `${modelName}: attention mask of one packed sequence — the prompt's ${groupDigits(p.tokens)} tokens causal, each of ${p.continuations} continuations attends to the prompt and to its own earlier tokens only`);
  const g = svg.append('g').attr('transform', 'translate(1,1)');
  g.append('rect').attr('class', 'npas-mask-frame').attr('width', size).attr('height', size);
  for (const b of maskBlocks(p)) {
    const [x, y, w, h] = [b.col * scale, b.row * scale, b.w * scale, b.h * scale];
    const cls = `npas-mask-block npas-mask-${b.part}`;
    if (b.causal) g.append('path').attr('class', cls).attr('data-index', b.index).attr('d', `M${x},${y}L${x},${y + h}L${x + w},${y + h}Z`);
    else g.append('rect').attr('class', cls).attr('data-index', b.index).attr('x', x).attr('y', y).attr('width', w).attr('height', h);
  }

  const t = s.append('table').attr('class', 'npas-table npas-shared-prompt-table');
  t.append('caption').attr('class', 'npas-caption').text(`Per batch: the prompt computed and cached once, against ${p.continuations} separate sequences`);
  const hr = t.append('thead').append('tr');
  for (const h of ['', 'shared', 'apart', 'fewer']) hr.append('th').attr('scope', 'col').text(h);
  const tb = t.append('tbody');
  const rows: [string, string, string, string, string][] = [
    ['tokens', 'tokens per sequence', groupDigits(p.computedTokens), groupDigits(p.unsharedTokens), ratio(String(p.unsharedTokens), String(p.computedTokens))],
    ['prefill', 'prefill FLOPs', formatFlops(p.prefillFlops), formatFlops(p.unsharedPrefillFlops), ratio(p.unsharedPrefillFlops, p.prefillFlops)],
    ['kv', 'KV cache', formatBytes(p.kvCacheBytes), formatBytes(p.unsharedKvCacheBytes), ratio(p.unsharedKvCacheBytes, p.kvCacheBytes)],
  ];
  for (const [key, label, shared, apart, fewer] of rows) {
    const tr = tb.append('tr').attr('data-row', key);
    tr.append('th').attr('scope', 'row').text(label);
    tr.append('td').attr('data-field', 'shared').text(shared);
    tr.append('td').attr('data-field', 'apart').text(apart);
    tr.append('td').attr('data-field', 'fewer').text(fewer);
  }
}
