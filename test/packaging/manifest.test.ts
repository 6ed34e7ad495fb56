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
import { DEFAULT_ANALYSIS_SETTINGS, DEVICES, DTYPES, MAX_COUNT_SETTING, PROBE_PROVIDERS, PROBE_RULES, checkSetting } from '../../src/extension/settings-schema.js';
import { checkAnalysisSettings, sharedPrefixOf, type SettingsContext } from '../../src/core/analysis/analysis-settings.js';
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
  const defaults: Record<string, unknown> = {
    ...Object.fromEntries(Object.entries(DEFAULT_ANALYSIS_SETTINGS).map(([k, v]) => [`npas.analysis.${k}`, v])),
    ...Object.fromEntries(Object.values(PROBE_RULES).map((r) => [r.id, r.fallback])),
  };
  assert.deepEqual(Object.keys(props).sort(), Object.keys(defaults).sort());
  for (const [id, fallback] of Object.entries(defaults)) assert.deepEqual(props[id]?.default, fallback, id);
  assert.deepEqual(props['npas.analysis.dtype']?.enum, [...DTYPES]);
  assert.deepEqual(props['npas.analysis.device']?.enum, [...DEVICES]);
  assert.deepEqual(props['npas.probe.provider']?.enum, [...PROBE_PROVIDERS]);
  assert.equal(props['npas.analysis.sequenceLength']?.type, 'integer');
  assert.equal(props['npas.analysis.sequenceLength']?.minimum, 1);
  assert.equal(props['npas.analysis.batchSize']?.minimum, 1);
  assert.equal(props['npas.analysis.sequenceLength']?.maximum, MAX_COUNT_SETTING);
  assert.equal(props['npas.analysis.batchSize']?.maximum, MAX_COUNT_SETTING);
  assert.deepEqual([props['npas.analysis.sharedPrefixTokens']?.minimum, props['npas.analysis.sharedPrefixTokens']?.maximum], [0, MAX_COUNT_SETTING]);
  assert.deepEqual([props['npas.analysis.continuations']?.minimum, props['npas.analysis.continuations']?.maximum], [1, MAX_COUNT_SETTING]);
  assert.equal(props['npas.probe.providerPath']?.scope, 'machine-overridable');
  assert.equal(props['npas.probe.provider']?.scope, 'machine-overridable');
  // The core's lists and defaults (what `npas budget` uses): the lists are the core's own tables.
  assert.deepEqual([...DTYPES], DTYPE_NAMES);
  assert.deepEqual([...DEVICES], CORE_DEVICES.map((d) => d.name));
  assert.deepEqual(
    [DEFAULT_ANALYSIS_SETTINGS.sequenceLength, DEFAULT_ANALYSIS_SETTINGS.batchSize, DEFAULT_ANALYSIS_SETTINGS.dtype, DEFAULT_ANALYSIS_SETTINGS.device],
    [DEFAULT_OPTIONS.seq, DEFAULT_OPTIONS.batch, DEFAULT_OPTIONS.dtype, DEFAULT_OPTIONS.device],
  );
});

// The one check the extension and the language server both run (core/analysis/analysis-settings.ts);
// the extension has not read the devices file, the server has (test/server/push-and-settings.test.ts).
const EXTENSION: SettingsContext = { fileDevices: 'not read' };
const one = (key: string, value: unknown, context = EXTENSION): { value: unknown; problems: string[] } => {
  const r = checkAnalysisSettings({ [key]: value }, context);
  return { value: (r.values as unknown as Record<string, unknown>)[key], problems: r.problems.map((p) => p.message) };
};

