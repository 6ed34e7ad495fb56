// Reads the textual options shared by the CLI and the language: `shape`, `depth:4`,
// `cluster:8`, `checkpoint:PATH`, and the generation method `wavg`, `wavg(8)`, `repeat`, `hash`.

import type { GenerationMethod, GroupingSpec } from './types.js';

export const GROUPING_HELP = 'auto, all, shape, role, depth:K, cluster:K or checkpoint:PATH';

export function parseGrouping(text: string): GroupingSpec | string {
  const t = text.trim();
  if (t === 'auto' || t === 'all' || t === 'shape' || t === 'role') return { kind: t };
  if (t.startsWith('checkpoint:') && t.length > 'checkpoint:'.length) return { kind: 'checkpoint', path: t.slice('checkpoint:'.length) };
  const m = /^(depth|cluster)[:(](\d+)\)?$/.exec(t);
  if (m) {
    const k = Number(m[2]);
    if (!Number.isSafeInteger(k) || k < 1 || k > 100_000) return `${m[1]}:K needs a whole K between 1 and 100000, got '${m[2]}'`;
    return { kind: m[1] as 'depth' | 'cluster', k };
  }
  return `unknown grouping '${text}' (use ${GROUPING_HELP})`;
}

export function parseMethod(text: string): { method: GenerationMethod; maxTemplates: number } | string {
  const m = /^(wavg|repeat|hash)(?:\((\d+)\))?$/.exec(text.trim());
  if (!m) return `unknown method '${text}' (use wavg, wavg(K), repeat or hash)`;
  const k = m[2] === undefined ? 8 : Number(m[2]);
  if (!Number.isSafeInteger(k) || k < 1 || k > 1_000_000) return `the template cap must be a whole number ≥ 1, got '${m[2]}'`;
  return { method: m[1] as GenerationMethod, maxTemplates: k };
}
