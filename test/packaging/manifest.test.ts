// The extension manifest against the code it describes: command ids, activation events, settings
// (defaults, enums, validation) held to the extension's validator and the core's own lists,
// the grammar's keywords, suffixes and layer kinds held to the scanner and the layer registry,
// the language configuration's patterns, and every snippet expanded into a spec the engine
// analyses without an error. Plain Node: nothing here loads `vscode`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMAND_IDS } from '../../src/extension/command-ids.js';
import { ANALYSIS_RULES, DEVICES, DTYPES, MAX_COUNT_SETTING, PROBE_PROVIDERS, PROBE_RULES, checkSetting } from '../../src/extension/settings-schema.js';
import { DEFAULT_OPTIONS, DEVICES as CORE_DEVICES, LAYER_KINDS, PRECISION_CLASSES, analyze, DTYPE_NAMES, precisionFromSettings } from '../../src/core/index.js';
import { KEYWORDS, WRITTEN_SUFFIXES } from '../../src/core/syntax/token.js';
import { PRECISION_SETTING_KEYS } from '../../src/protocol/lsp-extensions.js';

const root = join(__dirname, '..', '..');
const json = <T>(path: string): T => JSON.parse(readFileSync(join(root, path), 'utf8')) as T;

interface Property {
  readonly type: string;
  readonly default: unknown;
  readonly enum?: readonly string[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly scope?: string;
}
interface Manifest {
  readonly main: string;
  readonly engines: { readonly vscode: string };
  readonly extensionKind: readonly string[];
  readonly activationEvents: readonly string[];
  readonly icon: string;
  readonly scripts: Record<string, string>;
  readonly devDependencies: Record<string, string>;
  readonly capabilities: { readonly untrustedWorkspaces: { readonly supported: string; readonly description: string; readonly restrictedConfigurations: readonly string[] } };
  readonly contributes: {
    readonly languages: readonly { readonly id: string; readonly aliases: readonly string[]; readonly extensions: readonly string[]; readonly configuration: string }[];
    readonly grammars: readonly { readonly language: string; readonly scopeName: string; readonly path: string }[];
    readonly snippets: readonly { readonly language: string; readonly path: string }[];
    readonly commands: readonly { readonly command: string; readonly title: string; readonly category: string }[];
    readonly configuration: { readonly properties: Record<string, Property> };
  };
}

const manifest = json<Manifest>('package.json');

test('manifest: entry point, engine, extension kind, activation only on npas files and the commands', () => {
  assert.equal(manifest.main, './dist/extension.js');
  assert.equal(manifest.engines.vscode, '^1.138.0');
  // The engine may not ask for a VS Code newer than the one the tests run in (1.139.1), and
  // vsce refuses an @types/vscode newer than the engine.
  const [, major, minor] = /^\^(\d+)\.(\d+)\./.exec(manifest.engines.vscode) ?? [];
  assert.ok(Number(major) === 1 && Number(minor) <= 139);
  assert.equal(manifest.devDependencies['@types/vscode'], '^1.138.0');
  assert.deepEqual(manifest.extensionKind, ['workspace']);
  // The dashboard's panel serializer needs its own event so a restored panel revives even before a spec is opened.
  assert.deepEqual(manifest.activationEvents, ['onLanguage:npas', ...COMMAND_IDS.map((id) => `onCommand:${id}`), 'onWebviewPanel:npas.dashboard']);
  assert.equal(manifest.scripts['vscode:prepublish'], 'node esbuild.mjs --production');
  assert.equal(manifest.icon, 'media/icon.png');
});

test('manifest: untrusted workspaces are limited, and the probe settings are restricted', () => {
  const u = manifest.capabilities.untrustedWorkspaces;
  assert.equal(u.supported, 'limited');
  assert.ok(u.description.length > 20);
  assert.deepEqual([...u.restrictedConfigurations].sort(), ['npas.probe.provider', 'npas.probe.providerPath']);
});

test('manifest: exactly the command ids the extension registers, each titled under "NPAS"', () => {
  assert.deepEqual(
    manifest.contributes.commands.map((c) => c.command),
    [...COMMAND_IDS],
  );
  for (const c of manifest.contributes.commands) {
    assert.equal(c.category, 'NPAS', c.command);
    assert.ok(c.title.length > 0, c.command);
  }
});

test('manifest: the npas language, its grammar, configuration and snippets', () => {
  const [language] = manifest.contributes.languages;
  assert.deepEqual(language, { id: 'npas', aliases: ['NPAS', 'npas'], extensions: ['.npas'], configuration: './language-configuration.json' });
  assert.deepEqual(manifest.contributes.grammars, [{ language: 'npas', scopeName: 'source.npas', path: './syntaxes/npas.tmLanguage.json' }]);
  assert.deepEqual(manifest.contributes.snippets, [{ language: 'npas', path: './snippets/npas.json' }]);
  assert.equal(json<{ scopeName: string }>('syntaxes/npas.tmLanguage.json').scopeName, 'source.npas');
});

test('settings: the manifest, the validator and the core agree on names, defaults and values', () => {
  const props = manifest.contributes.configuration.properties;
  const rules = [...Object.values(ANALYSIS_RULES), ...Object.values(PROBE_RULES)];
  assert.deepEqual(Object.keys(props).sort(), rules.map((r) => r.id).sort());
  for (const rule of rules) assert.deepEqual(props[rule.id]?.default, rule.fallback, rule.id);
  assert.deepEqual(props['npas.analysis.dtype']?.enum, [...DTYPES]);
  assert.deepEqual(props['npas.analysis.device']?.enum, [...DEVICES]);
  assert.deepEqual(props['npas.probe.provider']?.enum, [...PROBE_PROVIDERS]);
  assert.equal(props['npas.analysis.sequenceLength']?.type, 'integer');
  assert.equal(props['npas.analysis.sequenceLength']?.minimum, 1);
  assert.equal(props['npas.analysis.batchSize']?.minimum, 1);
  assert.equal(props['npas.analysis.sequenceLength']?.maximum, MAX_COUNT_SETTING);
  assert.equal(props['npas.analysis.batchSize']?.maximum, MAX_COUNT_SETTING);
  assert.equal(props['npas.probe.providerPath']?.scope, 'machine-overridable');
  assert.equal(props['npas.probe.provider']?.scope, 'machine-overridable');
  // The core's lists and defaults (what `npas budget` uses): the lists are the core's own tables.
  assert.deepEqual([...DTYPES], DTYPE_NAMES);
  assert.deepEqual([...DEVICES], CORE_DEVICES.map((d) => d.name));
  assert.equal(ANALYSIS_RULES.sequenceLength.fallback, DEFAULT_OPTIONS.seq);
  assert.equal(ANALYSIS_RULES.batchSize.fallback, DEFAULT_OPTIONS.batch);
  assert.equal(ANALYSIS_RULES.dtype.fallback, DEFAULT_OPTIONS.dtype);
  assert.equal(ANALYSIS_RULES.device.fallback, DEFAULT_OPTIONS.device);
});

test('settings: a bad value gives the default and a message naming the setting; a good or unset one passes quietly', () => {
  const seq = ANALYSIS_RULES.sequenceLength;
  for (const bad of [0, -1, 1.5, '4096', null, Number.NaN, 2 ** 30 + 1, 2 ** 60, [4096]]) {
    const r = checkSetting(seq, bad);
    assert.equal(r.value, 4096, String(bad));
    assert.match(r.problem ?? '', /^Setting npas\.analysis\.sequenceLength is .+, which is not an integer from 1 to 1073741824; using the default 4096\.$/);
  }
  assert.deepEqual(checkSetting(seq, 8192), { value: 8192 });
  assert.deepEqual(checkSetting(seq, 2 ** 30), { value: 2 ** 30 });
  assert.deepEqual(checkSetting(seq, undefined), { value: 4096 });
  assert.equal(checkSetting(ANALYSIS_RULES.dtype, 'bfloat16').value, 'bf16');
  assert.match(checkSetting(ANALYSIS_RULES.dtype, 'bfloat16').problem ?? '', /"bfloat16", which is not one of fp32, tf32, bf16, fp16, fp8, int8, int4, mxfp4, nvfp4/);
  // A device name goes to the language server, which knows the devices file's devices too (and any case).
  assert.deepEqual(checkSetting(ANALYSIS_RULES.device, 'MyChip'), { value: 'MyChip' });
  assert.equal(checkSetting(ANALYSIS_RULES.device, 42).value, 'H100');
  assert.equal(checkSetting(ANALYSIS_RULES.device, '').value, 'H100');
  assert.deepEqual(checkSetting(ANALYSIS_RULES.weightsDtypeByPath, { embed: 'int8', 'body[3].attn': 'fp8' }), { value: { embed: 'int8', 'body[3].attn': 'fp8' } });
  assert.deepEqual(checkSetting(ANALYSIS_RULES.weightsDtypeByPath, { embed: 'int3' }).value, {});
  assert.deepEqual(checkSetting(ANALYSIS_RULES.weightsDtypeByPath, ['embed']).value, {});
  assert.deepEqual(checkSetting(ANALYSIS_RULES.device, 'L4'), { value: 'L4' });
  assert.equal(checkSetting(PROBE_RULES.provider, 'rocm').value, 'cuda');
  assert.equal(checkSetting(PROBE_RULES.providerPath, 42).value, '');
  assert.deepEqual(checkSetting(PROBE_RULES.providerPath, '/opt/ort'), { value: '/opt/ort' });
});

// --- grammar ---------------------------------------------------------------------------------

type Rule = { match?: string; name?: string; patterns?: Rule[] };
const grammar = json<{ repository: Record<string, Rule> }>('syntaxes/npas.tmLanguage.json');

/** The words of `\b(a|b|c)\b` alternations in every rule whose scope name starts with a prefix. */
function wordsIn(rule: Rule): string[] {
  const out: string[] = [];
  const visit = (r: Rule): void => {
    const m = r.match && /\\b\(([A-Za-z0-9_|]+)\)\\b/.exec(r.match);
    if (m) out.push(...m[1]!.split('|'));
    for (const p of r.patterns ?? []) visit(p);
  };
  visit(rule);
  return out;
}

test('grammar: every keyword of the scanner, and only those, is a keyword or language constant', () => {
  assert.deepEqual(wordsIn(grammar.repository['keyword']!).sort(), [...KEYWORDS].sort());
});

test('grammar: the layer kinds are exactly the registry\'s, scoped support.class', () => {
  const rule = grammar.repository['layer-kind']!;
  assert.match(rule.name ?? '', /^support\.class\./);
  assert.deepEqual(wordsIn(rule).sort(), [...LAYER_KINDS.keys()].sort());
});

test('grammar: numbers with every suffix the scanner accepts, and no other', () => {
  const source = grammar.repository['number']!.match!;
  const suffixes = /\)\(([A-Za-z|]+)\)\?/.exec(source)?.[1]?.split('|') ?? [];
  assert.deepEqual([...suffixes].sort(), [...WRITTEN_SUFFIXES].sort());
  // Oniguruma and JavaScript agree on this pattern's syntax (lookbehind included).
  const re = new RegExp(source, 'g');
  const numbers = (text: string): string[] => [...text.matchAll(re)].map((m) => m[0]);
  assert.deepEqual(numbers('vocab = 256_000; p <= 1.7B; kv(seq: 8Ki) <= 128MiB; t < 40ms; eps = 1e-5'), ['256_000', '1.7B', '8Ki', '128MiB', '40ms', '1e-5']);
  assert.deepEqual(numbers('[f(i) for i in 0..18]'), ['0', '18']);
  assert.deepEqual(numbers('x1 = d2 + 8Kx'), []);
  // Longest suffix first: `MiB` is one suffix, not `Mi` then a stray `B`.
  assert.deepEqual([...'4MiB 4Mi 4M'.matchAll(re)].map((m) => m[2] ?? ''), ['MiB', 'Mi', 'M']);
});

