// Signatures, snippets and Markdown docs of the builtin layer kinds, read from their argument
// schemas (LAYER_KINDS, `ArgSpec.doc`), so hovers and completion never drift from the engine.

import type { ArgSpec, ArgType, LayerKind } from '../layers/layer-kind.js';

/** `Attention(d, heads, kv_heads?, head_dim?, bias: false, …)`: positional first, then named. */
export function layerSignature(kind: LayerKind): string {
  const parts = kind.args.map((a) => {
    if (a.positional) return a.required ? a.name : `${a.name}?`;
    return a.default !== undefined ? `${a.name}: ${String(a.default)}` : a.required ? `${a.name}: …` : `${a.name}?: …`;
  });
  return `${kind.name}(${parts.join(', ')})`;
}

/** A snippet that fills the required arguments: `Attention(${1:d}, ${2:heads})$0`. */
export function layerSnippet(kind: LayerKind): string {
  let i = 1;
  const parts: string[] = [];
  for (const a of kind.args) {
    if (!a.required) continue;
    parts.push(a.positional ? `\${${i}:${a.name}}` : `${a.name}: \${${i}:${a.name}}`);
    i++;
  }
  return parts.length === 0 ? `${kind.name}()$0` : `${kind.name}(${parts.join(', ')})$0`;
}

/** The type of an argument in words: `positive integer`, `one of none, rms, layer`. */
export function describeArgType(t: ArgType): string {
  switch (t.kind) {
    case 'dim':
      return 'positive integer';
    case 'count':
      return 'non-negative integer';
    case 'bool':
      return 'true or false';
    case 'enum':
      return `one of ${t.values.join(', ')}`;
    case 'ratio':
      return 'positive ratio';
  }
}

/** One line about an argument: `heads (required, positional) — positive integer. Query heads.` */
export function argumentLine(a: ArgSpec): string {
  const how = a.required ? (a.positional ? 'required, positional' : 'required, named') : a.positional ? 'optional, positional' : 'optional';
  const def = a.default !== undefined ? `, default \`${String(a.default)}\`` : '';
  return `\`${a.name}\` (${how}${def}) — ${describeArgType(a.type)}. ${a.doc}`;
}

/** The hover of a layer kind: signature, description, and every argument. */
export function layerMarkdown(kind: LayerKind): string {
  const lines = ['```npas', layerSignature(kind), '```', '', kind.doc, ''];
  if (kind.args.length > 0) {
    lines.push('Arguments (positional in this order, or named `name: value`):', '');
    for (const a of kind.args) lines.push(`- ${argumentLine(a)}`);
  } else lines.push('No arguments.');
  return lines.join('\n');
}

/** The hover of one argument of a layer kind. */
export function argumentMarkdown(kind: LayerKind, arg: ArgSpec): string {
  return [`**${kind.name}** argument`, '', argumentLine(arg)].join('\n');
}
