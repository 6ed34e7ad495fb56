// Where onnxruntime-node and its execution provider libraries are. ORT loads a provider
// (libonnxruntime_providers_cuda.so + libonnxruntime_providers_shared.so) from the folder of
// libonnxruntime.so.1, and the provider must match the core library's version exactly
// (../shared/gpu/README.md). With `npas.probe.providerPath` set, the parent builds a shadow copy
// of the onnxruntime-node package whose bin folder links the real core library and binding
// next to the provider libraries of that folder, and the probe host loads ORT from there.

import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, cpSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const PROVIDER_LIBS: Record<string, string[]> = {
  linux: ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'],
  win32: ['onnxruntime_providers_shared.dll', 'onnxruntime_providers_cuda.dll'],
};

/**
 * How to install the CUDA provider, in words for any front end: each adds its own way to probe on
 * the CPU instead (the CLI's `--ep cpu`, the editor's `npas.probe.provider`).
 */
export const CUDA_INSTALL_HINT =
  'The CUDA execution provider of onnxruntime-node is not installed. On a machine with network access run ' +
  '`ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install` in the folder that holds node_modules ' +
  '(onnxruntime-node 1.29.0; the provider must match it exactly; npm 11 skips dependency install scripts, so `npm rebuild` does not run it), ' +
  'or set `npas.probe.providerPath` (CLI: --provider-path DIR) to a folder holding libonnxruntime_providers_shared.so and ' +
  'libonnxruntime_providers_cuda.so built for ONNX Runtime 1.29.0.';

/** The onnxruntime-node package folder as Node resolves it from here (NODE_PATH included). */
export function ortPackageDir(): string | undefined {
  try {
    return dirname(require.resolve('onnxruntime-node/package.json'));
  } catch {
    return undefined;
  }
}

export function binDir(pkg: string): string {
  return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

/** Whether the CUDA provider libraries sit in `dir`. */
export function hasCudaProvider(dir: string): boolean {
  const libs = PROVIDER_LIBS[process.platform];
  return !!libs && libs.every((l) => existsSync(join(dir, l)));
}

/**
 * A shadow onnxruntime-node package using the provider libraries of `providerPath`; returns
 * the package folder to require. Rebuilt when missing; keyed by both folders.
 */
export function shadowPackage(pkg: string, providerPath: string): string {
  const key = createHash('sha256').update(`${pkg}\0${providerPath}`).digest('hex').slice(0, 12);
  const out = join(tmpdir(), `npas-ort-${key}`);
  const bin = binDir(out);
  if (existsSync(join(bin, '.ok'))) return out;
  rmSync(out, { recursive: true, force: true });
  mkdirSync(bin, { recursive: true });
  cpSync(join(pkg, 'package.json'), join(out, 'package.json'));
  cpSync(join(pkg, 'dist'), join(out, 'dist'), { recursive: true });
  // onnxruntime-node's dist requires onnxruntime-common: link the one next to the real package.
  const common = join(dirname(pkg), 'onnxruntime-common');
  if (existsSync(common)) {
    mkdirSync(join(out, 'node_modules'), { recursive: true });
    symlinkSync(common, join(out, 'node_modules', 'onnxruntime-common'));
  }
  for (const f of readdirSync(binDir(pkg))) symlinkSync(join(binDir(pkg), f), join(bin, f));
  for (const f of readdirSync(providerPath)) if (!existsSync(join(bin, f))) symlinkSync(join(providerPath, f), join(bin, f));
  mkdirSync(join(bin, '.ok'));
  return out;
}
