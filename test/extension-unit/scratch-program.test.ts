// The scratch copy a child process (`npas export-onnx`, `npas probe`) reads when the spec or a
// file its imports reach has unsaved edits (src/extension/scratch-program.ts): the files land at
// the same places relative to one another, so the CLI's compilation of the copy follows the
// imports to the editor's texts — a library outside the spec's folder included — and not to
// what is on disk.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { specProgram } from '../../src/cli/spec-program.js';
import { writeScratchProgram } from '../../src/extension/scratch-program.js';

const LIB = (d: number) => `d = ${d}\nblock Pair {\n  a = Linear(d, d, bias: false)\n  b = Linear(d, d, bias: false)\n}\nmodel Base {\n  body = Pair * 4\n}\n`;
const EXP = 'import "../lib/blocks.npas"\nvariant Shared of Base {\n  share body: all\n}\n';

test('unsaved texts of a spec and of a library in a sibling folder: the copy compiles as the editor has them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'npas-scratch-program-'));
  try {
    // On disk: d = 64 and no variant. In the editor: d = 32 and the variant `Shared`.
    mkdirSync(join(dir, 'project', 'lib'), { recursive: true });
    mkdirSync(join(dir, 'project', 'exp'));
    const libPath = join(dir, 'project', 'lib', 'blocks.npas');
    const expPath = join(dir, 'project', 'exp', 'exp.npas');
    writeFileSync(libPath, LIB(64));
    writeFileSync(expPath, 'import "../lib/blocks.npas"\n');
    const scratch = join(dir, 'scratch');
    mkdirSync(scratch);
    const copy = writeScratchProgram(scratch, { path: expPath, text: EXP }, [{ path: libPath, text: LIB(32) }]);
    // The deepest folder holding both is `project`: the copies keep their places under it.
    assert.equal(copy, join(scratch, 'exp', 'exp.npas'));
    assert.equal(readFileSync(join(scratch, 'lib', 'blocks.npas'), 'utf8'), LIB(32));
    const program = specProgram(copy, readFileSync(copy, 'utf8'));
    assert.deepEqual(program.compilation.diagnostics, []);
    // One shared Pair of two 32 × 32 matrices: 2 × 1,024 = 2,048 (d = 64 on disk would give 8,192).
    const shared = program.compilation.analysis().models.find((m) => m.name === 'Shared');
    assert.equal(shared?.params.stored, 2_048n);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a spec alone (nothing imported) is copied by its name', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'npas-scratch-program-'));
  try {
    const copy = writeScratchProgram(scratch, { path: join(tmpdir(), 'somewhere', 'alone.npas'), text: 'model M { l = Linear(4, 4) }\n' }, []);
    assert.equal(copy, join(scratch, 'alone.npas'));
    assert.ok(existsSync(copy));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});
