// npas/allocationInput and npas/allocate: Allocate Parameters' questions answered by the server
// from its compilation of the open document (unsaved text included), so the extension host runs
// no engine work; the variant is the one `npas allocate … --emit` prints for the same text, and
// it budgets to exactly the target when the engine counts it.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { analyze, type AllocationPlan } from '../../src/core/index.js';
import { ALLOCATE_METHOD, ALLOCATION_INPUT_METHOD, type AllocateAnswer, type AllocationInputAnswer } from '../../src/protocol/lsp-extensions.js';
import { runInProcess } from '../cli/run-in-process.js';
import { MINIMAL_CAPABILITIES, startSession } from './harness.js';

// d = 16. Per block: attention q, k, v, o of 16·16 without biases = 1,024; RMSNorm 16;
// MLP 16·32 + 32 + 32·16 + 16 = 1,072. Embedding 50·16 = 800, the head tied to it.
const TINY = ['model Tiny {', '  d = 16', '  block B {', '    attn = Attention(d, heads: 2)', '    norm = RMSNorm(d)', '    mlp  = MLP(d, 32)', '  }', '  embed   = Embedding(50, d)', '  body    = B * 4', '  lm_head = Linear(d, 50) tied embed', '}', ''].join('\n');
const STORED = 800 + 4 * (4 * 16 * 16 + 16 + (16 * 32 + 32 + 32 * 16 + 16));

const dir = mkdtempSync(join(tmpdir(), 'npas-allocation-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the model’s stored count and least budget, then the plan at an exact budget and the variant `npas allocate --emit` prints', async () => {
  const path = join(dir, 'tiny.npas');
  // On disk an older text: the server answers from the open document's.
  writeFileSync(path, TINY.replace('B * 4', 'B * 2'));
  const uri = pathToFileURL(path).href;
  const s = await startSession({ capabilities: MINIMAL_CAPABILITIES });
  try {
    await s.open(uri, TINY);
    const input = await s.client.sendRequest<AllocationInputAnswer | null>(ALLOCATION_INPUT_METHOD, { uri, model: 'Tiny' });
    assert.ok(input?.ok, JSON.stringify(input));
    assert.equal(input.stored, STORED);
    assert.equal(STORED, Number(analyze(TINY).models[0]!.params.stored), 'the derivation above is the engine’s count');
    assert.ok(input.minimum > 1 && input.minimum < STORED);

    const target = 5000;
    const answer = await s.client.sendRequest<AllocateAnswer<AllocationPlan> | null>(ALLOCATE_METHOD, { uri, model: 'Tiny', target, grouping: 'shape', method: 'wavg' });
    assert.ok(answer?.ok, JSON.stringify(answer));
    assert.equal(answer.plan.stored, target);
    assert.equal(answer.variantName, 'Tiny_npas');
    writeFileSync(path, TINY);
    assert.equal(answer.variantText, runInProcess('allocate', path, '--model', 'Tiny', '--params', String(target), '--groups', 'shape', '--method', 'wavg', '--emit').stdout);
    const withVariant = analyze(`${TINY}\n${answer.variantText}`);
    assert.equal(withVariant.models.find((m) => m.name === 'Tiny_npas')?.params.stored, BigInt(target));

    // Refusals carry the allocator's words (and its minimum); a document that is not open answers null.
    const low = await s.client.sendRequest<AllocateAnswer | null>(ALLOCATE_METHOD, { uri, model: 'Tiny', target: 1, grouping: 'all', method: 'wavg' });
    assert.ok(low && !low.ok);
    assert.equal(typeof low.minimum, 'number');
    const bad = await s.client.sendRequest<AllocateAnswer | null>(ALLOCATE_METHOD, { uri, model: 'Tiny', target, grouping: 'rows', method: 'wavg' });
    assert.ok(bad && !bad.ok && /rows/.test(bad.message), JSON.stringify(bad));
    const checkpoint = await s.client.sendRequest<AllocateAnswer | null>(ALLOCATE_METHOD, { uri, model: 'Tiny', target, grouping: 'checkpoint:x.safetensors', method: 'wavg' });
    assert.ok(checkpoint && !checkpoint.ok && /command line/.test(checkpoint.message));
    const unknown = await s.client.sendRequest<AllocationInputAnswer | null>(ALLOCATION_INPUT_METHOD, { uri, model: 'Nope' });
    assert.ok(unknown && !unknown.ok && /no model or variant named 'Nope'/.test(unknown.message));
    assert.equal(await s.client.sendRequest(ALLOCATION_INPUT_METHOD, { uri: 'file:///not-open.npas', model: 'Tiny' }), null);
    assert.equal(await s.client.sendRequest(ALLOCATE_METHOD, { uri, model: 'Tiny', target: 1.5, grouping: 'all', method: 'wavg' }), null, 'a malformed request is an empty answer');
  } finally {
    await s.close();
  }
});
