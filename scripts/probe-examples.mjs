// Probes every model and variant of every bundled example with `npas probe --json` (CPU provider by
// default) and prints a Markdown table: measured prefill and decode beside the engine's roofline,
// or why a model was not measured (the memory pre-check, an export refusal, a timeout). This is
// how docs/performance.md's CPU table is made; run it after `npm run build`.
//
// usage: node scripts/probe-examples.mjs [--ep cpu|cuda] [--seq S] [--batch B] [--runs N]
//                                        [--timeout SECONDS] [--only REGEX] [--json-dir DIR]
// Each model runs in its own CLI process (which forks the probe host) under a wall-clock limit, so
// one model that hangs or crashes ONNX Runtime is reported and the next one runs.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';

const root = new URL('..', import.meta.url).pathname;
const cli = join(root, 'dist', 'cli.js');
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const ep = flag('ep', 'cpu');
const seq = flag('seq', '32');
const batch = flag('batch', '1');
const runs = flag('runs', '5');
const limitS = Number(flag('timeout', '240'));
const only = flag('only', undefined);
const jsonDir = flag('json-dir', undefined);
if (jsonDir) mkdirSync(jsonDir, { recursive: true });

function modelsOf(file) {
  const r = spawnSync(process.execPath, [cli, 'budget', file, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const parsed = JSON.parse(r.stdout);
  return (parsed.models ?? parsed).map((m) => m.name);
}

const ms = (x, digits = 1) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '—');
const short = (s) => String(s).replace(/\s+/g, ' ').replace(/\|/g, '/').slice(0, 160);
/** The gist of why a decode step was not measured: the message without its prefix, layer path and detail. */
const whyNoDecode = (text = 'not built') => short(text.replace(/^not measured: /, '').replace(/^[\w.[\]]+: /, '').split(/: | \(/)[0]);
const rows = [];
const started = Date.now();
for (const name of readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.npas')).sort()) {
  const file = join('examples', name);
  for (const model of modelsOf(join(root, file))) {
    if (only && !new RegExp(only).test(`${name} ${model}`)) continue;
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [cli, 'probe', file, '--model', model, '--ep', ep, '--seq', seq, '--batch', batch, '--runs', runs, '--warmup', '1', '--json', '--timeout', String(limitS - 5)], {
      cwd: root,
      encoding: 'utf8',
      timeout: limitS * 1000,
      maxBuffer: 64 << 20,
    });
    const wall = (Date.now() - t0) / 1000;
    let result;
    try {
      result = JSON.parse(r.stdout);
    } catch {
      result = undefined;
    }
    if (jsonDir && result) writeFileSync(join(jsonDir, `${model}.json`), JSON.stringify(result, null, 2));
    const what = `${name.replace('.npas', '')} · ${model}`;
    if (!result || result.error) {
      const why = result?.error ? `${result.error.kind}: ${result.error.message}` : r.error?.code === 'ETIMEDOUT' ? `timed out after ${limitS} s` : (r.stderr || `exit ${r.status}`).trim().split('\n').pop();
      // The memory pre-check's message is long; its two numbers say it.
      const memory = /needs about ([\d.]+ GiB).*?but ([\d.]+ GiB) is available/.exec(why);
      rows.push(`| ${what} | — | not measured | ${memory ? `memory: needs ~${memory[1]}, ${memory[2]} available` : short(why)} | | | | |`);
    } else {
      const p = result.prefill;
      const d = result.decode && !('unavailable' in result.decode) ? result.decode : undefined;
      const decodeText = d ? `${ms(d.medianMs)} (roofline ${ms(d.roofline.seconds * 1e3, 2)})` : `— (${whyNoDecode(result.decode?.unavailable)})`;
      rows.push(`| ${what} | ${BigInt(result.storedParams).toLocaleString('en-US')} | ${ms(result.sessionCreateMs / 1000)} s | ${ms(p.medianMs)} (min ${ms(p.minMs)}) | ${ms(p.roofline.seconds * 1e3, 2)} | ${ms(p.achievedFlopsPerSecond / 1e9, 0)} | ${decodeText} | ${result.fallback ? 'CPU FALLBACK' : result.provider} |`);
    }
    process.stderr.write(`${what}: ${wall.toFixed(1)} s\n`);
  }
}
console.log(`${ep.toUpperCase()} probes: seq ${seq}, batch ${batch}, median of ${runs} runs after 1 warm-up; ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB; ${((Date.now() - started) / 60000).toFixed(1)} min in all.\n`);
console.log('| example · model | params.stored | session | prefill ms | roofline prefill ms | achieved GFLOP/s (engine count) | decode step ms | provider |');
console.log('|---|---|---|---|---|---|---|---|');
for (const row of rows) console.log(row);
