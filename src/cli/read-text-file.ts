// Reads a text input (a spec, a config.json, an index) with a size cap checked before reading,
// so pointing a command at a huge file (a checkpoint given as a spec) fails at once with a
// message instead of loading gigabytes into memory.

import { readFileSync, statSync } from 'node:fs';

/** Largest text file a command reads: far above any spec (the engine refuses specs past 16 MiB) or config. */
export const MAX_TEXT_FILE_BYTES = 64 * 1024 * 1024;

/** The file's text; throws an error with `code` EFBIG when it is larger than the cap. */
export function readTextFile(path: string): string {
  const size = statSync(path).size;
  if (size > MAX_TEXT_FILE_BYTES) throw Object.assign(new Error(`${path} is ${size} bytes`), { code: 'EFBIG', size });
  return readFileSync(path, 'utf8');
}