test('grammar: comments, strings, declarations and bindings', () => {
  const r = grammar.repository;
  const first = (rule: Rule, text: string): RegExpExecArray | null => new RegExp(rule.match ?? (rule.patterns ?? []).map((p) => p.match).find((m) => m && new RegExp(m).test(text)) ?? '$^').exec(text);
  assert.equal(new RegExp(r['comment']!.match!).exec('d = 4  # width {')?.[0], '# width {');
  assert.deepEqual(first(r['declaration']!, 'variant Small of Base {')?.slice(1), ['variant', 'Small', 'of', 'Base']);
  assert.deepEqual(first(r['declaration']!, 'model Gemma2B(L = 18) {')?.slice(1), ['model', 'Gemma2B']);
  assert.deepEqual(first(r['declaration']!, 'budget Gemma2B {')?.slice(1), ['budget', 'Gemma2B']);
  assert.deepEqual(new RegExp(r['binding']!.match!).exec('  attn = Attention(d, 8)')?.slice(1), ['attn', '=']);
  assert.equal(new RegExp(r['binding']!.match!).exec('  a == b'), null);
});

// --- language configuration ------------------------------------------------------------------

test('language configuration: # comments, bracket pairs, auto-closing, indentation after an opener', () => {
  const c = json<{
    comments: { lineComment: string };
    brackets: string[][];
    autoClosingPairs: { open: string; close: string }[];
    indentationRules: { increaseIndentPattern: string; decreaseIndentPattern: string };
  }>('language-configuration.json');
  assert.equal(c.comments.lineComment, '#');
  assert.deepEqual(c.brackets, [['{', '}'], ['[', ']'], ['(', ')']]);
  assert.deepEqual(
    c.autoClosingPairs.map((p) => p.open + p.close),
    ['{}', '[]', '()', '""'],
  );
  const increase = new RegExp(c.indentationRules.increaseIndentPattern);
  const decrease = new RegExp(c.indentationRules.decreaseIndentPattern);
  for (const line of ['model Gemma {', '  block Decoder(window = none) {', '  mlp = GatedMLP(d,', '  xs = [', 'variant V of M {  # comment']) assert.ok(increase.test(line), line);
  for (const line of ['  d = 4 # {', '  x = "{"', '}', '  attn = Attention(d, 8)']) assert.ok(!increase.test(line), line);
  for (const line of ['}', '  )', '  ]']) assert.ok(decrease.test(line), line);
  assert.ok(!decrease.test('  d = 4'));
});

