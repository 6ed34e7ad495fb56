// Every model and variant of the example gallery that declares no sharing of its own, at budgets
// from 1% to 400% of its stored params: the plan stores exactly B with nothing unread, and its
// emitted variant, analysed by the engine, reports exactly B stored. Targets that already share
// (ALBERT, MoEUT, the recursive variants, …) are refused with a message naming the statement.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allocateSource, analyze, readArchitecture } from '../../../src/core/index.js';
import { allocateAndEmit, request } from './helpers.js';

const dir = join(__dirname, '..', '..', '..', 'examples');
const PERCENTS = [1, 10, 50, 100, 200, 400];

for (const file of readdirSync(dir).filter((f) => f.endsWith('.npas')).sort()) {
  test(`examples/${file}: exact plans from 1% to 400%`, () => {
    const text = readFileSync(join(dir, file), 'utf8');
    const models = analyze(text).models;
    let planned = 0;
    for (const m of models) {
      const arch = readArchitecture(text, m.name);
      if (!arch.ok) {
        assert.match(arch.message, /already declares sharing|already has an allocation/, `${m.name}: ${arch.message}`);
        continue;
      }
      const total = Number(m.params.stored);
      for (const pct of PERCENTS) {
        const B = Math.round((total * pct) / 100);
        // A small model's norms and biases can outweigh 1% of it (LBDN's toy network): then the
        // request is refused with the minimum, which must indeed be above B.
        const attempt = allocateSource(text, m.name, request(B));
        if (!attempt.ok) {
          const minimum = /below the minimum of (\d+)/.exec(attempt.message);
          assert.ok(minimum && Number(minimum[1]) > B, `${m.name} at ${pct}%: ${attempt.message}`);
          continue;
        }
        const plan = allocateAndEmit(text, m.name, request(B));
        assert.equal(plan.target, B);
      }
      planned++;
    }
    assert.ok(planned > 0, `${file} has at least one model to allocate`);
  });
}
