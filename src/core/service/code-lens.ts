// Code lenses: one line of numbers above each model and variant ("1,593,677,824 params stored
// · 5.45 GFLOP/token"), each block (one instance) and each top-level module of a model or
// variant. A model's lens carries its name so the client can open the dashboard for it.

import type { AnalysisResult } from '../analysis/analyze.js';
import type { Member, TextRange } from '../syntax/syntax-tree.js';
import { indexOf, instanceTotals, instancesIn, type NodeOccurrence } from './analysis-index.js';
import { compactFlops, groupDigits } from './text-format.js';

export interface CodeLensInfo {
  /** Where the lens sits: the declaration's name. */
  readonly range: TextRange;
  readonly title: string;
  /** For models and variants: the name, the argument of the dashboard command. */
  readonly model: string | undefined;
}

/** Every lens of the file, in source order. */
export function codeLenses(_text: string, analysis: AnalysisResult): CodeLensInfo[] {
  const index = indexOf(analysis);
  const out: CodeLensInfo[] = [];
  const blocks = (members: readonly Member[], owner: string | undefined): void => {
    for (const m of members) {
      if (m.kind === 'Block') {
        const lens = blockLens(m.name.range, index.nodesAt(m.range).filter((o) => o.node.kind === 'block'), owner);
        if (lens) out.push(lens);
        blocks(m.members, owner);
      }
    }
  };
  for (const item of analysis.file.items) {
    if (item.kind === 'Block') {
      const lens = blockLens(item.name.range, index.nodesAt(item.range).filter((o) => o.node.kind === 'block'), undefined);
      if (lens) out.push(lens);
      blocks(item.members, undefined);
    }
    if (item.kind !== 'Model' && item.kind !== 'Variant') continue;
    const report = index.model(item.name.text);
    if (report && item.name.text !== '') {
      const per = report.flops.unit === 'token' ? 'token' : 'sample';
      out.push({ range: item.name.range, title: `${groupDigits(report.params.stored)} params stored · ${compactFlops(report.flops.prefillPerToken)}/${per}`, model: report.name });
    }
    for (const m of item.members) {
      if (m.kind === 'Block') {
        const lens = blockLens(m.name.range, index.nodesAt(m.range).filter((o) => o.node.kind === 'block'), item.name.text);
        if (lens) out.push(lens);
        blocks(m.members, item.name.text);
        continue;
      }
      if (m.kind !== 'Binding' || m.name.text === '') continue;
      // Top-level modules are the model tree's children, whose ranges are their bindings'.
      const found = preferred(index.nodesAt(m.range).filter((o) => o.ancestors.length === 1), item.name.text);
      if (!found) continue;
      const n = found.node;
      const count = n.kind === 'stack' ? ` · ×${groupDigits(n.count)}` : '';
      out.push({ range: m.name.range, title: `${groupDigits(n.params.stored)} params stored · ${compactFlops(n.flopsPerToken)}/token${count}`, model: undefined });
    }
  }
  return out.sort((a, b) => a.range.start - b.range.start);
}

/** The occurrence in the model that declares the thing, else the first. */
function preferred(occurrences: readonly NodeOccurrence[], model: string | undefined): NodeOccurrence | undefined {
  return occurrences.find((o) => o.model.name === model) ?? occurrences[0];
}

function blockLens(nameRange: TextRange, occurrences: readonly NodeOccurrence[], model: string | undefined): CodeLensInfo | undefined {
  const first = preferred(occurrences, model);
  if (!first) return undefined;
  const instances = instancesIn(occurrences, first.model);
  const one = instanceTotals(first.node);
  const where = instances === undefined ? '' : ` · ×${groupDigits(instances)} in ${first.model.name}`;
  return { range: nameRange, title: `${groupDigits(one.params)} params · ${compactFlops(one.flops)}/token per instance${where}`, model: undefined };
}
