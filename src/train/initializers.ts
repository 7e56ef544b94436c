/**
 * Initializers: objects that make a variable's initial value for a shape and dtype when the graph is built, so
 * every fresh Session starts from the same values. Names and config objects follow tf.initializers (tfjs); the
 * variance-scaling family follows TensorFlow 1.x (a truncated normal is rescaled so its standard deviation is
 * exactly sqrt(scale / fan)).
 *
 * Seeds: an initializer with a seed draws the same numbers wherever it is used (as TF1 op seeds do); one without a
 * seed takes the variable's full name as its seed, so a graph rebuilt the same way starts from the same values
 * while differently named variables start from different ones.
 */
import {
  allocate,
  checkValueSize,
  DType,
  DTypeError,
  GraphError,
  isDType,
  NDArray,
  ShapeError,
  sizeOf,
  VariableInitializer,
} from '../graph';
import { fillRandomNormal, fillRandomUniform, Seed } from '../ops';

/** A truncated normal (cut at two standard deviations) has this standard deviation per unit of its parameter. */
const TRUNCATED_NORMAL_STDDEV = 0.8796256610342398;

/** The base of every initializer: checks the shape and dtype, then fills a fresh NDArray. */
export abstract class Initializer implements VariableInitializer {
  readonly kind = 'initializer' as const;
  /** The tfjs name of the initializer (e.g. 'glorotUniform'). */
  abstract readonly className: string;

  /**
   * The initial value for `shape` (every dim known). `name` (a variable's name) seeds an initializer built
   * without a seed.
   *
   * @example initializers.heNormal({ seed: 3 }).apply([784, 128]) // an NDArray
   */
  apply(shape: readonly number[], dtype: DType = 'float32', name = ''): NDArray {
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new ShapeError(
        `${this.className}: invalid shape ${JSON.stringify(shape)}; give a list of non-negative integers`,
      );
    }
    if (!isDType(dtype)) {
      throw new DTypeError(`${this.className}: unknown dtype '${String(dtype)}'; valid: float32, float64, int32, bool`);
    }
    checkValueSize(this.className, shape, dtype);
    const out = new NDArray(allocate(dtype, sizeOf(shape)), shape, dtype);
    this.fill(out, name);
    return out;
  }

  protected abstract fill(out: NDArray, name: string): void;
}

function requireFloat(className: string, out: NDArray): void {
  if (out.dtype !== 'float32' && out.dtype !== 'float64') {
    throw new DTypeError(`${className}: draws real numbers, so the dtype must be float32 or float64, got ${out.dtype}`);
  }
}

function requireNumber(className: string, what: string, value: unknown, check: (v: number) => boolean, valid: string) {
  if (typeof value !== 'number' || !Number.isFinite(value) || !check(value)) {
    throw new GraphError(`${className}: ${what} must be ${valid}, got ${JSON.stringify(value)}`);
  }
}

function requireSeed(className: string, seed: unknown): void {
  const valid = seed === undefined || typeof seed === 'string' || (typeof seed === 'number' && Number.isFinite(seed));
  if (!valid) throw new GraphError(`${className}: seed must be a finite number or a string, got ${String(seed)}`);
}

/** The seed of the stream an initializer draws from: its own, or (unseeded) the variable's name. */
function seedFor(seed: Seed | undefined, name: string): Seed {
  return seed ?? `initializer:${name}`;
}

class Constant extends Initializer {
  constructor(
    readonly className: string,
    readonly value: number,
  ) {
    super();
    requireNumber(className, 'value', value, () => true, 'a finite number');
  }

  protected fill(out: NDArray): void {
    // fill converts as element assignment does: int32 truncates, bool stores value !== 0.
    out.data.fill(
      out.dtype === 'bool' ? Number(this.value !== 0) : out.dtype === 'int32' ? Math.trunc(this.value) : this.value,
    );
  }
}

/** Options of randomNormal and truncatedNormal (tfjs defaults: mean 0, stddev 0.05). */
export interface RandomNormalArgs {
  mean?: number;
  stddev?: number;
  seed?: Seed;
}

class Normal extends Initializer {
  readonly mean: number;
  readonly stddev: number;
  readonly seed: Seed | undefined;

  constructor(
    readonly className: string,
    private readonly truncated: boolean,
    args: RandomNormalArgs,
  ) {
    super();
    this.mean = args.mean ?? 0;
    this.stddev = args.stddev ?? 0.05;
    this.seed = args.seed;
    requireNumber(className, 'mean', this.mean, () => true, 'a finite number');
    requireNumber(className, 'stddev', this.stddev, (v) => v >= 0, 'a finite number >= 0');
    requireSeed(className, this.seed);
  }

