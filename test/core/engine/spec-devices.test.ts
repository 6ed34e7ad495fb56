// Devices declared in a spec: `Chip = Device(…)` with the fields of a devices JSON file, checked
// by the same rules; the constant's name is the device's. Expected seconds are bytes or FLOPs
// over the declared rates, written out.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../../src/core/index.js';

const CHIP = 'MyChip = Device(fp32: 25T, bf16: 100T, fp16: 100T, int8: 400T, bandwidth: 2T, memory: 16GB, source: "made up for the test")';
// Att = Attention(64, heads: 4): 16,384 weights; at seq 1,000 its KV holds 2·64·1,000 elements.
const MODEL = 'model Att { att = Attention(64, heads: 4) }';

test('a declared device is named by the settings and by budgets; its peaks and bandwidth set the roofline', () => {
  const r = analyze(`${CHIP}\n${MODEL}\nbudget Att { latency.decode(device: MyChip) <= 1us }\n`, { seq: 1000, device: 'MyChip' });
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
  const m = r.models[0]!;
  assert.equal(m.latency.device, 'MyChip');
  // Decode: (32,768 + 256,000) bf16 bytes at 2 TB/s; its 2·16,384 + 2·4·64·1,000 FLOPs at 100 TFLOP/s take less.
  assert.equal(m.latency.decode.seconds, 288_768 / 2e12);
  assert.equal(m.latency.decode.bound, 'memory');
  // Prefill of 1,000 tokens: 2·16,384·1,000 weight FLOPs + 4·64·500,500 attention FLOPs (causal) at 100 TFLOP/s.
  assert.equal(m.latency.prefill.flops, 2n * 16_384n * 1_000n + 4n * 64n * 500_500n);
  assert.equal(m.latency.prefill.seconds, Number(m.latency.prefill.flops) / 100e12);
  assert.equal(m.budgets[0]!.ok, true);
  // int8 compute runs at the declared int8 peak.
  const int8 = analyze(`${CHIP}\n${MODEL}\n`, { seq: 1000, device: 'MyChip', precision: { compute: 'int8' } }).models[0]!;
  assert.equal(int8.latency.prefill.seconds, Number(int8.latency.prefill.flops) / 400e12);
});

test('a device missing a required field, with an unknown argument or a builtin\'s name is a located npas-device error', () => {
  for (const [decl, at] of [
    ['X = Device(fp32: 25T, bf16: 100T, bandwidth: 2T, memory: 16GB, source: "s")', '('],
    ['X = Device(fp32: 25T, bf16: 100T, fp16: 100T, fp7: 1T, bandwidth: 2T, memory: 16GB, source: "s")', 'fp7'],
    ['X = Device(fp32: 25T, bf16: 100T, fp16: 100T, bandwidth: 2T, memory: 16GB)', '('],
    ['X = Device(fp32: 25T, bf16: 100T, fp16: 100T, bandwidth: -2T, memory: 16GB, source: "s")', '-2T'],
    ['H100 = Device(fp32: 25T, bf16: 100T, fp16: 100T, bandwidth: 2T, memory: 16GB, source: "s")', 'H100'],
  ] as const) {
    const text = `${decl}\n${MODEL}\n`;
    const errors = analyze(text).diagnostics.filter((d) => d.severity === 'error');
    assert.ok(errors.length >= 1, decl);
    assert.ok(errors.every((d) => d.code === 'npas-device'), `${decl}: ${errors.map((d) => d.code).join()}`);
    assert.ok(text.slice(errors[0]!.range.start, errors[0]!.range.end).includes(at), `${decl}: at ${text.slice(errors[0]!.range.start, errors[0]!.range.end)}`);
  }
  // A name that no builtin, devices file or declaration has is still refused as a setting.
  const unknown = analyze(`${MODEL}\n`, { device: 'MyChip' });
  assert.match(unknown.diagnostics.map((d) => d.message).join('\n'), /the analysis setting device must be one of H100/);
});
