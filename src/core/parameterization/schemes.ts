// The parameterisations as data: for each scheme and each class of weight, how its
// initialisation std, Adam learning rate, forward (output) multiplier, residual branch scale and
// weight decay change from a tuned base model to a target, as powers of the width ratio
// m_N = width / base_width and the depth ratio m_L = depth / base_depth. A base model's value
// times the factor is the target's value. Sources (docs/parameterization.md has the full tables):
// - sp: Tensor Programs V (Yang et al. 2022), Table 3's standard parametrisation: init variance
//   1/fan_in, one learning rate for every weight.
// - mup: Tensor Programs V, μP for Adam in the form of microsoft/mup and nanoGPT-mup (hidden
//   init variance 1/fan_in, hidden Adam LR 1/fan_in, readout multiplied by 1/m_N, input and
//   output weights' LR unchanged — Table 3's 1/fan_in output rate moved into the multiplier by
//   the abc-symmetry).
// - depth_mup: Tensor Programs VI (Yang et al. 2023), residual branches × m_L^{-1/2} and Adam LR
//   × m_L^{-1/2} inside them: CompleteP's family at α = 1/2.
// - completep: CompleteP (Dey et al. 2025, Table 1 and EleutherAI/nanoGPT-mup@completep): branches
//   × m_L^{-α} (α = 1), hidden Adam LR × m_N^{-1}·m_L^{α-1}, hidden norms and biases
//   × m_L^{α-1}, hidden AdamW weight decay × m_N (so that LR × decay keeps its width scaling).
// - u_mup: u-μP (Blake et al. 2024, graphcore-research/unit-scaling `optim.py`): every weight
//   initialised at std 1; hidden ops × 1/√fan_in, the readout × 1/fan_in; Adam LR × 1/√fan_in
//   for matrices (the embedding's fan_in is its width) and × depth^{-1/2} inside residual
//   branches; weight decay independent of the LR (divided by the LR factor); residual branches
//   weighted by Appendix G's τ_ℓ = 1/√(D/2 + ℓ), whose first value scales as m_L^{-1/2}.
// All hidden widths are taken to grow with m_N (a 4·d MLP, heads × head_dim, experts' widths).

/** A factor m_N^width · m_L^depth, exponents as exact fractions `num/den`. */
export interface Scaling {
  readonly width: Exponent;
  readonly depth: Exponent;
}

export interface Exponent {
  readonly num: number;
  readonly den: number;
}

/**
 * Where a weight sits for the width limit (Tensor Programs V's classes, by which of its
 * dimensions grow with width):
 * - `input`: fan_in fixed, fan_out grows — embedding and position tables, a first projection;
 * - `hidden`: both grow — every matrix inside a residual block (MoE experts included);
 * - `output`: fan_out fixed — the readout, and routers (their fan_out is the expert count);
 * - `hidden_vector`: norm scales and biases inside residual blocks;
 * - `vector`: norm scales and biases outside them (a final norm).
 */
export type WeightClass = 'input' | 'hidden' | 'output' | 'hidden_vector' | 'vector';

export const WEIGHT_CLASSES: readonly WeightClass[] = ['input', 'hidden', 'output', 'hidden_vector', 'vector'];

/** How weight decay moves: scaled by a factor, or not applied (norm scales and biases). */
export type DecayRule = { readonly kind: 'scaled'; readonly factor: Scaling } | { readonly kind: 'none' };

export interface ClassRule {
  /** Undefined for norm scales and biases, which start at 1 and 0 whatever the scheme. */
  readonly initStd: Scaling | undefined;
  readonly lr: Scaling;
  /** The multiplier applied to the weight's output in the forward pass. */
  readonly output: Scaling;
  readonly weightDecay: DecayRule;
}

export type SchemeName = 'sp' | 'mup' | 'depth_mup' | 'completep' | 'u_mup';

export interface Scheme {
  readonly name: SchemeName;
  /** One line for hovers, completion and docs. */
  readonly doc: string;
  /** Whether `alpha` (the depth exponent) may be given, and its default. */
  readonly alpha: Exponent | undefined;
  /** The rule of each class, given the depth exponent α (schemes without depth ignore it). */
  rules(alpha: Exponent): Readonly<Record<WeightClass, ClassRule>>;
  /** The residual branch multiplier of blocks in a stack. */
  residual(alpha: Exponent): Scaling;
}

const f = (num: number, den = 1): Exponent => ({ num, den });
const s = (width: Exponent, depth: Exponent = f(0)): Scaling => ({ width, depth });
const ONE: Scaling = s(f(0));
const NO_DECAY: DecayRule = { kind: 'none' };
const decay = (factor: Scaling): DecayRule => ({ kind: 'scaled', factor });
const minus = (e: Exponent): Exponent => ({ num: -e.num, den: e.den });
/** α − 1 as an exact fraction. */
const alphaMinusOne = (a: Exponent): Exponent => ({ num: a.num - a.den, den: a.den });
const vectorRule = (lr: Scaling): ClassRule => ({ initStd: undefined, lr, output: ONE, weightDecay: NO_DECAY });