  protected fill(out: NDArray, name: string): void {
    requireFloat(this.className, out);
    fillRandomNormal(out, seedFor(this.seed, name), this.mean, this.stddev, this.truncated);
  }
}

/** Options of randomUniform (tfjs defaults: [-0.05, 0.05)). */
export interface RandomUniformArgs {
  minval?: number;
  maxval?: number;
  seed?: Seed;
}

class Uniform extends Initializer {
  readonly className = 'randomUniform';
  readonly minval: number;
  readonly maxval: number;
  readonly seed: Seed | undefined;

  constructor(args: RandomUniformArgs) {
    super();
    this.minval = args.minval ?? -0.05;
    this.maxval = args.maxval ?? 0.05;
    this.seed = args.seed;
    requireNumber(this.className, 'minval', this.minval, () => true, 'a finite number');
    requireNumber(this.className, 'maxval', this.maxval, (v) => v > this.minval, `a finite number > minval`);
    requireSeed(this.className, this.seed);
  }

  protected fill(out: NDArray, name: string): void {
    requireFloat(this.className, out);
    fillRandomUniform(out, seedFor(this.seed, name), this.minval, this.maxval);
  }
}

/** Which fan the variance is divided by. */
export type FanMode = 'fanIn' | 'fanOut' | 'fanAvg';
/** 'normal' is the truncated normal (as in TF and tfjs); 'untruncatedNormal' the plain one. */
export type Distribution = 'normal' | 'truncatedNormal' | 'untruncatedNormal' | 'uniform';

/** Options of varianceScaling (defaults as tfjs: scale 1, fanIn, normal). */
export interface VarianceScalingArgs {
  scale?: number;
  mode?: FanMode;
  distribution?: Distribution;
  seed?: Seed;
}

/** Options of the named variance-scaling initializers (glorot, he, leCun): only a seed. */
export interface SeedOnlyArgs {
  seed?: Seed;
}

/**
 * A weight's fan-in and fan-out as Keras and tfjs compute them (channels last): a matrix [in, out] has fans in and
 * out; a vector or scalar uses its size for both; a convolution kernel [...spatial, in, out] multiplies both by
 * its receptive field (the product of the spatial dims).
 *
 * @example computeFans([3, 3, 16, 32]) // { fanIn: 144, fanOut: 288 }
 */
export function computeFans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0], fanOut: shape[0] };
  const receptiveField = sizeOf(shape.slice(0, -2));
  return { fanIn: shape[shape.length - 2] * receptiveField, fanOut: shape[shape.length - 1] * receptiveField };
}

class VarianceScaling extends Initializer {
  readonly scale: number;
  readonly mode: FanMode;
  readonly distribution: Distribution;
  readonly seed: Seed | undefined;

  constructor(
    readonly className: string,
    args: VarianceScalingArgs,
  ) {
    super();
    this.scale = args.scale ?? 1;
    this.mode = args.mode ?? 'fanIn';
    this.distribution = args.distribution ?? 'normal';
    this.seed = args.seed;
    requireNumber(className, 'scale', this.scale, (v) => v > 0, 'a finite number > 0');
    if (!['fanIn', 'fanOut', 'fanAvg'].includes(this.mode)) {
      throw new GraphError(`${className}: mode must be 'fanIn', 'fanOut' or 'fanAvg', got ${String(this.mode)}`);
    }
    if (!['normal', 'truncatedNormal', 'untruncatedNormal', 'uniform'].includes(this.distribution)) {
      throw new GraphError(
        `${className}: distribution must be 'normal', 'truncatedNormal', 'untruncatedNormal' or 'uniform', ` +
          `got ${String(this.distribution)}`,
      );
    }
    requireSeed(className, this.seed);
  }

  protected fill(out: NDArray, name: string): void {
    requireFloat(this.className, out);
    const { fanIn, fanOut } = computeFans(out.shape);
    const fan = this.mode === 'fanIn' ? fanIn : this.mode === 'fanOut' ? fanOut : (fanIn + fanOut) / 2;
    // A zero fan (a size-0 dim) leaves nothing to draw; max(1, fan) as Keras does keeps the scale finite.
    const variance = this.scale / Math.max(1, fan);
    const seed = seedFor(this.seed, name);
    if (this.distribution === 'uniform') {
      const limit = Math.sqrt(3 * variance);
      fillRandomUniform(out, seed, -limit, limit);
    } else if (this.distribution === 'untruncatedNormal') {
      fillRandomNormal(out, seed, 0, Math.sqrt(variance), false);
    } else {
      fillRandomNormal(out, seed, 0, Math.sqrt(variance) / TRUNCATED_NORMAL_STDDEV, true);
    }
  }
}