// --- snippets --------------------------------------------------------------------------------

interface Snippet {
  readonly prefix: string;
  readonly body: readonly string[];
}

/** A snippet's text with every placeholder at its default and every choice at its first option. */
function expand(body: readonly string[]): string {
  let text = body.join('\n').replace(/\t/g, '  ');
  // Innermost first, until no placeholder is left: ${1:a ${2:b}} → ${1:a b} → a b.
  for (let i = 0; i < 10; i++) {
    text = text.replace(/\$\{\d+:([^${}]*)\}/g, '$1').replace(/\$\{\d+\|([^,|]*)[^|]*\|\}/g, '$1');
  }
  return text.replace(/\$\d+/g, '');
}

/** Where each snippet goes: a host spec around it that the snippet's names resolve in. */
const HOSTS: Record<string, (s: string) => string> = {
  model: (s) => s,
  block: (s) => `${s}\nmodel M {\n  d = 64\n  x = Linear(d, d)\n}`,
  variant: (s) => `model Base {\n  d = 64\n  x = Linear(d, d)\n}\n${s}`,
  budget: (s) => `model Model {\n  d = 64\n  x = Attention(d, heads: 4)\n}\n${s}`,
  decoder: (s) => `model M {\n  d = 1024\n${s}\n  body = Decoder * 2\n}`,
  moe: (s) => `model M {\n  d = 1024\n${s}\n  body = MoEDecoder * 2\n}`,
};
const inStack = (s: string): string =>
  `model M {\n  d = 256\n  block Decoder {\n    attn = Attention(d, heads: 4)\n    mlp = GatedMLP(d, 1024)\n  }\n  body = Decoder * 4\n  ${s}\n}`;

