// `npas/childProgram` (src/server/features/child-program.ts): what Export ONNX and Run GPU Probe
// hand their child process, answered by the server so the extension host compiles nothing — the
// document's text and every file its imports reach as the server read them (an open library's
// unsaved text over the one on disk, a closed one from disk), and the probed model's fingerprint
// in the text the child reads (which changes when that model's text does, and not when another's does).

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { modelFingerprint, parse } from '../../src/core/index.js';
import { CHILD_PROGRAM_METHOD, type ChildProgramAnswer } from '../../src/protocol/lsp-extensions.js';
import { MINIMAL_CAPABILITIES, startSession } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'npas-child-program-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const LIB = 'd = 32\nblock Layer {\n  attn = Attention(d, 4)\n  mlp  = MLP(d, 64)\n}\n';
const NORMS = 'd = 32\nblock Norm {\n  n = RMSNorm(d)\n}\n';
const MAIN = (layers: number) => `from "lib/layers.npas" import Layer\nfrom "lib/norms.npas" import Norm\nd = 32\nmodel Tiny {\n  embed = Embedding(64, d)\n  body  = Layer * ${layers}\n  norm  = Norm\n}\nmodel Other {\n  embed = Embedding(64, d)\n}\n`;

test('the document and the files its imports reach, as the server read them, with the probed model’s fingerprint', async () => {
  mkdirSync(join(dir, 'lib'), { recursive: true });
  const main = join(dir, 'main.npas');
  const lib = join(dir, 'lib', 'layers.npas');
  const norms = join(dir, 'lib', 'norms.npas');
  writeFileSync(main, MAIN(2));
  writeFileSync(lib, LIB.replace('64', '16')); // on disk an older library: the open document's text counts
  writeFileSync(norms, NORMS); // closed: read from disk
  const uri = pathToFileURL(main).href;
  const libUri = pathToFileURL(lib).href;
  const s = await startSession({ capabilities: MINIMAL_CAPABILITIES });
  try {
    await s.open(libUri, LIB);
    await s.open(uri, MAIN(4));
    const answer = await s.client.sendRequest<ChildProgramAnswer | null>(CHILD_PROGRAM_METHOD, { uri, model: 'Tiny' });
    assert.ok(answer);
    assert.equal(answer.version, 1);
    assert.equal(answer.text, MAIN(4), 'the open document’s text, not the file’s');
    const imported = new Map(answer.imported.map((f) => [f.uri, f.text]));
    assert.deepEqual([...imported.keys()].sort(), [libUri, pathToFileURL(norms).href].sort());
    assert.equal(imported.get(libUri), LIB, 'the open library’s unsaved text, not the one on disk');
    assert.equal(imported.get(pathToFileURL(norms).href), NORMS);
    // The fingerprint the server later judges the measurement by: the model's in the text the child reads.
    assert.equal(answer.fingerprint, modelFingerprint(MAIN(4), parse(MAIN(4)).file, 'Tiny'));
    assert.match(answer.fingerprint!, /^[0-9a-f]{64}$/);

    // An edit of the model changes its fingerprint; the export (no model) gets none.
    await s.replace(uri, MAIN(6), 2);
    const edited = await s.client.sendRequest<ChildProgramAnswer | null>(CHILD_PROGRAM_METHOD, { uri, model: 'Tiny' });
    assert.equal(edited?.version, 2);
    assert.equal(edited?.text, MAIN(6));
    assert.notEqual(edited?.fingerprint, answer.fingerprint);
    const other = async () => (await s.client.sendRequest<ChildProgramAnswer | null>(CHILD_PROGRAM_METHOD, { uri, model: 'Other' }))?.fingerprint;
    const otherBefore = await other();
    await s.replace(uri, MAIN(8), 3);
    assert.equal(await other(), otherBefore, 'another model’s edit leaves its fingerprint');
    const exportAnswer = await s.client.sendRequest<ChildProgramAnswer | null>(CHILD_PROGRAM_METHOD, { uri });
    assert.equal(exportAnswer?.fingerprint, undefined);
    assert.equal(exportAnswer?.text, MAIN(8));
    assert.equal((await s.client.sendRequest<ChildProgramAnswer | null>(CHILD_PROGRAM_METHOD, { uri, model: 'Nope' }))?.fingerprint, undefined);

    // A document the server does not hold answers null; a malformed request is an empty answer.
    assert.equal(await s.client.sendRequest(CHILD_PROGRAM_METHOD, { uri: pathToFileURL(norms).href }), null);
    assert.equal(await s.client.sendRequest(CHILD_PROGRAM_METHOD, { uri: 7 }), null);
  } finally {
    await s.close();
  }
});
