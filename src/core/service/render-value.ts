// Exact renderings of evaluated values for hovers, inlay hints and completion details:
// `8,192`, `2/3 (≈ 0.666667)`, `134,217,728 bytes (128.00 MiB)`, `gelu`, `stack of 18 × Decoder`.
// Numbers are exact rationals in the engine, so a fraction is shown as a fraction.

import type { ModuleNode } from '../model/module-tree.js';
import * as Q from '../numbers/rational.js';
import type { Value } from '../semantics/values.js';
import { compactBytes, groupDigits } from './text-format.js';

/** The value written exactly; long lists are shortened. `short` drops the approximate reading. */
export function renderValue(v: Value, short = false): string {
  switch (v.kind) {
    case 'number':
      return renderNumber(v.value, v.unit, short);
    case 'bool':
      return v.value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(v.value);
    case 'none':
      return 'none';
    case 'symbol':
      return v.name;
    case 'list': {
      const shown = v.items.slice(0, 8).map((x) => renderValue(x, true));
      return `[${shown.join(', ')}${v.items.length > 8 ? `, … (${v.items.length} items)` : ''}]`;
    }
    case 'module':
      return describeModule(v.node);
    case 'block':
      return `block ${v.decl.name.text}`;
    case 'layerKind':
      return `layer kind ${v.layer.name}`;
    case 'builtin':
      return `function ${v.name}`;
    case 'device':
      return `device: ${v.profile.description} (${v.profile.source})`;
    case 'error':
      return '(invalid)';
  }
}

function renderNumber(q: Q.Rational, unit: 'count' | 'bytes' | 'seconds', short: boolean): string {
  const exact = Q.isInteger(q) ? groupDigits(q.num) : `${groupDigits(q.num)}/${groupDigits(q.den)}`;
  if (unit === 'count') {
    if (Q.isInteger(q) || short) return exact;
    return `${exact} (≈ ${Q.toDecimalString(q, 6)})`;
  }
  if (unit === 'bytes') {
    const bytes = Q.isInteger(q) ? q.num : Q.round(q);
    const compact = compactBytes(bytes);
    return short || compact.endsWith(' bytes') ? `${exact} bytes` : `${exact} bytes (${compact})`;
  }
  const ms = Q.toDecimalString(Q.mul(q, Q.fromInt(1000)), 6);
  return short ? `${ms} ms` : `${Q.toDecimalString(q, 9)} s (${ms} ms)`;
}

/** `Attention layer (heads: 8, kv_heads: 1)`, `Decoder block`, `stack of 18 × Decoder`. */
export function describeModule(node: ModuleNode): string {
  switch (node.kind) {
    case 'layer':
      return `${node.layerKind} layer${node.argsText ? ` (${node.argsText})` : ''}`;
    case 'block':
      return `${node.blockName} block`;
    case 'stack': {
      const runs = node.runs.map((r) => `${r.count} × ${moduleLabel(r.node)}`);
      const shown = runs.slice(0, 4).join(' + ') + (runs.length > 4 ? ` + … (${runs.length} runs)` : '');
      return `stack of ${groupDigits(node.length)}: ${shown}`;
    }
  }
}

/** A module's short name: the layer kind, the block name, or `stack`. */
export function moduleLabel(node: ModuleNode): string {
  return node.kind === 'layer' ? node.layerKind : node.kind === 'block' ? node.blockName : `stack of ${node.length}`;
}