/**
 * Fills with zeros.
 * @example g.variable('b', initializers.zeros(), { shape: [128] })
 */
export function zeros(): Initializer {
  return new Constant('zeros', 0);
}

/**
 * Fills with ones.
 * @example g.variable('gamma', initializers.ones(), { shape: [128] })
 */
export function ones(): Initializer {
  return new Constant('ones', 1);
}

/**
 * Fills with one value.
 * @example g.variable('b', initializers.constant({ value: 0.1 }), { shape: [128] })
 */
export function constant(args: { value: number }): Initializer {
  return new Constant('constant', args?.value);
}

/**
 * Draws from a normal distribution (defaults: mean 0, stddev 0.05).
 * @example initializers.randomNormal({ stddev: 0.01, seed: 1 })
 */
export function randomNormal(args: RandomNormalArgs = {}): Initializer {
  return new Normal('randomNormal', false, args);
}

/**
 * Draws from a normal distribution, redrawing values more than two standard deviations from the mean.
 * @example initializers.truncatedNormal({ stddev: 0.1, seed: 1 })
 */
export function truncatedNormal(args: RandomNormalArgs = {}): Initializer {
  return new Normal('truncatedNormal', true, args);
}

/**
 * Draws uniformly from [minval, maxval) (defaults: [-0.05, 0.05)).
 * @example initializers.randomUniform({ minval: -1, maxval: 1, seed: 1 })
 */
export function randomUniform(args: RandomUniformArgs = {}): Initializer {
  return new Uniform(args);
}

/**
 * Variance scaling: variance scale / fan, drawn as the distribution says.
 * @example initializers.varianceScaling({ scale: 2, mode: 'fanIn', distribution: 'uniform', seed: 1 })
 */
export function varianceScaling(args: VarianceScalingArgs = {}): Initializer {
  return new VarianceScaling('varianceScaling', args);
}

/**
 * Glorot (Xavier) uniform: U(−limit, limit) with limit = sqrt(6 / (fanIn + fanOut)).
 * @example initializers.glorotUniform({ seed: 1 })
 */
export function glorotUniform(args: SeedOnlyArgs = {}): Initializer {
  return new VarianceScaling('glorotUniform', { scale: 1, mode: 'fanAvg', distribution: 'uniform', seed: args.seed });
}

/**
 * Glorot (Xavier) normal: truncated normal with standard deviation sqrt(2 / (fanIn + fanOut)).
 * @example initializers.glorotNormal({ seed: 1 })
 */
export function glorotNormal(args: SeedOnlyArgs = {}): Initializer {
  return new VarianceScaling('glorotNormal', { scale: 1, mode: 'fanAvg', distribution: 'normal', seed: args.seed });
}

/**
 * He (Kaiming) normal: truncated normal with standard deviation sqrt(2 / fanIn).
 * @example initializers.heNormal({ seed: 1 })
 */
export function heNormal(args: SeedOnlyArgs = {}): Initializer {
  return new VarianceScaling('heNormal', { scale: 2, mode: 'fanIn', distribution: 'normal', seed: args.seed });
}

/**
 * He (Kaiming) uniform: U(−limit, limit) with limit = sqrt(6 / fanIn).
 * @example initializers.heUniform({ seed: 1 })
 */
export function heUniform(args: SeedOnlyArgs = {}): Initializer {
  return new VarianceScaling('heUniform', { scale: 2, mode: 'fanIn', distribution: 'uniform', seed: args.seed });
}

/**
 * LeCun normal: truncated normal with standard deviation sqrt(1 / fanIn).
 * @example initializers.leCunNormal({ seed: 1 })
 */
export function leCunNormal(args: SeedOnlyArgs = {}): Initializer {
  return new VarianceScaling('leCunNormal', { scale: 1, mode: 'fanIn', distribution: 'normal', seed: args.seed });
}

/**
 * LeCun uniform: U(−limit, limit) with limit = sqrt(3 / fanIn).
 * @example initializers.leCunUniform({ seed: 1 })
 */
export function leCunUniform(args: SeedOnlyArgs = {}): Initializer {
  return new VarianceScaling('leCunUniform', { scale: 1, mode: 'fanIn', distribution: 'uniform', seed: args.seed });
}
