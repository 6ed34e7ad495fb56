// Signature help, data-driven: the cursor ($0) in a call being written, the signature expected
// (its label) and the parameter it marks active (by name), or none outside calls.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LAYER_KINDS, signatureHelpAt } from '../../../src/core/index.js';
import { marked } from './cursor.js';

const BLOCK = 'block Decoder(d, heads = 4, window = none) {\n  attn = Attention(d, heads: heads, window: window)\n}\n';

const CASES: readonly { name: string; source: string; label: RegExp | undefined; active?: string | undefined }[] = [
  { name: 'just after `(` of a layer: the first positional argument', source: 'model M {\n  a = Attention($0)\n}\n', label: /^Attention\(d, heads, kv_heads\?, head_dim\?, bias: false/, active: 'd' },
  { name: 'after a comma: the next positional argument', source: 'model M {\n  a = Attention(64, $0)\n}\n', label: /^Attention\(/, active: 'heads' },
  { name: 'half-written, no closing parenthesis', source: 'model M {\n  a = Attention(64, 8, $0\n}\n', label: /^Attention\(/, active: 'kv_heads' },
  { name: 'a named argument being written', source: 'model M {\n  a = Attention(64, heads: 8, window: $0)\n}\n', label: /^Attention\(/, active: 'window' },
  { name: 'a named argument with a value started', source: 'model M {\n  a = MLP(64, 256, act: ge$0)\n}\n', label: /^MLP\(/, active: 'act' },
  { name: 'a nested call: the innermost', source: 'model M {\n  a = [Linear(64, $0) for i in 0..2]\n}\n', label: /^Linear\(/, active: 'd_out' },
  { name: 'past the positional arguments: none active', source: 'model M {\n  a = Embedding(1000, 64, 3, $0)\n}\n', label: /^Embedding\(/, active: undefined },
  { name: 'a block: its parameters with defaults as written', source: `${BLOCK}model M {\n  b = Decoder(64, $0)\n}\n`, label: /^Decoder\(d, heads = 4, window = none\)$/, active: 'heads' },
  { name: 'a block, named', source: `${BLOCK}model M {\n  b = Decoder(64, window: $0)\n}\n`, label: /^Decoder\(/, active: 'window' },
  { name: 'after the closing parenthesis: nothing', source: 'model M {\n  a = Linear(64, 64)$0\n}\n', label: undefined },
  { name: 'a stack strategy: its positional count', source: 'model M {\n  a = Linear(64, 64) * 4\n  share a: cycle($0)\n}\n', label: /^cycle\(n\)$/, active: 'n' },
  { name: 'a KV strategy is looked up among KV strategies', source: 'model M {\n  a = Attention(64, heads: 4) * 4\n  share kv a: map($0)\n}\n', label: /^map\(map, keep_weights\?: …\)$/, active: 'map' },
  { name: 'an adapter after relax, a named argument', source: 'model M {\n  a = Linear(64, 64) * 4\n  share a: cycle(2) relax lora(rank: 8, $0)\n}\n', label: /^lora\(rank: …, merged\?: …/, active: undefined },
  { name: 'an adapter argument being written', source: 'model M {\n  a = Linear(64, 64) * 4\n  adapt a: lora(rank: 8, merged: $0)\n}\n', label: /^lora\(/, active: 'merged' },
  { name: 'a name the file binds is not callable', source: 'model M {\n  d = 4\n  a = d($0)\n}\n', label: undefined },
  { name: 'in a comment', source: 'model M {\n  a = Linear(64, 64) # Linear($0\n}\n', label: undefined },
];

for (const c of CASES) {
  test(`signature help: ${c.name}`, () => {
    const { text, offset, analysis } = marked(c.source);
    const help = signatureHelpAt(text, analysis, offset);
    if (!c.label) {
      assert.equal(help, undefined);
      return;
    }
    assert.ok(help, 'a signature');
    assert.match(help.signature.label, c.label);
    const active = help.activeParameter === undefined ? undefined : help.signature.parameters[help.activeParameter];
    const activeName = active ? help.signature.label.slice(active.label[0], active.label[1]).split(/[?: =]/)[0] : undefined;
    assert.equal(activeName, c.active);
  });
}

test("every layer kind's signature: one parameter per argument, each label slice starting with its name, docs from the schema", () => {
  for (const kind of LAYER_KINDS.values()) {
    const source = `model M {\n  a = ${kind.name}($0)\n}\n`;
    const { text, offset, analysis } = marked(source);
    const help = signatureHelpAt(text, analysis, offset);
    assert.ok(help, kind.name);
    assert.equal(help.signature.parameters.length, kind.args.length, kind.name);
    kind.args.forEach((a, i) => {
      const p = help.signature.parameters[i]!;
      assert.ok(help.signature.label.slice(p.label[0], p.label[1]).startsWith(a.name), `${kind.name}.${a.name}`);
      assert.ok(p.documentation.includes(a.doc), `${kind.name}.${a.name} doc`);
      if (a.default !== undefined) assert.ok(p.documentation.includes(`default \`${String(a.default)}\``), `${kind.name}.${a.name} default`);
    });
  }
});
