// Text taken from outside (a config's strings, a spec's string literals) must never act on
// whoever reads it: a newline in a config value must not start a new line of the written spec,
// and an ESC in a diagnostic must not retitle or clear the user's terminal. This makes any text
// one visible line: line breaks, tabs, C0/C1 control characters, DEL, the Unicode line and
// paragraph separators and the bidirectional overrides become escapes such as `\n` or `\u001b` (valid inside JSON strings too).

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

// C0 controls, DEL, C1 controls, U+2028/2029 (line/paragraph separators), the bidi embeddings,
// overrides and isolates (U+202A–U+202E, U+2066–U+2069) and the zero-width joiners' cousin U+200E/F marks.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** `text` as one line of visible characters: every unsafe character escaped. */
export function escapeControl(text: string): string {
  return text.replace(UNSAFE, (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Like `escapeControl`, but keeps line feeds (for multi-line output such as a report). */
export function escapeControlKeepLines(text: string): string {
  return text.split('\n').map(escapeControl).join('\n');
}
