// Test inputs with a cursor: `$0` marks the offset a service is asked about.

import { analyze, type AnalysisResult } from '../../../src/core/index.js';

export interface Marked {
  readonly text: string;
  readonly offset: number;
  readonly analysis: AnalysisResult;
}

/** Removes the `$0` marker, analyses the text, and returns the marker's offset. */
export function marked(source: string): Marked {
  const offset = source.indexOf('$0');
  if (offset < 0) throw new Error(`no $0 in ${JSON.stringify(source)}`);
  const text = source.slice(0, offset) + source.slice(offset + 2);
  return { text, offset, analysis: analyze(text) };
}

/** The offset range of the n-th occurrence (from 0) of `needle` in `text`. */
export function rangeOf(text: string, needle: string, occurrence = 0): { start: number; end: number } {
  let i = -1;
  for (let k = 0; k <= occurrence; k++) {
    i = text.indexOf(needle, i + 1);
    if (i < 0) throw new Error(`'${needle}' (#${occurrence}) not in text`);
  }
  return { start: i, end: i + needle.length };
}
