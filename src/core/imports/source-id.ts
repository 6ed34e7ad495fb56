// Which file a piece of text came from. A source id is the host's name for a file — the CLI's
// absolute path, the language server's document URI — and the core only ever compares ids and
// joins a relative import path onto one: it never touches a file system.

import type { TextRange } from '../syntax/syntax-tree.js';

/** A file's identity as its host names it: an absolute path or a URI. */
export type SourceId = string;

/** A range in a named file: where a definition or a diagnostic of another file lies. */
export interface SourceRange extends TextRange {
  readonly source: SourceId;
}

/**
 * The id of `path`, written in an import of `importer`: resolved against the importer's folder
 * with `.` and `..` segments removed (`file:///w/exp/a.npas` + `../lib/b.npas` →
 * `file:///w/lib/b.npas`). Ids are `/`-separated (POSIX paths and URIs); a host with other
 * separators passes its own resolver (`ImportHost.resolve`). A `..` never climbs above the root
 * (or a URI's authority).
 */
export function resolveImportPath(importer: SourceId, path: string): SourceId {
  const schemeEnd = importer.match(/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/]*/)?.[0] ?? '';
  const rest = importer.slice(schemeEnd.length);
  const folder = path.startsWith('/') ? [] : rest.split('/').slice(0, -1);
  const segments: string[] = [];
  for (const s of [...folder, ...path.split('/')]) {
    if (s === '.' || (s === '' && segments.length > 0)) continue;
    if (s === '..') {
      if (segments.length > 1 || (segments.length === 1 && segments[0] !== '')) segments.pop();
      continue;
    }
    segments.push(s);
  }
  const joined = segments.join('/');
  return schemeEnd + (joined.startsWith('/') || (schemeEnd === '' && !rest.startsWith('/')) ? joined : `/${joined}`);
}