test('snippets: each one, expanded with its defaults, is a spec the engine analyses without an error', () => {
  const snippets = json<Record<string, Snippet>>('snippets/npas.json');
  const prefixes = Object.values(snippets).map((s) => s.prefix);
  for (const expected of ['model', 'block', 'variant', 'budget', 'decoder', 'moe', 'share', 'share kv', 'adapt']) assert.ok(prefixes.includes(expected), expected);
  for (const [name, snippet] of Object.entries(snippets)) {
    const host = HOSTS[snippet.prefix] ?? inStack;
    const spec = host(expand(snippet.body));
    const result = analyze(spec);
    const errors = result.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code}: ${d.message}`);
    assert.deepEqual(errors, [], `${name}:\n${spec}`);
    assert.ok(result.models.length >= 1, name);
  }
});

test('settings: one dtype per tensor class, as the CLI and the engine name them', () => {
  const props = manifest.contributes.configuration.properties;
  for (const c of PRECISION_CLASSES) {
    const id = `npas.analysis.${PRECISION_SETTING_KEYS[c]}`;
    assert.equal(id, `npas.analysis.${c}Dtype`);
    assert.equal(props[id]?.default, 'default', id);
    assert.deepEqual(props[id]?.enum, ['default', ...DTYPES, ...(c === 'master' ? ['none'] : [])], id);
  }
  assert.deepEqual(checkSetting(ANALYSIS_RULES.expertsDtype, 'mxfp4'), { value: 'mxfp4' });
  assert.equal(checkSetting(ANALYSIS_RULES.expertsDtype, 'none').value, 'default');
  assert.deepEqual(checkSetting(ANALYSIS_RULES.masterDtype, 'none'), { value: 'none' });
  assert.deepEqual(precisionFromSettings({ experts: 'mxfp4', kv: 'default', master: 'none' }), { experts: 'mxfp4', master: 'none' });
});
