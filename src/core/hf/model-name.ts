// Turns a Hub id, a path or a user's wish into a valid `.npas` model name: ASCII letters, digits
// and `_`, not starting with a digit, not a keyword. "meta-llama/Llama-2-7b-hf" → Llama_2_7b_hf.

import { KEYWORDS as RESERVED } from '../syntax/token.js';

const KEYWORDS: ReadonlySet<string> = new Set(RESERVED);

/** A valid identifier from arbitrary text, or undefined when nothing usable remains. */
export function toIdentifier(text: string): string | undefined {
  // Keep the last path segment: "org/name" and "/home/me/models/name/" both give "name".
  const segment = text.split(/[\\/]/).filter((s) => s.trim() !== '').pop() ?? '';
  let name = segment
    // Decompose accents and drop the combining marks, so "Mëtal" keeps its letters.
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (name === '') return undefined;
  if (/^[0-9]/.test(name)) name = `M_${name}`;
  if (KEYWORDS.has(name)) name = `${name}_model`;
  return name;
}

/** The model name: the caller's choice, else the config's _name_or_path, else from model_type. */
export function chooseModelName(requested: string | undefined, nameOrPath: string | undefined, modelType: string): string {
  for (const candidate of [requested, nameOrPath]) {
    if (candidate === undefined) continue;
    const name = toIdentifier(candidate);
    if (name !== undefined) return name;
  }
  const fromType = toIdentifier(modelType) ?? 'Imported';
  return fromType.charAt(0).toUpperCase() + fromType.slice(1);
}