/** μP's width rules with CompleteP's depth rules at exponent α (α = 0: plain μP). */
function depthMupRules(alpha: Exponent, decayHidden: boolean): Record<WeightClass, ClassRule> {
  const inBranch = alphaMinusOne(alpha);
  return {
    input: { initStd: ONE, lr: ONE, output: ONE, weightDecay: decay(ONE) },
    hidden: { initStd: s(f(-1, 2)), lr: s(f(-1), inBranch), output: ONE, weightDecay: decay(decayHidden ? s(f(1)) : ONE) },
    output: { initStd: ONE, lr: ONE, output: s(f(-1)), weightDecay: decay(ONE) },
    hidden_vector: vectorRule(s(f(0), inBranch)),
    vector: vectorRule(ONE),
  };
}

export const SCHEMES: readonly Scheme[] = [
  {
    name: 'sp',
    doc: 'Standard parametrisation (Tensor Programs V): init variance 1/fan_in, one learning rate for every weight, no multipliers.',
    alpha: undefined,
    rules: () => ({
      input: { initStd: ONE, lr: ONE, output: ONE, weightDecay: decay(ONE) },
      hidden: { initStd: s(f(-1, 2)), lr: ONE, output: ONE, weightDecay: decay(ONE) },
      output: { initStd: s(f(-1, 2)), lr: ONE, output: ONE, weightDecay: decay(ONE) },
      hidden_vector: vectorRule(ONE),
      vector: vectorRule(ONE),
    }),
    residual: () => ONE,
  },
  {
    name: 'mup',
    doc: 'μP (Tensor Programs V, Adam): hidden init std × m_N^-1/2 and LR × 1/m_N, readout × 1/m_N; input and output LR unchanged.',
    alpha: undefined,
    rules: () => depthMupRules(f(1), false),
    residual: () => ONE,
  },
  {
    name: 'depth_mup',
    doc: 'Depth-μP (Tensor Programs VI): μP plus residual branches × m_L^-1/2 and LR inside them × m_L^-1/2 (CompleteP\'s family at α = 1/2).',
    alpha: undefined,
    rules: () => depthMupRules(f(1, 2), true),
    residual: () => s(f(0), f(-1, 2)),
  },
  {
    name: 'completep',
    doc: 'CompleteP (Dey et al. 2025): μP plus residual branches × m_L^-α (α = 1), hidden LR × m_N^-1·m_L^(α-1), hidden weight decay × m_N.',
    alpha: f(1),
    rules: (alpha) => depthMupRules(alpha, true),
    residual: (alpha) => s(f(0), minus(alpha)),
  },
  {
    name: 'u_mup',
    doc: 'u-μP (Blake et al. 2024): unit init (std 1), hidden ops × 1/√fan_in, readout × 1/fan_in, LR × 1/√fan_in and × depth^-1/2 in residual branches, weight decay independent of the LR.',
    alpha: undefined,
    rules: () => {
      const hiddenLr = s(f(-1, 2), f(-1, 2));
      const inputLr = s(f(-1, 2));
      return {
        input: { initStd: ONE, lr: inputLr, output: ONE, weightDecay: decay(inverse(inputLr)) },
        hidden: { initStd: ONE, lr: hiddenLr, output: s(f(-1, 2)), weightDecay: decay(inverse(hiddenLr)) },
        output: { initStd: ONE, lr: ONE, output: s(f(-1)), weightDecay: decay(ONE) },
        hidden_vector: vectorRule(s(f(0), f(-1, 2))),
        vector: vectorRule(ONE),
      };
    },
    residual: () => s(f(0), f(-1, 2)),
  },
];

function inverse(x: Scaling): Scaling {
  return { width: minus(x.width), depth: minus(x.depth) };
}

export function findScheme(name: string): Scheme | undefined {
  return SCHEMES.find((x) => x.name === name);
}

/** The factor's value for given ratios (floating point: the exponents may be fractional). */
export function scalingValue(x: Scaling, widthRatio: number, depthRatio: number): number {
  return Math.pow(widthRatio, x.width.num / x.width.den) * Math.pow(depthRatio, x.depth.num / x.depth.den);
}

/** `m_N^-1/2·m_L^-1`, or `1` for the identity. */
export function formatScaling(x: Scaling): string {
  const parts: string[] = [];
  if (x.width.num !== 0) parts.push(`m_N${powerText(x.width)}`);
  if (x.depth.num !== 0) parts.push(`m_L${powerText(x.depth)}`);
  return parts.length === 0 ? '1' : parts.join('·');
}

function powerText(e: Exponent): string {
  const g = gcd(Math.abs(e.num), e.den);
  const num = e.num / g;
  const den = e.den / g;
  if (num === 1 && den === 1) return '';
  return den === 1 ? `^${num}` : `^${num}/${den}`;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