test('settings: a bad value gives the default and a message naming the setting; a good or unset one passes quietly', () => {
  for (const bad of [0, -1, 1.5, '1.5', '10%', 'lots', Number.NaN, 2 ** 30 + 1, 2 ** 60, [4096]]) {
    const r = one('sequenceLength', bad);
    assert.equal(r.value, 4096, String(bad));
    assert.equal(r.problems.length, 1, String(bad));
    assert.match(r.problems[0]!, /^npas\.analysis\.sequenceLength: .+ is not an integer from 1 to 1073741824; using the default 4096$/);
  }
  // A size may be written with a magnitude (8Ki = 8 × 1024, 8K = 8 × 1000), as in specs and flags.
  assert.deepEqual(one('sequenceLength', 8192), { value: 8192, problems: [] });
  assert.deepEqual(one('sequenceLength', '8Ki'), { value: 8192, problems: [] });
  assert.deepEqual(one('batchSize', '8K'), { value: 8000, problems: [] });
  assert.deepEqual(one('sequenceLength', 2 ** 30), { value: 2 ** 30, problems: [] });
  // Unset (undefined, or null from a client) is the default, quietly.
  assert.deepEqual(one('sequenceLength', undefined), { value: 4096, problems: [] });
  assert.deepEqual(one('sequenceLength', null), { value: 4096, problems: [] });
  assert.deepEqual(one('dtype', 'bfloat16'), { value: 'bf16', problems: ['npas.analysis.dtype: "bfloat16" is not one of fp32, tf32, bf16, fp16, fp8, int8, int4, mxfp4, nvfp4; using the default bf16'] });
  // A builtin device in any case, named as the table names it; without a devices file nothing else.
  assert.deepEqual(one('device', 'l4'), { value: 'L4', problems: [] });
  assert.deepEqual(one('device', 'MyChip'), { value: 'H100', problems: ['npas.analysis.device: "MyChip" is not one of H100, H200, H20, B200, A100, A100-40GB, L40S, L4, RTX4090, MI300X, M2Ultra, M4Max, CPU; using the default H100'] });
  // With a devices file the extension has not read, a device name of its shape goes to the server, which checks it.
  const withFile = (device: unknown): unknown => checkAnalysisSettings({ device, devicesFile: '/d.json' }, EXTENSION);
  assert.deepEqual(withFile('MyChip'), { values: { ...DEFAULT_ANALYSIS_SETTINGS, device: 'MyChip', devicesFile: '/d.json' }, problems: [] });
  assert.deepEqual((withFile(42) as { problems: { message: string }[] }).problems.map((p) => p.message), [
    'npas.analysis.device: 42 is not one of H100, H200, H20, B200, A100, A100-40GB, L40S, L4, RTX4090, MI300X, M2Ultra, M4Max, CPU or a device of npas.analysis.devicesFile; using the default H100',
  ]);
  assert.equal(one('device', '').value, 'H100');
  // Per-path dtypes: each bad entry dropped and reported on its own, the others kept.
  assert.deepEqual(one('weightsDtypeByPath', { embed: 'int8', 'body[3].attn': 'fp8' }), { value: { embed: 'int8', 'body[3].attn': 'fp8' }, problems: [] });
  assert.deepEqual(one('weightsDtypeByPath', { embed: 'int3', lm_head: 'fp8', 'a b': 'fp8' }), {
    value: { lm_head: 'fp8' },
    problems: [
      'npas.analysis.weightsDtypeByPath.embed: "int3" is not one of fp32, tf32, bf16, fp16, fp8, int8, int4, mxfp4, nvfp4 under a path (body.attn, body[3].mlp, lm_head); the entry is ignored',
      'npas.analysis.weightsDtypeByPath.a b: "fp8" is not one of fp32, tf32, bf16, fp16, fp8, int8, int4, mxfp4, nvfp4 under a path (body.attn, body[3].mlp, lm_head); the entry is ignored',
    ],
  });
  assert.deepEqual(one('weightsDtypeByPath', ['embed']).value, {});
  assert.deepEqual(one('masterDtype', 'none'), { value: 'none', problems: [] });
  assert.deepEqual(one('kvDtype', 'none').problems, ['npas.analysis.kvDtype: "none" is not one of default, fp32, tf32, bf16, fp16, fp8, int8, int4, mxfp4, nvfp4; using the default default']);
  // A shared prompt: 0 is none; its tokens must leave each continuation one (checked against the
  // sequence length), and there is at least one continuation.
  assert.deepEqual(one('sharedPrefixTokens', '1Ki'), { value: 1024, problems: [] });
  assert.deepEqual(one('continuations', 0), { value: 2, problems: ['npas.analysis.continuations: 0 is not an integer from 1 to 1073741824; using the default 2'] });
  assert.deepEqual(one('continuations', 2.5).problems, ['npas.analysis.continuations: 2.5 is not an integer from 1 to 1073741824; using the default 2']);
  assert.deepEqual(one('sharedPrefixTokens', -1).problems, ['npas.analysis.sharedPrefixTokens: -1 is not an integer from 0 (no shared prompt) to 1073741824; using the default 0']);
  assert.deepEqual(one('sharedPrefixTokens', 4096), {
    value: 0,
    problems: ['npas.analysis.sharedPrefixTokens: 4096 is not below npas.analysis.sequenceLength (4096): each continuation needs a token of its own; using the default 0 (no shared prompt)'],
  });
  const shared = checkAnalysisSettings({ sequenceLength: 1000, sharedPrefixTokens: 999, continuations: 4 }, EXTENSION);
  assert.deepEqual([shared.values.sharedPrefixTokens, shared.values.continuations, shared.problems], [999, 4, []]);
  assert.deepEqual(sharedPrefixOf(shared.values), { tokens: 999, continuations: 4 });
  assert.equal(sharedPrefixOf(DEFAULT_ANALYSIS_SETTINGS), undefined);
  // The probe's settings, in the same words.
  assert.deepEqual(checkSetting(PROBE_RULES.provider, 'rocm'), { value: 'cuda', problem: 'npas.probe.provider: "rocm" is not one of cuda, cpu; using the default cuda' });
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
  assert.deepEqual(one('expertsDtype', 'mxfp4'), { value: 'mxfp4', problems: [] });
  assert.equal(one('expertsDtype', 'none').value, 'default');
  assert.deepEqual(one('masterDtype', 'none'), { value: 'none', problems: [] });
  assert.deepEqual(precisionFromSettings({ experts: 'mxfp4', kv: 'default', master: 'none' }), { experts: 'mxfp4', master: 'none' });
});
