// Runtime values of constant evaluation. Modules (layers, blocks, stacks) are values too, so
// `Decoder * 18` and `Dense + MoE * 26` are ordinary arithmetic on module values.

import type { DeviceProfile } from '../analysis/devices.js';
import type { LayerKind } from '../layers/layer-kind.js';
import type { ModuleNode } from '../model/module-tree.js';
import type { Rational } from '../numbers/rational.js';
import type { Unit } from '../numbers/units.js';
import type { BlockDeclaration } from '../syntax/syntax-tree.js';
import type { Scope } from './scope.js';

export type Value =
  | { readonly kind: 'number'; readonly value: Rational; readonly unit: Unit }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'none' }
  /** A builtin enumeration value written as a bare name: `bf16`, `gelu`, `H100`, `rms`. */
  | { readonly kind: 'symbol'; readonly name: string }
  | { readonly kind: 'list'; readonly items: readonly Value[] }
  | { readonly kind: 'module'; readonly node: ModuleNode }
  /** A block not yet instantiated: `Decoder` alone, or the callee of `Decoder(...)`. */
  | { readonly kind: 'block'; readonly decl: BlockDeclaration; readonly scope: Scope }
  | { readonly kind: 'layerKind'; readonly layer: LayerKind }
  | { readonly kind: 'builtin'; readonly name: BuiltinFunction }
  /** A device declared in the spec (`Chip = Device(bf16: 989T, …)`, device-value.ts); its name is the constant's. */
  | { readonly kind: 'device'; readonly profile: DeviceProfile }
  /** Poison: an error was already reported for this value; consumers stay silent. */
  | { readonly kind: 'error' };

export type BuiltinFunction = 'min' | 'max' | 'ceil' | 'floor' | 'round' | 'abs' | 'Device';

export const BUILTIN_FUNCTIONS: readonly BuiltinFunction[] = ['min', 'max', 'ceil', 'floor', 'round', 'abs', 'Device'];

export const ERROR_VALUE: Value = { kind: 'error' };

/** A short human description of a value's type for error messages. */
export function describeValue(v: Value): string {
  switch (v.kind) {
    case 'number':
      return v.unit === 'count' ? 'a number' : v.unit === 'bytes' ? 'a size in bytes' : 'a duration';
    case 'bool':
      return 'a boolean';
    case 'string':
      return 'a string';
    case 'none':
      return 'none';
    case 'symbol':
      return `the name '${v.name}'`;
    case 'list':
      return 'a list';
    case 'module':
      return v.node.kind === 'stack' ? 'a stack of modules' : v.node.kind === 'block' ? `a ${v.node.blockName} block` : `a ${v.node.layerKind} layer`;
    case 'block':
      return `the block ${v.decl.name.text}`;
    case 'layerKind':
      return `the layer kind ${v.layer.name}`;
    case 'builtin':
      return `the function ${v.name}`;
    case 'device':
      return 'a device';
    case 'error':
      return 'an invalid value';
  }
}
