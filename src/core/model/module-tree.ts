// The evaluated architecture: layers, block instances and stacks, hash-consed so that equal
// instances are one object. `Decoder * 10000` is one stack with a single run pointing at one
// block node; index-dependent stacks are runs of shared nodes. Every analysis over this tree is
// memoised per node, which is what makes repeated structure cost O(distinct structures).

import type { ArgValue, LayerCost } from '../layers/layer-kind.js';
import type { TextRange } from '../syntax/syntax-tree.js';

interface NodeBase {
  /** Interned structural identity: equal ids ⇔ identical structure and arguments. */
  readonly id: number;
  /** Interned identity of the weight shapes only (what tying requires to match). */
  readonly weightSignature: number;
  /** Where the node was written (the call or stack expression). */
  readonly range: TextRange;
}

export interface LayerNode extends NodeBase {
  readonly kind: 'layer';
  /** The layer kind name, e.g. `Attention`. */
  readonly layerKind: string;
  readonly cost: LayerCost;
  /**
   * Every argument as the kind's `build` received it: the written ones, checked and converted,
   * over the kind's defaults (`undefined` for `none`). Consumers (the exporter) read these typed
   * values, never `argsText`.
   */
  readonly args: ReadonlyMap<string, ArgValue>;
  /** The written arguments, rendered for hovers and the report (`heads: 8, kv_heads: 1`): display only. */
  readonly argsText: string;
}

export interface BlockMember {
  readonly name: string;
  readonly node: ModuleNode;
  /** The binding's range in the block declaration. */
  readonly range: TextRange;
  /** Name of the sibling whose main weight this member's main weight is tied to (`tied x`). */
  readonly tiedTo: string | undefined;
}

export interface BlockNode extends NodeBase {
  readonly kind: 'block';
  readonly blockName: string;
  readonly members: readonly BlockMember[];
  /** The block declaration's range (for go-to-definition). */
  readonly declarationRange: TextRange;
}

/**
 * `count` consecutive identical instances. A bigint: nested repeats multiply past 2⁵³
 * (`(RMSNorm(1) * 999999999) * 999999999`), and a plain stack is counted exactly at any length;
 * only the declarations that address instances by index need them below 2⁵³ (`indexable-stack.ts`).
 */
export interface StackRun {
  readonly node: ModuleNode;
  readonly count: bigint;
}

export interface StackNode extends NodeBase {
  readonly kind: 'stack';
  readonly runs: readonly StackRun[];
  /** Number of instances (Σ run counts), after flattening nested stacks. */
  readonly length: bigint;
}

export type ModuleNode = LayerNode | BlockNode | StackNode;

/** A top-level member of a model: a module with its name and binding range. */
export interface ModelMember {
  readonly name: string;
  readonly node: ModuleNode;
  readonly range: TextRange;
  /** `tied` target path text, resolved by the sharing stage. */
  readonly tiedTo: import('../syntax/syntax-tree.js').Path | undefined;
}
