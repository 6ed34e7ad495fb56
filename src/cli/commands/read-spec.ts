// Reads an input file for a command, turning file-system failures into clear CLI errors.

import { CliError, type CliIO } from '../io.js';
import { MAX_TEXT_FILE_BYTES } from '../read-text-file.js';

export function readSpec(path: string, io: CliIO): string {
  try {
    return io.readFile(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    const size = (e as { size?: number }).size;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : code === 'EFBIG' && size !== undefined
              ? `is ${(size / (1024 * 1024)).toFixed(0)} MiB; files over ${MAX_TEXT_FILE_BYTES / (1024 * 1024)} MiB are not read (is this the right file?)`
              : 'cannot be read';
    throw new CliError(`${path}: ${why}`);
  }
}
