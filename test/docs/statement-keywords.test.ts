// The statement keywords are one list (src/core/syntax/token.ts); everything that speaks of them
// must cover each: the hover docs, completion's member snippets, docs/language.md, and the
// reserved words an imported model name must avoid.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEYWORDS, STATEMENT_KEYWORDS } from '../../src/core/syntax/token.js';
import { KEYWORD_DOCS, MEMBER_KEYWORDS } from '../../src/core/service/vocabulary.js';
import { toIdentifier } from '../../src/core/hf/model-name.js';
import { parse } from '../../src/core/index.js';
import { SHARING_SCHEMES } from '../../src/core/schemes/registry.js';

const LANGUAGE = readFileSync(join(__dirname, '..', '..', 'docs', 'language.md'), 'utf8');

test('every statement keyword has hover docs, a completion snippet and a place in docs/language.md', () => {
  for (const k of STATEMENT_KEYWORDS) {
    assert.ok(KEYWORD_DOCS[k], `KEYWORD_DOCS lacks '${k}'`);
    assert.ok(MEMBER_KEYWORDS.some((m) => m.keyword === k || m.keyword.startsWith(`${k} `)), `no completion snippet starts with '${k}'`);
    assert.match(LANGUAGE, new RegExp('`' + k + '\\b'), `docs/language.md never shows \`${k}\``);
  }
});

test('every reserved word is avoided by imported model names, and begins no binding', () => {
  for (const k of KEYWORDS) {
    assert.notEqual(toIdentifier(k), k, `'${k}' would be used as a model name`);
    assert.ok(parse(`model M {\n  ${k} = Linear(8, 8)\n}\n`).diagnostics.length > 0, `'${k}' parsed as a binding name`);
  }
});

test('docs/language.md shows every method of every sharing scheme and names each of its arguments', () => {
  for (const scheme of SHARING_SCHEMES) {
    // The parameterisations have their own page, docs/parameterization.md.
    if (scheme.keyword === 'param') continue;
    for (const m of scheme.methods) {
      assert.match(LANGUAGE, new RegExp('`[^`\\n]*\\b' + m.name + '\\b[^`\\n]*`'), `docs/language.md never shows \`${m.name}\` (${scheme.keyword} ${scheme.modifier ?? ''})`);
      for (const a of m.args) {
        if (a.name === 'n' || a.name === 'map') continue; // written positionally: cycle(k), map([…])
        assert.match(LANGUAGE, new RegExp('\\b' + a.name + '\\b'), `docs/language.md never names ${m.name}'s argument '${a.name}'`);
      }
    }
  }
});
