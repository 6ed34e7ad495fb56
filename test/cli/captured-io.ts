// The CliIO of a test that runs `npas` in-process (main or mainAsync, or a command's own entry)
// and reads what it printed: `out` and `err` collect stdout and stderr until the test resets
// them; files are read through the given function, and nothing is written.
import type { CliIO } from '../../src/cli/io.js';

export class CapturedIo implements CliIO {
  out = '';
  err = '';
  // Arrow properties, so a copy (`{ ...io, readFile }`) still prints into this capture.
  readonly stdout = (text: string): void => void (this.out += text);
  readonly stderr = (text: string): void => void (this.err += text);
  readonly writeFile = (): void => {};

  constructor(readonly readFile: (path: string) => string = () => '') {}
}
