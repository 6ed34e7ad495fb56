// Reads an input file for a command, turning file-system failures into clear CLI errors.

import { CliError, type CliIO } from '../io.js';

export function readSpec(path: string, io: CliIO): string {
  try {
    return io.readFile(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : 'cannot be read';
    throw new CliError(`${path}: ${why}`);
  }
}
